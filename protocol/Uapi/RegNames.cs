namespace Kvmfs.Protocol.Uapi;

/// <summary>Byte offsets of the core registers inside struct kvm_regs (the core ONE_REG index is offset / 4).</summary>
public static class CoreRegs
{
    public const int X0 = 0;
    public const int SP = 31 * 8;         // SP_EL0
    public const int PC = 32 * 8;
    public const int PSTATE = 33 * 8;
    public const int SP_EL1 = 272;
    public const int ELR_EL1 = 280;
    public const int SPSR = 288;          // spsr[KVM_NR_SPSR], u64 each
    public const int V0 = 336;            // fp_regs.vregs[32], 128 bits each
    public const int FPSR = 336 + 512;
    public const int FPCR = 336 + 516;

    public static int X(int n) => X0 + 8 * n;
    public static int V(int n) => V0 + 16 * n;
    public static int Spsr(int n) => SPSR + 8 * n;

    /// <summary>One core register as KVM_GET_REG_LIST lists it: name, byte offset, size, and the
    /// struct kvm_regs member it is (what KVM_REG_ARM_CORE_REG() takes in C).</summary>
    public readonly record struct CoreReg(string Name, int Offset, int Size, string KvmRegsField)
    {
        public ulong Id => OneRegId.Core(Offset, Size);
    }

    private static readonly string[] SpsrNames = ["spsr_el1", "spsr_abt", "spsr_und", "spsr_irq", "spsr_fiq"];

    /// <summary>Every core register in kvm_regs order: x0-x30, sp, pc, pstate, sp_el1, elr_el1,
    /// the five SPSRs, v0-v31 (16 bytes), fpsr and fpcr (4 bytes).</summary>
    public static IReadOnlyList<CoreReg> All { get; } = Build();

    private static readonly Dictionary<int, CoreReg> ByOffset = All.ToDictionary(r => r.Offset);

    /// <summary>The core register starting at <paramref name="offset"/>, if any.</summary>
    public static CoreReg? At(int offset) => ByOffset.TryGetValue(offset, out var r) ? r : null;

    private static List<CoreReg> Build()
    {
        var list = new List<CoreReg>();
        for (int n = 0; n < 31; n++) list.Add(new($"x{n}", X(n), 8, $"regs.regs[{n}]"));
        list.Add(new("sp", SP, 8, "regs.sp"));
        list.Add(new("pc", PC, 8, "regs.pc"));
        list.Add(new("pstate", PSTATE, 8, "regs.pstate"));
        list.Add(new("sp_el1", SP_EL1, 8, "sp_el1"));
        list.Add(new("elr_el1", ELR_EL1, 8, "elr_el1"));
        for (int n = 0; n < SpsrNames.Length; n++) list.Add(new(SpsrNames[n], Spsr(n), 8, $"spsr[{n}]"));
        for (int n = 0; n < 32; n++) list.Add(new($"v{n}", V(n), 16, $"fp_regs.vregs[{n}]"));
        list.Add(new("fpsr", FPSR, 4, "fp_regs.fpsr"));
        list.Add(new("fpcr", FPCR, 4, "fp_regs.fpcr"));
        return list;
    }
}

/// <summary>An AArch64 system register: name and encoding.</summary>
public readonly record struct SysRegInfo(string Name, int Op0, int Op1, int CRn, int CRm, int Op2)
{
    public ulong Id => OneRegId.SysReg(Op0, Op1, CRn, CRm, Op2);
    public ulong Index => OneRegId.SysRegIndex(Op0, Op1, CRn, CRm, Op2);

    /// <summary>The assembler's generic name, S&lt;op0&gt;_&lt;op1&gt;_C&lt;n&gt;_C&lt;m&gt;_&lt;op2&gt;.</summary>
    public static string GenericName(int op0, int op1, int crn, int crm, int op2) => $"S{op0}_{op1}_C{crn}_C{crm}_{op2}";
}

/// <summary>
/// AArch64 system registers by encoding (Arm ARM chapter D19): everything a Linux 6.1 KVM lists
/// in KVM_GET_REG_LIST for a vCPU (base, PMU, debug), plus the EL2, GIC CPU interface and timer
/// registers the emulator and traces talk about.
/// </summary>
public static class SysRegs
{
    public static IReadOnlyList<SysRegInfo> All { get; } = Build();

