namespace Kvmfs.Emulator.Cpu;

/// <summary>Storage slots in <see cref="CpuState.Sys"/>. Names are the architectural ones.</summary>
public enum SysReg
{
    // Identification (read-only, values set at reset).
    MIDR_EL1, MPIDR_EL1, REVIDR_EL1, AIDR_EL1, CTR_EL0, DCZID_EL0, CLIDR_EL1, CCSIDR_EL1, CSSELR_EL1,
    ID_AA64PFR0_EL1, ID_AA64PFR1_EL1, ID_AA64DFR0_EL1, ID_AA64DFR1_EL1, ID_AA64AFR0_EL1, ID_AA64AFR1_EL1,
    ID_AA64ISAR0_EL1, ID_AA64ISAR1_EL1, ID_AA64ISAR2_EL1, ID_AA64MMFR0_EL1, ID_AA64MMFR1_EL1, ID_AA64MMFR2_EL1,
    ID_AA64ZFR0_EL1,
    // EL1 / EL0 context.
    SCTLR_EL1, ACTLR_EL1, CPACR_EL1, TTBR0_EL1, TTBR1_EL1, TCR_EL1, AFSR0_EL1, AFSR1_EL1, ESR_EL1, FAR_EL1,
    PAR_EL1, MAIR_EL1, AMAIR_EL1, VBAR_EL1, CONTEXTIDR_EL1, TPIDR_EL1, TPIDR_EL0, TPIDRRO_EL0,
    SPSR_EL1, ELR_EL1, CNTKCTL_EL1, CNTFRQ_EL0, CNTP_CTL_EL0, CNTP_CVAL_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0,
    MDSCR_EL1, OSLSR_EL1, OSDLR_EL1, MDCCINT_EL1, DBGPRCR_EL1, DBGCLAIM, 
    DBGBVR0_EL1, DBGBVR1_EL1, DBGBVR2_EL1, DBGBVR3_EL1, DBGBVR4_EL1, DBGBVR5_EL1,
    DBGBCR0_EL1, DBGBCR1_EL1, DBGBCR2_EL1, DBGBCR3_EL1, DBGBCR4_EL1, DBGBCR5_EL1,
    DBGWVR0_EL1, DBGWVR1_EL1, DBGWVR2_EL1, DBGWVR3_EL1,
    DBGWCR0_EL1, DBGWCR1_EL1, DBGWCR2_EL1, DBGWCR3_EL1,
    // EL2.
    HCR_EL2, SCTLR_EL2, ACTLR_EL2, MDCR_EL2, CPTR_EL2, HSTR_EL2, HACR_EL2, TTBR0_EL2, TCR_EL2, VTTBR_EL2,
    VTCR_EL2, ESR_EL2, FAR_EL2, HPFAR_EL2, MAIR_EL2, AMAIR_EL2, VBAR_EL2, TPIDR_EL2, VPIDR_EL2, VMPIDR_EL2,
    CNTHCTL_EL2, CNTVOFF_EL2, SPSR_EL2, ELR_EL2, AFSR0_EL2, AFSR1_EL2, CNTHP_CTL_EL2, CNTHP_CVAL_EL2,
    // GICv3 CPU interface (Gic/GicCpuInterface.cs). IAR/EOIR/HPPIR/DIR/RPR/SGI and VTR/MISR/EISR/ELRSR are
    // computed; their slots only name them.
    ICC_PMR_EL1, ICC_IAR0_EL1, ICC_IAR1_EL1, ICC_EOIR0_EL1, ICC_EOIR1_EL1, ICC_HPPIR0_EL1, ICC_HPPIR1_EL1,
    ICC_BPR0_EL1, ICC_BPR1_EL1, ICC_DIR_EL1, ICC_RPR_EL1, ICC_SGI0R_EL1, ICC_SGI1R_EL1, ICC_ASGI1R_EL1,
    ICC_CTLR_EL1, ICC_SRE_EL1, ICC_SRE_EL2, ICC_IGRPEN0_EL1, ICC_IGRPEN1_EL1, ICC_AP0R0_EL1, ICC_AP1R0_EL1,
    ICH_HCR_EL2, ICH_VTR_EL2, ICH_VMCR_EL2, ICH_MISR_EL2, ICH_EISR_EL2, ICH_ELRSR_EL2, ICH_AP0R0_EL2, ICH_AP1R0_EL2,
    ICH_LR0_EL2, ICH_LR1_EL2, ICH_LR2_EL2, ICH_LR3_EL2,
    Count
}

