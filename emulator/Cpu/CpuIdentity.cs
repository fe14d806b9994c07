namespace Kvmfs.Emulator.Cpu;

/// <summary>
/// What the emulated core is and implements, in its identification registers: a Cortex-A57-class
/// ARMv8.0-A core. This is the one place these values live: <see cref="ArmCpu.Reset"/> loads them,
/// and the daemon's KVM derives what a guest reads from them (daemon/Kvm/OneReg/IdRegisters.cs).
/// Advertise only what the emulator implements; a field grows here when its instructions land.
/// </summary>
public static class CpuIdentity
{
    /// <summary>MIDR_EL1: Arm Cortex-A57 r1p0.</summary>
    public const ulong Midr = 0x411F_D070;
    /// <summary>CTR_EL0: 64-byte lines, CWG/ERG 16 words, VIPT L1 I-cache.</summary>
    public const ulong Ctr = 0x8444_C004;
    /// <summary>DCZID_EL0: DC ZVA zeroes 64 bytes.</summary>
    public const ulong Dczid = 4;
    /// <summary>CLIDR_EL1: separate L1 I/D, unified L2.</summary>
    public const ulong Clidr = 0x0A20_0023;
    /// <summary>CCSIDR_EL1 for CSSELR 0 (L1D), 1 (L1I), 2 (L2): the cache geometry of an A57.</summary>
    public static readonly ulong[] Ccsidr = [0x701F_E00A, 0x201F_E012, 0x70FF_E07A];

    /// <summary>ID_AA64PFR0_EL1: EL0, EL1, EL2 AArch64 only, no EL3; FP and AdvSIMD; GIC = 1: the GICv3 CPU interface
    /// system registers (ICC_*, ICH_*; Cpu/Gic/).</summary>
    public const ulong Aa64Pfr0 = 0x0000_0000_0100_0111;
    /// <summary>ID_AA64DFR0_EL1: debug v8, 6 breakpoints, 4 watchpoints, 2 context comparators, no PMU.</summary>
    public const ulong Aa64Dfr0 = 0x1030_5006;
    /// <summary>ID_AA64ISAR0_EL1: AES + PMULL, SHA1, SHA256, CRC32; no LSE atomics.</summary>
    public const ulong Aa64Isar0 = 0x0001_1120;
    /// <summary>ID_AA64MMFR0_EL1: 48-bit PA, 16-bit ASIDs, 4K/16K/64K granules, little-endian only.</summary>
    public const ulong Aa64Mmfr0 = 0x0010_0025;
}