    private static readonly Dictionary<ulong, SysRegInfo> ByIndex = BuildIndex();

    /// <summary>The register with this encoding, if named.</summary>
    public static SysRegInfo? Find(int op0, int op1, int crn, int crm, int op2) =>
        ByIndex.TryGetValue(OneRegId.SysRegIndex(op0, op1, crn, crm, op2), out var r) ? r : null;

    public static SysRegInfo? Find(string name) => All.FirstOrDefault(r => r.Name == name) is { Name: not null } r ? r : null;

    /// <summary>Name for an encoding, or its generic S3_0_C0_C3_3 form.</summary>
    public static string Name(int op0, int op1, int crn, int crm, int op2) =>
        Find(op0, op1, crn, crm, op2)?.Name ?? SysRegInfo.GenericName(op0, op1, crn, crm, op2);

    /// <summary>The id of a named register (throws for an unknown name: for tests and tables).</summary>
    public static ulong Id(string name) => (Find(name) ?? throw new KeyNotFoundException(name)).Id;

    private static Dictionary<ulong, SysRegInfo> BuildIndex()
    {
        var d = new Dictionary<ulong, SysRegInfo>();
        foreach (var r in All)
            if (!d.TryAdd(r.Index, r))
                throw new InvalidOperationException($"{r.Name} has the encoding of {d[r.Index].Name}");
        return d;
    }