/// <summary>How a system register is reached (beyond plain storage) and who may access it.</summary>
[Flags]
public enum SysRegFlags
{
    None = 0,
    /// <summary>Accessible from EL0 (reads and writes unless ReadOnly).</summary>
    El0 = 1,
    /// <summary>Only EL2 and above.</summary>
    El2 = 2,
    ReadOnly = 4,
    WriteOnly = 8,
    /// <summary>Value computed or side effects: handled in <see cref="ArmCpu"/>'s special cases.</summary>
    Special = 16,
    /// <summary>Trapped to EL2 by HCR_EL2.TID3 (ID group 3) when read from EL1.</summary>
    Tid3 = 32,
    /// <summary>Trapped to EL2 by HCR_EL2.TVM (writes) / TRVM (reads) from EL1: the virtual memory controls.</summary>
    Tvm = 64,
    /// <summary>Trapped to EL2 by HCR_EL2.TID2 (cache identification).</summary>
    Tid2 = 128,
    /// <summary>Trapped to EL2 by HCR_EL2.TID1 (AIDR/REVIDR).</summary>
    Tid1 = 256,
    /// <summary>A debug register: trapped by MDCR_EL2.TDA.</summary>
    Debug = 512,
    /// <summary>Writes from EL1 to this register invalidate translations (SCTLR/TTBR/TCR): end the block, flush.</summary>
    Translation = 1024,
    /// <summary>Read-as-zero, writes ignored (not stored).</summary>
    Raz = 2048,
    /// <summary>A GICv3 CPU interface register: reads and writes go through <see cref="Gic.GicCpuInterface"/>.</summary>
    Gic = 4096,
}

/// <summary>One row of the system register table.</summary>
public readonly record struct SysRegInfo(string Name, uint Encoding, SysReg Slot, SysRegFlags Flags);

/// <summary>
/// The system register table: one line per register encoding (op0, op1, CRn, CRm, op2), declarative.
/// <see cref="Encode"/> packs the five fields exactly as KVM's ARM64_SYS_REG() index does
/// (op0&lt;&lt;14 | op1&lt;&lt;11 | CRn&lt;&lt;7 | CRm&lt;&lt;3 | op2), which is also bits 20:5 of MRS/MSR.
/// </summary>
public static class SysRegTable
{
    public static uint Encode(uint op0, uint op1, uint crn, uint crm, uint op2) => op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2;

    /// <summary>Encodings that are not in <see cref="SysReg"/> storage (value computed in Cpu).</summary>
    public static class Enc
    {
        public static readonly uint NZCV = Encode(3, 3, 4, 2, 0), DAIF = Encode(3, 3, 4, 2, 1), FPCR = Encode(3, 3, 4, 4, 0),
            FPSR = Encode(3, 3, 4, 4, 1), CurrentEL = Encode(3, 0, 4, 2, 2), SPSel = Encode(3, 0, 4, 2, 0),
            SP_EL0 = Encode(3, 0, 4, 1, 0), SP_EL1 = Encode(3, 4, 4, 1, 0), PAN = Encode(3, 0, 4, 2, 3),
            UAO = Encode(3, 0, 4, 2, 4), DIT = Encode(3, 3, 4, 2, 5), CNTPCT_EL0 = Encode(3, 3, 14, 0, 1),
            CNTVCT_EL0 = Encode(3, 3, 14, 0, 2), CNTP_TVAL_EL0 = Encode(3, 3, 14, 2, 0), CNTV_TVAL_EL0 = Encode(3, 3, 14, 3, 0),
            ISR_EL1 = Encode(3, 0, 12, 1, 0), OSLAR_EL1 = Encode(2, 0, 1, 0, 4);
    }

    static readonly Dictionary<uint, SysRegInfo> byEncoding = new();
    static readonly Dictionary<string, SysRegInfo> byName = new(StringComparer.OrdinalIgnoreCase);
    static readonly List<SysRegInfo> all = new();

    public static IReadOnlyList<SysRegInfo> All => all;

    static void R(string name, uint op0, uint op1, uint crn, uint crm, uint op2, SysReg slot, SysRegFlags flags = SysRegFlags.None)
    {
        var info = new SysRegInfo(name, Encode(op0, op1, crn, crm, op2), slot, flags);
        byEncoding[info.Encoding] = info;
        byName[name] = info;
        all.Add(info);
    }

