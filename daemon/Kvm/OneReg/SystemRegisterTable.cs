using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmReg;

namespace Kvmfs.Kvm.OneReg;

/// <summary>How a system register behaves towards KVM_GET/SET_ONE_REG.</summary>
public enum SysRegKind
{
    /// <summary>Saved in the vCPU context; any value may be written.</summary>
    Stored,
    /// <summary>Host-invariant (MIDR, CTR, ...): reads the CPU's value, writes must equal it.</summary>
    Invariant,
    /// <summary>AArch64 ID register: writes must equal the current value (Linux 6.1 rule).</summary>
    IdReg,
    /// <summary>AArch32 ID register on a CPU without AArch32: reads as zero, user writes are ignored.</summary>
    Aa32IdRaz,
    /// <summary>Listed for compatibility, reads as zero, writes ignored (PMSWINC_EL0: get_raz_reg/set_wi_reg).</summary>
    RazWi,
}

/// <summary>
/// One row of the table: encoding, name, behaviour, reset value, writable bits; PMU rows exist
/// only for vCPUs with KVM_ARM_VCPU_PMU_V3 (pmu_visibility), and a row may keep its value in
/// another row's storage (PMxxxCLR and PMxxxSET share one register in KVM).
/// </summary>
public sealed record SysRegDesc(string Name, int Op0, int Op1, int CRn, int CRm, int Op2, SysRegKind Kind, ulong Reset = 0, ulong WritableMask = ~0ul,
    bool PmuOnly = false, string? StorageOf = null)
{
    public ulong Id { get; } = OneRegId.SysReg(Op0, Op1, CRn, CRm, Op2);
}

/// <summary>
/// The AArch64 system registers a KVM vCPU exposes through ONE_REG (arch/arm64/kvm/sys_regs.c
/// of Linux 6.1 for a vCPU without PMU, SVE, pointer auth or MTE): exactly the set the
/// get-reg-list selftest blesses. Listed order is KVM's: invariants, then the table by
/// encoding, then the CCSIDR demux registers.
/// </summary>
public static class SystemRegisterTable
{
    /// <summary>What KVM writes into registers whose architectural reset value is UNKNOWN.</summary>
    public const ulong ResetUnknown = 0x1de7ec7edbadc0de;
    public const ulong OslsrOslmImplemented = 0x8;
    public const ulong OslsrOslk = 0x2;

    public static readonly SysRegDesc[] Invariants =
    [
        new("MIDR_EL1", 3, 0, 0, 0, 0, SysRegKind.Invariant, IdRegisters.Midr, 0),
        new("REVIDR_EL1", 3, 0, 0, 0, 6, SysRegKind.Invariant, IdRegisters.Revidr, 0),
        new("CLIDR_EL1", 3, 1, 0, 0, 1, SysRegKind.Invariant, IdRegisters.Clidr, 0),
        new("AIDR_EL1", 3, 1, 0, 0, 7, SysRegKind.Invariant, IdRegisters.Aidr, 0),
        new("CTR_EL0", 3, 3, 0, 0, 1, SysRegKind.Invariant, IdRegisters.Ctr, 0),
    ];

    /// <summary>The walked table, sorted by encoding.</summary>
    public static readonly SysRegDesc[] Table = Build();

    private static readonly Dictionary<ulong, SysRegDesc> ById = BuildIndex();