    private static List<SysRegInfo> Build()
    {
        var l = new List<SysRegInfo>();
        void R(string name, int op0, int op1, int crn, int crm, int op2) => l.Add(new(name, op0, op1, crn, crm, op2));

        // Debug (op0 = 2)
        R("OSDTRRX_EL1", 2, 0, 0, 0, 2);
        R("MDCCINT_EL1", 2, 0, 0, 2, 0);
        R("MDSCR_EL1", 2, 0, 0, 2, 2);
        R("OSDTRTX_EL1", 2, 0, 0, 3, 2);
        R("OSECCR_EL1", 2, 0, 0, 6, 2);
        for (int n = 0; n < 16; n++)
        {
            R($"DBGBVR{n}_EL1", 2, 0, 0, n, 4);
            R($"DBGBCR{n}_EL1", 2, 0, 0, n, 5);
            R($"DBGWVR{n}_EL1", 2, 0, 0, n, 6);
            R($"DBGWCR{n}_EL1", 2, 0, 0, n, 7);
        }
        R("MDRAR_EL1", 2, 0, 1, 0, 0);
        R("OSLAR_EL1", 2, 0, 1, 0, 4);
        R("OSLSR_EL1", 2, 0, 1, 1, 4);
        R("OSDLR_EL1", 2, 0, 1, 3, 4);
        R("DBGPRCR_EL1", 2, 0, 1, 4, 4);
        R("DBGCLAIMSET_EL1", 2, 0, 7, 8, 6);
        R("DBGCLAIMCLR_EL1", 2, 0, 7, 9, 6);
        R("DBGAUTHSTATUS_EL1", 2, 0, 7, 14, 6);
        R("MDCCSR_EL0", 2, 3, 0, 1, 0);
        R("DBGDTR_EL0", 2, 3, 0, 4, 0);
        R("DBGDTRRX_EL0", 2, 3, 0, 5, 0);
        R("DBGVCR32_EL2", 2, 4, 0, 7, 0);

        // Identification
        R("MIDR_EL1", 3, 0, 0, 0, 0);
        R("MPIDR_EL1", 3, 0, 0, 0, 5);
        R("REVIDR_EL1", 3, 0, 0, 0, 6);
        R("ID_PFR0_EL1", 3, 0, 0, 1, 0);
        R("ID_PFR1_EL1", 3, 0, 0, 1, 1);
        R("ID_DFR0_EL1", 3, 0, 0, 1, 2);
        R("ID_AFR0_EL1", 3, 0, 0, 1, 3);
        R("ID_MMFR0_EL1", 3, 0, 0, 1, 4);
        R("ID_MMFR1_EL1", 3, 0, 0, 1, 5);
        R("ID_MMFR2_EL1", 3, 0, 0, 1, 6);
        R("ID_MMFR3_EL1", 3, 0, 0, 1, 7);
        R("ID_ISAR0_EL1", 3, 0, 0, 2, 0);
        R("ID_ISAR1_EL1", 3, 0, 0, 2, 1);
        R("ID_ISAR2_EL1", 3, 0, 0, 2, 2);
        R("ID_ISAR3_EL1", 3, 0, 0, 2, 3);
        R("ID_ISAR4_EL1", 3, 0, 0, 2, 4);
        R("ID_ISAR5_EL1", 3, 0, 0, 2, 5);
        R("ID_MMFR4_EL1", 3, 0, 0, 2, 6);
        R("ID_ISAR6_EL1", 3, 0, 0, 2, 7);
        R("MVFR0_EL1", 3, 0, 0, 3, 0);
        R("MVFR1_EL1", 3, 0, 0, 3, 1);
        R("MVFR2_EL1", 3, 0, 0, 3, 2);
        R("ID_PFR2_EL1", 3, 0, 0, 3, 4);
        R("ID_DFR1_EL1", 3, 0, 0, 3, 5);
        R("ID_MMFR5_EL1", 3, 0, 0, 3, 6);
        R("ID_AA64PFR0_EL1", 3, 0, 0, 4, 0);
        R("ID_AA64PFR1_EL1", 3, 0, 0, 4, 1);
        R("ID_AA64ZFR0_EL1", 3, 0, 0, 4, 4);
        R("ID_AA64SMFR0_EL1", 3, 0, 0, 4, 5);
        R("ID_AA64DFR0_EL1", 3, 0, 0, 5, 0);
        R("ID_AA64DFR1_EL1", 3, 0, 0, 5, 1);
        R("ID_AA64AFR0_EL1", 3, 0, 0, 5, 4);
        R("ID_AA64AFR1_EL1", 3, 0, 0, 5, 5);
        R("ID_AA64ISAR0_EL1", 3, 0, 0, 6, 0);
        R("ID_AA64ISAR1_EL1", 3, 0, 0, 6, 1);
        R("ID_AA64ISAR2_EL1", 3, 0, 0, 6, 2);
        R("ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0);
        R("ID_AA64MMFR1_EL1", 3, 0, 0, 7, 1);
        R("ID_AA64MMFR2_EL1", 3, 0, 0, 7, 2);
        R("CCSIDR_EL1", 3, 1, 0, 0, 0);
        R("CLIDR_EL1", 3, 1, 0, 0, 1);
        R("SMIDR_EL1", 3, 1, 0, 0, 6);
        R("AIDR_EL1", 3, 1, 0, 0, 7);
        R("CSSELR_EL1", 3, 2, 0, 0, 0);
        R("CTR_EL0", 3, 3, 0, 0, 1);
        R("DCZID_EL0", 3, 3, 0, 0, 7);

        // EL1 system control, translation, exceptions
        R("SCTLR_EL1", 3, 0, 1, 0, 0);
        R("ACTLR_EL1", 3, 0, 1, 0, 1);
        R("CPACR_EL1", 3, 0, 1, 0, 2);
        R("ZCR_EL1", 3, 0, 1, 2, 0);
        R("TRFCR_EL1", 3, 0, 1, 2, 1);
        R("SMPRI_EL1", 3, 0, 1, 2, 4);
        R("SMCR_EL1", 3, 0, 1, 2, 6);
        R("TTBR0_EL1", 3, 0, 2, 0, 0);
        R("TTBR1_EL1", 3, 0, 2, 0, 1);
        R("TCR_EL1", 3, 0, 2, 0, 2);
        R("APIAKEYLO_EL1", 3, 0, 2, 1, 0);
        R("APIAKEYHI_EL1", 3, 0, 2, 1, 1);
        R("APIBKEYLO_EL1", 3, 0, 2, 1, 2);
        R("APIBKEYHI_EL1", 3, 0, 2, 1, 3);
        R("APDAKEYLO_EL1", 3, 0, 2, 2, 0);
        R("APDAKEYHI_EL1", 3, 0, 2, 2, 1);
        R("APDBKEYLO_EL1", 3, 0, 2, 2, 2);
        R("APDBKEYHI_EL1", 3, 0, 2, 2, 3);
        R("APGAKEYLO_EL1", 3, 0, 2, 3, 0);
        R("APGAKEYHI_EL1", 3, 0, 2, 3, 1);
        R("SPSR_EL1", 3, 0, 4, 0, 0);
        R("ELR_EL1", 3, 0, 4, 0, 1);
        R("SP_EL0", 3, 0, 4, 1, 0);
        R("SPSEL", 3, 0, 4, 2, 0);
        R("CURRENTEL", 3, 0, 4, 2, 2);
        R("PAN", 3, 0, 4, 2, 3);
        R("UAO", 3, 0, 4, 2, 4);
        R("ICC_PMR_EL1", 3, 0, 4, 6, 0);
        R("AFSR0_EL1", 3, 0, 5, 1, 0);
        R("AFSR1_EL1", 3, 0, 5, 1, 1);
        R("ESR_EL1", 3, 0, 5, 2, 0);
        R("ERRIDR_EL1", 3, 0, 5, 3, 0);
        R("ERRSELR_EL1", 3, 0, 5, 3, 1);
        R("FAR_EL1", 3, 0, 6, 0, 0);
        R("PAR_EL1", 3, 0, 7, 4, 0);
        R("PMINTENSET_EL1", 3, 0, 9, 14, 1);
        R("PMINTENCLR_EL1", 3, 0, 9, 14, 2);
        R("PMMIR_EL1", 3, 0, 9, 14, 6);
        R("MAIR_EL1", 3, 0, 10, 2, 0);
        R("AMAIR_EL1", 3, 0, 10, 3, 0);
        R("LORSA_EL1", 3, 0, 10, 4, 0);
        R("LOREA_EL1", 3, 0, 10, 4, 1);
        R("LORN_EL1", 3, 0, 10, 4, 2);
        R("LORC_EL1", 3, 0, 10, 4, 3);
        R("LORID_EL1", 3, 0, 10, 4, 7);
        R("VBAR_EL1", 3, 0, 12, 0, 0);
        R("RVBAR_EL1", 3, 0, 12, 0, 1);
        R("ISR_EL1", 3, 0, 12, 1, 0);
        R("DISR_EL1", 3, 0, 12, 1, 1);
        R("CONTEXTIDR_EL1", 3, 0, 13, 0, 1);
        R("TPIDR_EL1", 3, 0, 13, 0, 4);
        R("SCXTNUM_EL1", 3, 0, 13, 0, 7);
        R("CNTKCTL_EL1", 3, 0, 14, 1, 0);

        // GICv3 CPU interface (EL1)
        R("ICC_IAR0_EL1", 3, 0, 12, 8, 0);
        R("ICC_EOIR0_EL1", 3, 0, 12, 8, 1);
        R("ICC_HPPIR0_EL1", 3, 0, 12, 8, 2);
        R("ICC_BPR0_EL1", 3, 0, 12, 8, 3);
        for (int n = 0; n < 4; n++) R($"ICC_AP0R{n}_EL1", 3, 0, 12, 8, 4 + n);
        for (int n = 0; n < 4; n++) R($"ICC_AP1R{n}_EL1", 3, 0, 12, 9, n);
        R("ICC_DIR_EL1", 3, 0, 12, 11, 1);
        R("ICC_RPR_EL1", 3, 0, 12, 11, 3);
        R("ICC_SGI1R_EL1", 3, 0, 12, 11, 5);
        R("ICC_ASGI1R_EL1", 3, 0, 12, 11, 6);
        R("ICC_SGI0R_EL1", 3, 0, 12, 11, 7);
        R("ICC_IAR1_EL1", 3, 0, 12, 12, 0);
        R("ICC_EOIR1_EL1", 3, 0, 12, 12, 1);
        R("ICC_HPPIR1_EL1", 3, 0, 12, 12, 2);
        R("ICC_BPR1_EL1", 3, 0, 12, 12, 3);
        R("ICC_CTLR_EL1", 3, 0, 12, 12, 4);
        R("ICC_SRE_EL1", 3, 0, 12, 12, 5);
        R("ICC_IGRPEN0_EL1", 3, 0, 12, 12, 6);
        R("ICC_IGRPEN1_EL1", 3, 0, 12, 12, 7);

        // RAS error records, statistical profiling, MTE (trapped by KVM, not in the register list)
        R("ERXFR_EL1", 3, 0, 5, 4, 0);
        R("ERXCTLR_EL1", 3, 0, 5, 4, 1);
        R("ERXSTATUS_EL1", 3, 0, 5, 4, 2);
        R("ERXADDR_EL1", 3, 0, 5, 4, 3);
        R("ERXMISC0_EL1", 3, 0, 5, 5, 0);
        R("ERXMISC1_EL1", 3, 0, 5, 5, 1);
        R("TFSR_EL1", 3, 0, 5, 6, 0);
        R("TFSRE0_EL1", 3, 0, 5, 6, 1);
        R("RGSR_EL1", 3, 0, 1, 0, 5);
        R("GCR_EL1", 3, 0, 1, 0, 6);
        R("GMID_EL1", 3, 1, 0, 0, 4);
        R("PMSCR_EL1", 3, 0, 9, 9, 0);
        R("PMSNEVFR_EL1", 3, 0, 9, 9, 1);
        R("PMSICR_EL1", 3, 0, 9, 9, 2);
        R("PMSIRR_EL1", 3, 0, 9, 9, 3);
        R("PMSFCR_EL1", 3, 0, 9, 9, 4);
        R("PMSEVFR_EL1", 3, 0, 9, 9, 5);
        R("PMSLATFR_EL1", 3, 0, 9, 9, 6);
        R("PMSIDR_EL1", 3, 0, 9, 9, 7);
        R("PMBLIMITR_EL1", 3, 0, 9, 10, 0);
        R("PMBPTR_EL1", 3, 0, 9, 10, 1);
        R("PMBSR_EL1", 3, 0, 9, 10, 3);
        R("PMBIDR_EL1", 3, 0, 9, 10, 7);

        // Activity monitors (EL0 view)
        R("AMCR_EL0", 3, 3, 13, 2, 0);
        R("AMCFGR_EL0", 3, 3, 13, 2, 1);
        R("AMCGCR_EL0", 3, 3, 13, 2, 2);
        R("AMUSERENR_EL0", 3, 3, 13, 2, 3);
        R("AMCNTENCLR0_EL0", 3, 3, 13, 2, 4);
        R("AMCNTENSET0_EL0", 3, 3, 13, 2, 5);
        R("AMCNTENCLR1_EL0", 3, 3, 13, 3, 0);
        R("AMCNTENSET1_EL0", 3, 3, 13, 3, 1);

        // EL0-accessible
        R("RNDR", 3, 3, 2, 4, 0);
        R("RNDRRS", 3, 3, 2, 4, 1);
        R("NZCV", 3, 3, 4, 2, 0);
        R("DAIF", 3, 3, 4, 2, 1);
        R("SVCR", 3, 3, 4, 2, 2);
        R("DIT", 3, 3, 4, 2, 5);
        R("SSBS", 3, 3, 4, 2, 6);
        R("TCO", 3, 3, 4, 2, 7);
        R("FPCR", 3, 3, 4, 4, 0);
        R("FPSR", 3, 3, 4, 4, 1);
        R("DSPSR_EL0", 3, 3, 4, 5, 0);
        R("DLR_EL0", 3, 3, 4, 5, 1);
        R("PMCR_EL0", 3, 3, 9, 12, 0);
        R("PMCNTENSET_EL0", 3, 3, 9, 12, 1);
        R("PMCNTENCLR_EL0", 3, 3, 9, 12, 2);
        R("PMOVSCLR_EL0", 3, 3, 9, 12, 3);
        R("PMSWINC_EL0", 3, 3, 9, 12, 4);
        R("PMSELR_EL0", 3, 3, 9, 12, 5);
        R("PMCEID0_EL0", 3, 3, 9, 12, 6);
        R("PMCEID1_EL0", 3, 3, 9, 12, 7);
        R("PMCCNTR_EL0", 3, 3, 9, 13, 0);
        R("PMXEVTYPER_EL0", 3, 3, 9, 13, 1);
        R("PMXEVCNTR_EL0", 3, 3, 9, 13, 2);
        R("PMUSERENR_EL0", 3, 3, 9, 14, 0);
        R("PMOVSSET_EL0", 3, 3, 9, 14, 3);
        R("TPIDR_EL0", 3, 3, 13, 0, 2);
        R("TPIDRRO_EL0", 3, 3, 13, 0, 3);
        R("TPIDR2_EL0", 3, 3, 13, 0, 5);
        R("SCXTNUM_EL0", 3, 3, 13, 0, 7);

        // Generic timer
        R("CNTFRQ_EL0", 3, 3, 14, 0, 0);
        R("CNTPCT_EL0", 3, 3, 14, 0, 1);
        R("CNTVCT_EL0", 3, 3, 14, 0, 2);
        R("CNTP_TVAL_EL0", 3, 3, 14, 2, 0);
        R("CNTP_CTL_EL0", 3, 3, 14, 2, 1);
        R("CNTP_CVAL_EL0", 3, 3, 14, 2, 2);
        R("CNTV_TVAL_EL0", 3, 3, 14, 3, 0);
        R("CNTV_CTL_EL0", 3, 3, 14, 3, 1);
        R("CNTV_CVAL_EL0", 3, 3, 14, 3, 2);
        for (int n = 0; n < 31; n++) R($"PMEVCNTR{n}_EL0", 3, 3, 14, 8 + (n >> 3), n & 7);
        for (int n = 0; n < 31; n++) R($"PMEVTYPER{n}_EL0", 3, 3, 14, 12 + (n >> 3), n & 7);
        R("PMCCFILTR_EL0", 3, 3, 14, 15, 7);

        // EL2
        R("VPIDR_EL2", 3, 4, 0, 0, 0);
        R("VMPIDR_EL2", 3, 4, 0, 0, 5);
        R("SCTLR_EL2", 3, 4, 1, 0, 0);
        R("ACTLR_EL2", 3, 4, 1, 0, 1);
        R("HCR_EL2", 3, 4, 1, 1, 0);
        R("MDCR_EL2", 3, 4, 1, 1, 1);
        R("CPTR_EL2", 3, 4, 1, 1, 2);
        R("HSTR_EL2", 3, 4, 1, 1, 3);
        R("HFGRTR_EL2", 3, 4, 1, 1, 4);
        R("HFGWTR_EL2", 3, 4, 1, 1, 5);
        R("HFGITR_EL2", 3, 4, 1, 1, 6);
        R("HACR_EL2", 3, 4, 1, 1, 7);
        R("ZCR_EL2", 3, 4, 1, 2, 0);
        R("TTBR0_EL2", 3, 4, 2, 0, 0);
        R("TTBR1_EL2", 3, 4, 2, 0, 1);
        R("TCR_EL2", 3, 4, 2, 0, 2);
        R("VTTBR_EL2", 3, 4, 2, 1, 0);
        R("VTCR_EL2", 3, 4, 2, 1, 2);
        R("DACR32_EL2", 3, 4, 3, 0, 0);
        R("SPSR_EL2", 3, 4, 4, 0, 0);
        R("ELR_EL2", 3, 4, 4, 0, 1);
        R("SP_EL1", 3, 4, 4, 1, 0);
        R("IFSR32_EL2", 3, 4, 5, 0, 1);
        R("AFSR0_EL2", 3, 4, 5, 1, 0);
        R("AFSR1_EL2", 3, 4, 5, 1, 1);
        R("ESR_EL2", 3, 4, 5, 2, 0);
        R("VSESR_EL2", 3, 4, 5, 2, 3);
        R("FPEXC32_EL2", 3, 4, 5, 3, 0);
        R("FAR_EL2", 3, 4, 6, 0, 0);
        R("HPFAR_EL2", 3, 4, 6, 0, 4);
        R("MAIR_EL2", 3, 4, 10, 2, 0);
        R("AMAIR_EL2", 3, 4, 10, 3, 0);
        R("VBAR_EL2", 3, 4, 12, 0, 0);
        R("RVBAR_EL2", 3, 4, 12, 0, 1);
        R("VDISR_EL2", 3, 4, 12, 1, 1);
        for (int n = 0; n < 4; n++) R($"ICH_AP0R{n}_EL2", 3, 4, 12, 8, n);
        for (int n = 0; n < 4; n++) R($"ICH_AP1R{n}_EL2", 3, 4, 12, 9, n);
        R("ICC_SRE_EL2", 3, 4, 12, 9, 5);
        R("ICH_HCR_EL2", 3, 4, 12, 11, 0);
        R("ICH_VTR_EL2", 3, 4, 12, 11, 1);
        R("ICH_MISR_EL2", 3, 4, 12, 11, 2);
        R("ICH_EISR_EL2", 3, 4, 12, 11, 3);
        R("ICH_ELRSR_EL2", 3, 4, 12, 11, 5);
        R("ICH_VMCR_EL2", 3, 4, 12, 11, 7);
        for (int n = 0; n < 16; n++) R($"ICH_LR{n}_EL2", 3, 4, 12, 12 + (n >> 3), n & 7);
        R("CONTEXTIDR_EL2", 3, 4, 13, 0, 1);
        R("TPIDR_EL2", 3, 4, 13, 0, 2);
        R("CNTVOFF_EL2", 3, 4, 14, 0, 3);
        R("CNTHCTL_EL2", 3, 4, 14, 1, 0);
        R("CNTHP_TVAL_EL2", 3, 4, 14, 2, 0);
        R("CNTHP_CTL_EL2", 3, 4, 14, 2, 1);
        R("CNTHP_CVAL_EL2", 3, 4, 14, 2, 2);
        R("CNTHV_TVAL_EL2", 3, 4, 14, 3, 0);
        R("CNTHV_CTL_EL2", 3, 4, 14, 3, 1);
        R("CNTHV_CVAL_EL2", 3, 4, 14, 3, 2);
        R("SP_EL2", 3, 6, 4, 1, 0);
        return l;
    }
}

/// <summary>Names for ONE_REG ids, for traces and logs.</summary>
public static class RegNames
{
    /// <summary>See <see cref="OneRegId.Name"/>.</summary>
    public static string? Name(ulong id)
    {
        if (!OneRegId.IsArm64(id)) return null;
        // The virtual timer ids carry swapped encodings (ABI): name them by what they access.
        if (id == KvmReg.KVM_REG_ARM_TIMER_CNT) return "CNTVCT_EL0";
        if (id == KvmReg.KVM_REG_ARM_TIMER_CVAL) return "CNTV_CVAL_EL0";
        switch (OneRegId.Class(id))
        {
            case OneRegClass.Core:
            {
                int offset = OneRegId.CoreOffset(id);
                return CoreRegs.At(offset)?.Name ?? $"core+0x{offset:x}";
            }
            case OneRegClass.SysReg:
            {
                var (op0, op1, crn, crm, op2) = OneRegId.SysRegFields(id);
                return SysRegs.Name(op0, op1, crn, crm, op2);
            }
            case OneRegClass.Firmware:
            case OneRegClass.FirmwareFeatureBitmap:
                return UapiNames.Lookup(typeof(KvmReg), id, "KVM_REG_ARM_", static n => !n.Contains("_AVAIL") && !n.Contains("_REQUIRED") && !n.Contains("_UNKNOWN") && !n.Contains("_ENABLED"))
                    ?? (OneRegId.Class(id) == OneRegClass.Firmware ? $"KVM_REG_ARM_FW_REG({id & 0xffff})" : $"KVM_REG_ARM_FW_FEAT_BMAP_REG({id & 0xffff})");
            case OneRegClass.Demux:
                return (id & KvmReg.KVM_REG_ARM_DEMUX_ID_MASK) == KvmReg.KVM_REG_ARM_DEMUX_ID_CCSIDR
                    ? $"CCSIDR_EL1[csselr={id & KvmReg.KVM_REG_ARM_DEMUX_VAL_MASK}]"
                    : $"DEMUX(0x{id & 0xffff:x})";
            case OneRegClass.Sve:
            {
                if (id == KvmReg.KVM_REG_ARM64_SVE_VLS) return "SVE_VLS";
                ulong index = id & 0xffff;
                int slice = (int)(index & 31), n = (int)((index >> 5) & 31);
                if (index >= KvmReg.KVM_REG_ARM64_SVE_FFR_BASE) return $"FFR[{slice}]";
                if (index >= KvmReg.KVM_REG_ARM64_SVE_PREG_BASE) return $"P{n}[{slice}]";
                return $"Z{n}[{slice}]";
            }
            default:
                return $"arm64 reg 0x{id:x16}";
        }
    }
}