    static SysRegTable()
    {
        const SysRegFlags Ro = SysRegFlags.ReadOnly, Id = SysRegFlags.ReadOnly | SysRegFlags.Tid3, E0 = SysRegFlags.El0,
            E2 = SysRegFlags.El2, Sp = SysRegFlags.Special, Vm = SysRegFlags.Tvm, Dbg = SysRegFlags.Debug, Tr = SysRegFlags.Translation;
        // Identification.
        R("MIDR_EL1", 3, 0, 0, 0, 0, SysReg.MIDR_EL1, Ro);
        R("MPIDR_EL1", 3, 0, 0, 0, 5, SysReg.MPIDR_EL1, Ro);
        R("REVIDR_EL1", 3, 0, 0, 0, 6, SysReg.REVIDR_EL1, Ro | SysRegFlags.Tid1);
        R("AIDR_EL1", 3, 1, 0, 0, 7, SysReg.AIDR_EL1, Ro | SysRegFlags.Tid1);
        R("CTR_EL0", 3, 3, 0, 0, 1, SysReg.CTR_EL0, Ro | SysRegFlags.Tid2 | Sp);
        R("DCZID_EL0", 3, 3, 0, 0, 7, SysReg.DCZID_EL0, Ro | E0);
        R("CLIDR_EL1", 3, 1, 0, 0, 1, SysReg.CLIDR_EL1, Ro | SysRegFlags.Tid2);
        R("CCSIDR_EL1", 3, 1, 0, 0, 0, SysReg.CCSIDR_EL1, Ro | SysRegFlags.Tid2);
        R("CSSELR_EL1", 3, 2, 0, 0, 0, SysReg.CSSELR_EL1, SysRegFlags.Tid2);
        R("ID_AA64PFR0_EL1", 3, 0, 0, 4, 0, SysReg.ID_AA64PFR0_EL1, Id);
        R("ID_AA64PFR1_EL1", 3, 0, 0, 4, 1, SysReg.ID_AA64PFR1_EL1, Id);
        R("ID_AA64ZFR0_EL1", 3, 0, 0, 4, 4, SysReg.ID_AA64ZFR0_EL1, Id);
        R("ID_AA64DFR0_EL1", 3, 0, 0, 5, 0, SysReg.ID_AA64DFR0_EL1, Id);
        R("ID_AA64DFR1_EL1", 3, 0, 0, 5, 1, SysReg.ID_AA64DFR1_EL1, Id);
        R("ID_AA64AFR0_EL1", 3, 0, 0, 5, 4, SysReg.ID_AA64AFR0_EL1, Id);
        R("ID_AA64AFR1_EL1", 3, 0, 0, 5, 5, SysReg.ID_AA64AFR1_EL1, Id);
        R("ID_AA64ISAR0_EL1", 3, 0, 0, 6, 0, SysReg.ID_AA64ISAR0_EL1, Id);
        R("ID_AA64ISAR1_EL1", 3, 0, 0, 6, 1, SysReg.ID_AA64ISAR1_EL1, Id);
        R("ID_AA64ISAR2_EL1", 3, 0, 0, 6, 2, SysReg.ID_AA64ISAR2_EL1, Id);
        R("ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0, SysReg.ID_AA64MMFR0_EL1, Id);
        R("ID_AA64MMFR1_EL1", 3, 0, 0, 7, 1, SysReg.ID_AA64MMFR1_EL1, Id);
        R("ID_AA64MMFR2_EL1", 3, 0, 0, 7, 2, SysReg.ID_AA64MMFR2_EL1, Id);
        // EL1 translation and exception state.
        R("SCTLR_EL1", 3, 0, 1, 0, 0, SysReg.SCTLR_EL1, Vm | Tr);
        R("ACTLR_EL1", 3, 0, 1, 0, 1, SysReg.ACTLR_EL1);
        R("CPACR_EL1", 3, 0, 1, 0, 2, SysReg.CPACR_EL1, Tr);
        R("TTBR0_EL1", 3, 0, 2, 0, 0, SysReg.TTBR0_EL1, Vm | Tr);
        R("TTBR1_EL1", 3, 0, 2, 0, 1, SysReg.TTBR1_EL1, Vm | Tr);
        R("TCR_EL1", 3, 0, 2, 0, 2, SysReg.TCR_EL1, Vm | Tr);
        R("SPSR_EL1", 3, 0, 4, 0, 0, SysReg.SPSR_EL1);
        R("ELR_EL1", 3, 0, 4, 0, 1, SysReg.ELR_EL1);
        R("AFSR0_EL1", 3, 0, 5, 1, 0, SysReg.AFSR0_EL1, Vm);
        R("AFSR1_EL1", 3, 0, 5, 1, 1, SysReg.AFSR1_EL1, Vm);
        R("ESR_EL1", 3, 0, 5, 2, 0, SysReg.ESR_EL1, Vm);
        R("FAR_EL1", 3, 0, 6, 0, 0, SysReg.FAR_EL1, Vm);
        R("PAR_EL1", 3, 0, 7, 4, 0, SysReg.PAR_EL1);
        R("MAIR_EL1", 3, 0, 10, 2, 0, SysReg.MAIR_EL1, Vm | Tr);
        R("AMAIR_EL1", 3, 0, 10, 3, 0, SysReg.AMAIR_EL1, Vm);
        R("VBAR_EL1", 3, 0, 12, 0, 0, SysReg.VBAR_EL1);
        R("CONTEXTIDR_EL1", 3, 0, 13, 0, 1, SysReg.CONTEXTIDR_EL1, Vm);
        R("TPIDR_EL1", 3, 0, 13, 0, 4, SysReg.TPIDR_EL1);
        R("TPIDR_EL0", 3, 3, 13, 0, 2, SysReg.TPIDR_EL0, E0);
        R("TPIDRRO_EL0", 3, 3, 13, 0, 3, SysReg.TPIDRRO_EL0, E0 | Sp); // EL0 reads only
        R("CNTKCTL_EL1", 3, 0, 14, 1, 0, SysReg.CNTKCTL_EL1);
        R("CNTFRQ_EL0", 3, 3, 14, 0, 0, SysReg.CNTFRQ_EL0, E0 | Sp); // EL0 reads only
        R("CNTP_CTL_EL0", 3, 3, 14, 2, 1, SysReg.CNTP_CTL_EL0, E0 | Sp);
        R("CNTP_CVAL_EL0", 3, 3, 14, 2, 2, SysReg.CNTP_CVAL_EL0, E0 | Sp);
        R("CNTV_CTL_EL0", 3, 3, 14, 3, 1, SysReg.CNTV_CTL_EL0, E0 | Sp);
        R("CNTV_CVAL_EL0", 3, 3, 14, 3, 2, SysReg.CNTV_CVAL_EL0, E0 | Sp);
        // Debug (stored; no debug events are generated).
        R("MDSCR_EL1", 2, 0, 0, 2, 2, SysReg.MDSCR_EL1, Dbg);
        R("MDCCINT_EL1", 2, 0, 0, 2, 0, SysReg.MDCCINT_EL1, Dbg);
        R("OSLSR_EL1", 2, 0, 1, 1, 4, SysReg.OSLSR_EL1, Dbg | Ro);
        R("OSDLR_EL1", 2, 0, 1, 3, 4, SysReg.OSDLR_EL1, Dbg);
        R("DBGPRCR_EL1", 2, 0, 1, 4, 4, SysReg.DBGPRCR_EL1, Dbg);
        R("DBGCLAIMSET_EL1", 2, 0, 7, 8, 6, SysReg.DBGCLAIM, Dbg | Sp);
        R("DBGCLAIMCLR_EL1", 2, 0, 7, 9, 6, SysReg.DBGCLAIM, Dbg | Sp);
        for (uint n = 0; n < 6; n++)
        {
            R($"DBGBVR{n}_EL1", 2, 0, 0, n, 4, SysReg.DBGBVR0_EL1 + (int)n, Dbg);
            R($"DBGBCR{n}_EL1", 2, 0, 0, n, 5, SysReg.DBGBCR0_EL1 + (int)n, Dbg);
        }
        for (uint n = 0; n < 4; n++)
        {
            R($"DBGWVR{n}_EL1", 2, 0, 0, n, 6, SysReg.DBGWVR0_EL1 + (int)n, Dbg);
            R($"DBGWCR{n}_EL1", 2, 0, 0, n, 7, SysReg.DBGWCR0_EL1 + (int)n, Dbg);
        }
        // EL2.
        R("VPIDR_EL2", 3, 4, 0, 0, 0, SysReg.VPIDR_EL2, E2);
        R("VMPIDR_EL2", 3, 4, 0, 0, 5, SysReg.VMPIDR_EL2, E2);
        R("SCTLR_EL2", 3, 4, 1, 0, 0, SysReg.SCTLR_EL2, E2 | Tr);
        R("ACTLR_EL2", 3, 4, 1, 0, 1, SysReg.ACTLR_EL2, E2);
        R("HCR_EL2", 3, 4, 1, 1, 0, SysReg.HCR_EL2, E2 | Tr);
        R("MDCR_EL2", 3, 4, 1, 1, 1, SysReg.MDCR_EL2, E2);
        R("CPTR_EL2", 3, 4, 1, 1, 2, SysReg.CPTR_EL2, E2 | Tr);
        R("HSTR_EL2", 3, 4, 1, 1, 3, SysReg.HSTR_EL2, E2);
        R("HACR_EL2", 3, 4, 1, 1, 7, SysReg.HACR_EL2, E2);
        R("TTBR0_EL2", 3, 4, 2, 0, 0, SysReg.TTBR0_EL2, E2 | Tr);
        R("TCR_EL2", 3, 4, 2, 0, 2, SysReg.TCR_EL2, E2 | Tr);
        R("VTTBR_EL2", 3, 4, 2, 1, 0, SysReg.VTTBR_EL2, E2 | Tr);
        R("VTCR_EL2", 3, 4, 2, 1, 2, SysReg.VTCR_EL2, E2 | Tr);
        R("SPSR_EL2", 3, 4, 4, 0, 0, SysReg.SPSR_EL2, E2);
        R("ELR_EL2", 3, 4, 4, 0, 1, SysReg.ELR_EL2, E2);
        R("AFSR0_EL2", 3, 4, 5, 1, 0, SysReg.AFSR0_EL2, E2);
        R("AFSR1_EL2", 3, 4, 5, 1, 1, SysReg.AFSR1_EL2, E2);
        R("ESR_EL2", 3, 4, 5, 2, 0, SysReg.ESR_EL2, E2);
        R("FAR_EL2", 3, 4, 6, 0, 0, SysReg.FAR_EL2, E2);
        R("HPFAR_EL2", 3, 4, 6, 0, 4, SysReg.HPFAR_EL2, E2);
        R("MAIR_EL2", 3, 4, 10, 2, 0, SysReg.MAIR_EL2, E2);
        R("AMAIR_EL2", 3, 4, 10, 3, 0, SysReg.AMAIR_EL2, E2);
        R("VBAR_EL2", 3, 4, 12, 0, 0, SysReg.VBAR_EL2, E2);
        R("TPIDR_EL2", 3, 4, 13, 0, 2, SysReg.TPIDR_EL2, E2);
        R("CNTHCTL_EL2", 3, 4, 14, 1, 0, SysReg.CNTHCTL_EL2, E2);
        R("CNTVOFF_EL2", 3, 4, 14, 0, 3, SysReg.CNTVOFF_EL2, E2);
        R("CNTHP_CTL_EL2", 3, 4, 14, 2, 1, SysReg.CNTHP_CTL_EL2, E2);
        R("CNTHP_CVAL_EL2", 3, 4, 14, 2, 2, SysReg.CNTHP_CVAL_EL2, E2);
        // GICv3 CPU interface: ICC_* (EL1; ICV_* under HCR_EL2.IMO/FMO) and the EL2 virtualization controls ICH_*.
        const SysRegFlags G = SysRegFlags.Gic, GR = G | Ro, GW = G | SysRegFlags.WriteOnly, G2 = G | E2;
        R("ICC_PMR_EL1", 3, 0, 4, 6, 0, SysReg.ICC_PMR_EL1, G);
        R("ICC_IAR0_EL1", 3, 0, 12, 8, 0, SysReg.ICC_IAR0_EL1, GR);
        R("ICC_EOIR0_EL1", 3, 0, 12, 8, 1, SysReg.ICC_EOIR0_EL1, GW);
        R("ICC_HPPIR0_EL1", 3, 0, 12, 8, 2, SysReg.ICC_HPPIR0_EL1, GR);
        R("ICC_BPR0_EL1", 3, 0, 12, 8, 3, SysReg.ICC_BPR0_EL1, G);
        R("ICC_AP0R0_EL1", 3, 0, 12, 8, 4, SysReg.ICC_AP0R0_EL1, G);
        R("ICC_AP1R0_EL1", 3, 0, 12, 9, 0, SysReg.ICC_AP1R0_EL1, G);
        R("ICC_DIR_EL1", 3, 0, 12, 11, 1, SysReg.ICC_DIR_EL1, GW);
        R("ICC_RPR_EL1", 3, 0, 12, 11, 3, SysReg.ICC_RPR_EL1, GR);
        R("ICC_SGI1R_EL1", 3, 0, 12, 11, 5, SysReg.ICC_SGI1R_EL1, GW);
        R("ICC_ASGI1R_EL1", 3, 0, 12, 11, 6, SysReg.ICC_ASGI1R_EL1, GW);
        R("ICC_SGI0R_EL1", 3, 0, 12, 11, 7, SysReg.ICC_SGI0R_EL1, GW);
        R("ICC_IAR1_EL1", 3, 0, 12, 12, 0, SysReg.ICC_IAR1_EL1, GR);
        R("ICC_EOIR1_EL1", 3, 0, 12, 12, 1, SysReg.ICC_EOIR1_EL1, GW);
        R("ICC_HPPIR1_EL1", 3, 0, 12, 12, 2, SysReg.ICC_HPPIR1_EL1, GR);
        R("ICC_BPR1_EL1", 3, 0, 12, 12, 3, SysReg.ICC_BPR1_EL1, G);
        R("ICC_CTLR_EL1", 3, 0, 12, 12, 4, SysReg.ICC_CTLR_EL1, G);
        R("ICC_SRE_EL1", 3, 0, 12, 12, 5, SysReg.ICC_SRE_EL1, G);
        R("ICC_IGRPEN0_EL1", 3, 0, 12, 12, 6, SysReg.ICC_IGRPEN0_EL1, G);
        R("ICC_IGRPEN1_EL1", 3, 0, 12, 12, 7, SysReg.ICC_IGRPEN1_EL1, G);
        R("ICC_SRE_EL2", 3, 4, 12, 9, 5, SysReg.ICC_SRE_EL2, G2);
        R("ICH_AP0R0_EL2", 3, 4, 12, 8, 0, SysReg.ICH_AP0R0_EL2, G2);
        R("ICH_AP1R0_EL2", 3, 4, 12, 9, 0, SysReg.ICH_AP1R0_EL2, G2);
        R("ICH_HCR_EL2", 3, 4, 12, 11, 0, SysReg.ICH_HCR_EL2, G2);
        R("ICH_VTR_EL2", 3, 4, 12, 11, 1, SysReg.ICH_VTR_EL2, G2 | Ro);
        R("ICH_MISR_EL2", 3, 4, 12, 11, 2, SysReg.ICH_MISR_EL2, G2 | Ro);
        R("ICH_EISR_EL2", 3, 4, 12, 11, 3, SysReg.ICH_EISR_EL2, G2 | Ro);
        R("ICH_ELRSR_EL2", 3, 4, 12, 11, 5, SysReg.ICH_ELRSR_EL2, G2 | Ro);
        R("ICH_VMCR_EL2", 3, 4, 12, 11, 7, SysReg.ICH_VMCR_EL2, G2);
        for (uint n = 0; n < 4; n++)
            R($"ICH_LR{n}_EL2", 3, 4, 12, 12, n, SysReg.ICH_LR0_EL2 + (int)n, G2);
    }

    public static bool TryGet(uint encoding, out SysRegInfo info) => byEncoding.TryGetValue(encoding, out info);
    public static bool TryGet(string name, out SysRegInfo info) => byName.TryGetValue(name, out info);

    /// <summary>The unallocated ID space (op0=3, op1=0, CRn=0, CRm=1..7) reads as zero at EL1.</summary>
    public static bool IsReservedIdSpace(uint encoding) =>
        (encoding >> 14) == 3 && ((encoding >> 11) & 7) == 0 && ((encoding >> 7) & 15) == 0 && ((encoding >> 3) & 15) is >= 1 and <= 7;

    public static string NameOf(uint encoding) => byEncoding.TryGetValue(encoding, out var i) ? i.Name
        : $"S{encoding >> 14}_{(encoding >> 11) & 7}_C{(encoding >> 7) & 15}_C{(encoding >> 3) & 15}_{encoding & 7}";
}
