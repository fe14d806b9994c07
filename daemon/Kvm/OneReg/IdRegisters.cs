namespace Kvmfs.Kvm.OneReg;

/// <summary>
/// The identification registers of the CPU we emulate, as a guest under KVM reads them: a
/// Cortex-A57-class ARMv8.0-A core, AArch64 only at every EL, with FP/AdvSIMD and CRC32, no
/// crypto, SVE, pointer authentication, MTE, RAS or AArch32, and a PMUv3 (6 counters) only for vCPUs
/// created with KVM_ARM_VCPU_PMU_V3. The emulator must implement
/// exactly what these advertise; change them here, in one place, when it grows.
/// </summary>
public static class IdRegisters
{
    /// <summary>MIDR_EL1: Arm Cortex-A57 r1p0 (what QEMU's cortex-a57 model reports too).</summary>
    public const ulong Midr = 0x411FD070;
    public const ulong Revidr = 0;
    public const ulong Aidr = 0;
    /// <summary>CTR_EL0: 64-byte lines, PIPT I-cache, CWG/ERG 16 words.</summary>
    public const ulong Ctr = 0x8444C004;
    /// <summary>CLIDR_EL1: separate L1 I/D, unified L2.</summary>
    public const ulong Clidr = 0x0A200023;
    /// <summary>CCSIDR_EL1 per CSSELR value 0 (L1D), 1 (L1I), 2 (L2): the cache geometry of an A57.</summary>
    public static readonly ulong[] Ccsidr = [0x701FE00A, 0x201FE012, 0x70FFE07A];

    /// <summary>
    /// ID_AA64PFR0_EL1: EL0-EL2 AArch64 only, no EL3, FP and AdvSIMD, GIC system registers (the
    /// "host" has a GICv3: KVM 6.1 reports GIC = 1 for every VM then, whatever its vGIC model),
    /// CSV2 = CSV3 = 1 (not affected by Spectre v2 / Meltdown).
    /// </summary>
    public const ulong Aa64Pfr0 = 0x1100_0000_0100_0111;
    public const int Pfr0GicShift = 24, Pfr0Csv2Shift = 56, Pfr0Csv3Shift = 60;
    /// <summary>ID_AA64DFR0_EL1: ARMv8.0 debug, 6 breakpoints, 4 watchpoints, 2 context comparators; PMUVer 0 here, 1 for a vCPU with the PMUv3 feature (Vcpu.ReadSysReg).</summary>
    public const ulong Aa64Dfr0 = 0x0000_0000_1030_5006;
    /// <summary>ID_AA64DFR0_EL1.PMUVer: 1 (PMUv3, as the A57) for a vCPU with KVM_ARM_VCPU_PMU_V3, else 0.</summary>
    public const int Dfr0PmuVerShift = 8;
    public const ulong PmuVerV3 = 1;
    /// <summary>ID_AA64ISAR0_EL1: CRC32 only.</summary>
    public const ulong Aa64Isar0 = 0x0000_0000_0001_0000;
    /// <summary>ID_AA64MMFR0_EL1: 44-bit PA, 16-bit ASID, mixed endian, 4K and 64K granules (as the A57).</summary>
    public const ulong Aa64Mmfr0 = 0x0000_0000_0000_1124;

    /// <summary>The value of an AArch64 ID register (op0=3, op1=0, CRn=0, CRm=4..7), before per-VM adjustments.</summary>
    public static ulong Aa64(int crm, int op2) => (crm, op2) switch
    {
        (4, 0) => Aa64Pfr0,
        (5, 0) => Aa64Dfr0,
        (6, 0) => Aa64Isar0,
        (7, 0) => Aa64Mmfr0,
        _ => 0, // PFR1, ZFR0, DFR1, ISAR1/2, MMFR1/2, hidden and unallocated slots
    };
}