    private static SysRegDesc[] Build()
    {
        var t = new List<SysRegDesc>();
        for (int n = 0; n < 16; n++)
        {
            t.Add(new($"DBGBVR{n}_EL1", 2, 0, 0, n, 4, SysRegKind.Stored));
            t.Add(new($"DBGBCR{n}_EL1", 2, 0, 0, n, 5, SysRegKind.Stored));
            t.Add(new($"DBGWVR{n}_EL1", 2, 0, 0, n, 6, SysRegKind.Stored));
            t.Add(new($"DBGWCR{n}_EL1", 2, 0, 0, n, 7, SysRegKind.Stored));
        }
        t.Add(new("MDCCINT_EL1", 2, 0, 0, 2, 0, SysRegKind.Stored));
        t.Add(new("MDSCR_EL1", 2, 0, 0, 2, 2, SysRegKind.Stored));
        t.Add(new("OSLSR_EL1", 2, 0, 1, 1, 4, SysRegKind.Stored, OslsrOslmImplemented, OslsrOslk));
        t.Add(new("DBGVCR32_EL2", 2, 4, 0, 7, 0, SysRegKind.Stored));
        t.Add(new("MPIDR_EL1", 3, 0, 0, 0, 5, SysRegKind.Stored));
        string[] aa32 =
        [
            "ID_PFR0_EL1", "ID_PFR1_EL1", "ID_DFR0_EL1", "ID_AFR0_EL1", "ID_MMFR0_EL1", "ID_MMFR1_EL1", "ID_MMFR2_EL1", "ID_MMFR3_EL1",
            "ID_ISAR0_EL1", "ID_ISAR1_EL1", "ID_ISAR2_EL1", "ID_ISAR3_EL1", "ID_ISAR4_EL1", "ID_ISAR5_EL1", "ID_MMFR4_EL1", "ID_ISAR6_EL1",
            "MVFR0_EL1", "MVFR1_EL1", "MVFR2_EL1", "ID_UNALLOCATED_3_3", "ID_PFR2_EL1", "ID_DFR1_EL1", "ID_MMFR5_EL1", "ID_UNALLOCATED_3_7",
        ];
        for (int i = 0; i < aa32.Length; i++)
        {
            int crm = 1 + i / 8, op2 = i % 8;
            // ID_AFR0, ID_DFR1 and the unallocated slots are RAZ ID registers (writes must be 0);
            // the AArch32 feature registers are RAZ/WI because this CPU has no AArch32.
            bool hidden = aa32[i].StartsWith("ID_UNALLOCATED", StringComparison.Ordinal) || aa32[i] is "ID_AFR0_EL1" or "ID_DFR1_EL1";
            t.Add(new(aa32[i], 3, 0, 0, crm, op2, hidden ? SysRegKind.IdReg : SysRegKind.Aa32IdRaz, 0, 0));
        }
        string[] aa64 =
        [
            "ID_AA64PFR0_EL1", "ID_AA64PFR1_EL1", "ID_UNALLOCATED_4_2", "ID_UNALLOCATED_4_3", "ID_AA64ZFR0_EL1", "ID_AA64SMFR0_EL1", "ID_UNALLOCATED_4_6", "ID_UNALLOCATED_4_7",
            "ID_AA64DFR0_EL1", "ID_AA64DFR1_EL1", "ID_UNALLOCATED_5_2", "ID_UNALLOCATED_5_3", "ID_AA64AFR0_EL1", "ID_AA64AFR1_EL1", "ID_UNALLOCATED_5_6", "ID_UNALLOCATED_5_7",
            "ID_AA64ISAR0_EL1", "ID_AA64ISAR1_EL1", "ID_AA64ISAR2_EL1", "ID_UNALLOCATED_6_3", "ID_UNALLOCATED_6_4", "ID_UNALLOCATED_6_5", "ID_UNALLOCATED_6_6", "ID_UNALLOCATED_6_7",
            "ID_AA64MMFR0_EL1", "ID_AA64MMFR1_EL1", "ID_AA64MMFR2_EL1", "ID_UNALLOCATED_7_3", "ID_UNALLOCATED_7_4", "ID_UNALLOCATED_7_5", "ID_UNALLOCATED_7_6", "ID_UNALLOCATED_7_7",
        ];
        for (int i = 0; i < aa64.Length; i++)
        {
            int crm = 4 + i / 8, op2 = i % 8;
            t.Add(new(aa64[i], 3, 0, 0, crm, op2, SysRegKind.IdReg, IdRegisters.Aa64(crm, op2), 0));
        }
        t.Add(new("SCTLR_EL1", 3, 0, 1, 0, 0, SysRegKind.Stored, 0x00C50078));
        t.Add(new("ACTLR_EL1", 3, 0, 1, 0, 1, SysRegKind.Stored));
        t.Add(new("CPACR_EL1", 3, 0, 1, 0, 2, SysRegKind.Stored));
        t.Add(new("TTBR0_EL1", 3, 0, 2, 0, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("TTBR1_EL1", 3, 0, 2, 0, 1, SysRegKind.Stored, ResetUnknown));
        t.Add(new("TCR_EL1", 3, 0, 2, 0, 2, SysRegKind.Stored));
        t.Add(new("AFSR0_EL1", 3, 0, 5, 1, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("AFSR1_EL1", 3, 0, 5, 1, 1, SysRegKind.Stored, ResetUnknown));
        t.Add(new("ESR_EL1", 3, 0, 5, 2, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("FAR_EL1", 3, 0, 6, 0, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("PAR_EL1", 3, 0, 7, 4, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("MAIR_EL1", 3, 0, 10, 2, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("AMAIR_EL1", 3, 0, 10, 3, 0, SysRegKind.Stored));
        t.Add(new("VBAR_EL1", 3, 0, 12, 0, 0, SysRegKind.Stored));
        t.Add(new("DISR_EL1", 3, 0, 12, 1, 1, SysRegKind.Stored));
        t.Add(new("CONTEXTIDR_EL1", 3, 0, 13, 0, 1, SysRegKind.Stored));
        t.Add(new("TPIDR_EL1", 3, 0, 13, 0, 4, SysRegKind.Stored, ResetUnknown));
        t.Add(new("CNTKCTL_EL1", 3, 0, 14, 1, 0, SysRegKind.Stored));
        t.Add(new("CSSELR_EL1", 3, 2, 0, 0, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("TPIDR_EL0", 3, 3, 13, 0, 2, SysRegKind.Stored, ResetUnknown));
        t.Add(new("TPIDRRO_EL0", 3, 3, 13, 0, 3, SysRegKind.Stored, ResetUnknown));
        t.Add(new("DACR32_EL2", 3, 4, 3, 0, 0, SysRegKind.Stored, ResetUnknown));
        t.Add(new("IFSR32_EL2", 3, 4, 5, 0, 1, SysRegKind.Stored, ResetUnknown));
        t.Add(new("FPEXC32_EL2", 3, 4, 5, 3, 0, SysRegKind.Stored, 0x700));
        AddPmu(t);
        t.Sort((a, b) => a.Id.CompareTo(b.Id));
        return [.. t];
    }

    /// <summary>PMCR_EL0.N: the emulated PMU has 6 event counters (as the Cortex-A57).</summary>
    public const int PmuCounters = 6;
    /// <summary>What KVM's reset_pmu_reg keeps of the UNKNOWN value: the cycle counter bit and one bit per counter.</summary>
    public const ulong PmuCounterMask = (1ul << 31) | ((1ul << PmuCounters) - 1);
    /// <summary>ARMV8_PMU_EVTYPE_MASK: the writable bits of PMEVTYPER&lt;n&gt;_EL0.</summary>
    public const ulong PmuEvtypeMask = 0xc800ffff;
    /// <summary>
    /// PMCR_EL0 after reset_pmcr: the host's IMP (0x41, Arm), IDCODE (0x01) and N fields, the
    /// writable low byte UNKNOWN (KVM's 0xdecafbad pattern) except E = 0, and LC = 1 because
    /// there is no AArch32 EL0.
    /// </summary>
    public const ulong PmcrReset = (0x41ul << 24) | (0x01ul << 16) | ((ulong)PmuCounters << 11) | ((0xdecafbadul & 0xff) & ~1ul) | (1ul << 6);

    /// <summary>The PMUv3 registers KVM 6.1 saves and lists (sys_regs.c PMU_SYS_REG rows with storage or a user accessor).</summary>
    private static void AddPmu(List<SysRegDesc> t)
    {
        ulong counters = ResetUnknown & PmuCounterMask;
        t.Add(new("PMINTENSET_EL1", 3, 0, 9, 14, 1, SysRegKind.Stored, counters, PmuOnly: true));
        t.Add(new("PMINTENCLR_EL1", 3, 0, 9, 14, 2, SysRegKind.Stored, counters, PmuOnly: true, StorageOf: "PMINTENSET_EL1"));
        t.Add(new("PMCR_EL0", 3, 3, 9, 12, 0, SysRegKind.Stored, PmcrReset, PmuOnly: true));
        t.Add(new("PMCNTENSET_EL0", 3, 3, 9, 12, 1, SysRegKind.Stored, counters, PmuOnly: true));
        t.Add(new("PMCNTENCLR_EL0", 3, 3, 9, 12, 2, SysRegKind.Stored, counters, PmuOnly: true, StorageOf: "PMCNTENSET_EL0"));
        t.Add(new("PMOVSCLR_EL0", 3, 3, 9, 12, 3, SysRegKind.Stored, counters, PmuOnly: true, StorageOf: "PMOVSSET_EL0"));
        t.Add(new("PMSWINC_EL0", 3, 3, 9, 12, 4, SysRegKind.RazWi, PmuOnly: true));
        t.Add(new("PMSELR_EL0", 3, 3, 9, 12, 5, SysRegKind.Stored, ResetUnknown & 0x1f, PmuOnly: true));
        t.Add(new("PMCCNTR_EL0", 3, 3, 9, 13, 0, SysRegKind.Stored, ResetUnknown, PmuOnly: true));
        t.Add(new("PMUSERENR_EL0", 3, 3, 9, 14, 0, SysRegKind.Stored, 0, PmuOnly: true));
        t.Add(new("PMOVSSET_EL0", 3, 3, 9, 14, 3, SysRegKind.Stored, counters, PmuOnly: true));
        for (int n = 0; n < 31; n++)
        {
            t.Add(new($"PMEVCNTR{n}_EL0", 3, 3, 14, 8 + n / 8, n % 8, SysRegKind.Stored, ResetUnknown & 0xffff_ffff, PmuOnly: true));
            t.Add(new($"PMEVTYPER{n}_EL0", 3, 3, 14, 12 + n / 8, n % 8, SysRegKind.Stored, ResetUnknown & PmuEvtypeMask, PmuOnly: true));
        }
        t.Add(new("PMCCFILTR_EL0", 3, 3, 14, 15, 7, SysRegKind.Stored, 0, PmuOnly: true));
    }

    private static Dictionary<ulong, SysRegDesc> BuildIndex()
    {
        var d = new Dictionary<ulong, SysRegDesc>();
        foreach (var r in Invariants) d[r.Id] = r;
        foreach (var r in Table) d[r.Id] = r;
        return d;
    }

    public static SysRegDesc? Find(ulong id) => ById.GetValueOrDefault(id);

    private static readonly Dictionary<ulong, int> SlotById = BuildSlots();

    private static Dictionary<ulong, int> BuildSlots()
    {
        var d = new Dictionary<ulong, int>();
        for (int i = 0; i < Table.Length; i++) d[Table[i].Id] = i;
        // Rows that share another row's register keep their value in its slot.
        foreach (var r in Table)
            if (r.StorageOf is { } owner) d[r.Id] = d[Array.Find(Table, o => o.Name == owner)!.Id];
        return d;
    }

    /// <summary>Where a table register's value lives in <c>Vcpu.SysRegValues</c> (its row number).</summary>
    public static int Slot(ulong id) => SlotById[id];
    public static SysRegDesc? Find(string name) => Array.Find(Table, r => r.Name == name) ?? Array.Find(Invariants, r => r.Name == name);

    public static readonly ulong MpidrId = OneRegId.SysReg(3, 0, 0, 0, 5);

    /// <summary>CCSIDR demux ids for the caches CLIDR_EL1 describes (write_demux_regids).</summary>
    public static IEnumerable<ulong> DemuxIds()
    {
        for (int i = 0; i < IdRegisters.Ccsidr.Length; i++)
            yield return KVM_REG_ARM64 | KVM_REG_SIZE_U32 | KVM_REG_ARM_DEMUX | KVM_REG_ARM_DEMUX_ID_CCSIDR | (ulong)(uint)i;
    }

    /// <summary>reset_mpidr: Aff0 = id[3:0], Aff1 = id[11:4], Aff2 = id[19:12], bit 31 RES1.</summary>
    public static ulong MpidrFor(int vcpuId) =>
        (1ul << 31) | ((ulong)(vcpuId & 0x0f)) | ((ulong)((vcpuId >> 4) & 0xff) << 8) | ((ulong)((vcpuId >> 12) & 0xff) << 16);
}
