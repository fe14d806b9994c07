using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Kvm.OneReg;

/// <summary>
/// The identification registers a guest reads under KVM, derived from the emulated core's own
/// (<see cref="CpuIdentity"/>: what the emulator implements) the way KVM derives them from the
/// host's: the core's values, with the fields KVM itself decides. AArch64 only at every EL, no
/// SVE, pointer authentication, MTE, RAS or AArch32; a PMUv3 (6 counters) only for vCPUs created
/// with KVM_ARM_VCPU_PMU_V3.
/// </summary>
public static class IdRegisters
{
    public const ulong Midr = CpuIdentity.Midr;
    public const ulong Revidr = 0;
    public const ulong Aidr = 0;
    public const ulong Ctr = CpuIdentity.Ctr;
    public const ulong Clidr = CpuIdentity.Clidr;
    public static readonly ulong[] Ccsidr = CpuIdentity.Ccsidr;

    /// <summary>
    /// ID_AA64PFR0_EL1: the core's (GIC = 1: its GICv3 CPU interface) with GIC forced to 1 as KVM 6.1
    /// does for every VM on a GICv3 host, whatever the VM's vGIC model, and CSV2 = CSV3 = 1 (not
    /// affected by Spectre v2 / Meltdown).
    /// </summary>
    public const ulong Aa64Pfr0 = CpuIdentity.Aa64Pfr0 | (1UL << Pfr0GicShift) | (1UL << Pfr0Csv2Shift) | (1UL << Pfr0Csv3Shift);
    public const int Pfr0GicShift = 24, Pfr0Csv2Shift = 56, Pfr0Csv3Shift = 60;
    /// <summary>ID_AA64DFR0_EL1: the core's; PMUVer 1 for a vCPU with the PMUv3 feature (Vcpu.ReadSysReg).</summary>
    public const ulong Aa64Dfr0 = CpuIdentity.Aa64Dfr0;
    /// <summary>ID_AA64DFR0_EL1.PMUVer: 1 (PMUv3, as the A57) for a vCPU with KVM_ARM_VCPU_PMU_V3, else 0.</summary>
    public const int Dfr0PmuVerShift = 8;
    public const ulong PmuVerV3 = 1;
    /// <summary>ID_AA64ISAR0_EL1: the core's (AES, PMULL, SHA1, SHA256, CRC32).</summary>
    public const ulong Aa64Isar0 = CpuIdentity.Aa64Isar0;
    /// <summary>ID_AA64MMFR0_EL1: the core's, with PARange = 44 bits: the IPA limit KVM answers for
    /// KVM_CAP_ARM_VM_IPA_SIZE (<see cref="Capabilities.IpaLimit"/>) follows from it.</summary>
    public const ulong Aa64Mmfr0 = (CpuIdentity.Aa64Mmfr0 & ~0xFUL) | 0x4;

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
