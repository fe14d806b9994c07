namespace Kvmfs.Protocol.Uapi;

/// <summary>
/// KVM_GET/SET_ONE_REG register ids: architecture (bits 56-63), size (52-55, log2 bytes),
/// coprocessor class (16-27 on arm64) and an index whose meaning depends on the class.
/// </summary>
[UapiConstants]
public static class KvmReg
{
    public const ulong KVM_REG_ARCH_MASK = 0xff00000000000000;
    public const ulong KVM_REG_GENERIC = 0x0000000000000000;
    public const ulong KVM_REG_ARM = 0x4000000000000000;
    public const ulong KVM_REG_ARM64 = 0x6000000000000000;

    public const int KVM_REG_SIZE_SHIFT = 52;
    public const ulong KVM_REG_SIZE_MASK = 0x00f0000000000000;
    public const ulong KVM_REG_SIZE_U8 = 0x0000000000000000;
    public const ulong KVM_REG_SIZE_U16 = 0x0010000000000000;
    public const ulong KVM_REG_SIZE_U32 = 0x0020000000000000;
    public const ulong KVM_REG_SIZE_U64 = 0x0030000000000000;
    public const ulong KVM_REG_SIZE_U128 = 0x0040000000000000;
    public const ulong KVM_REG_SIZE_U256 = 0x0050000000000000;
    public const ulong KVM_REG_SIZE_U512 = 0x0060000000000000;
    public const ulong KVM_REG_SIZE_U1024 = 0x0070000000000000;
    public const ulong KVM_REG_SIZE_U2048 = 0x0080000000000000;

    public const ulong KVM_REG_ARM_COPROC_MASK = 0x000000000FFF0000;
    public const int KVM_REG_ARM_COPROC_SHIFT = 16;

    /// <summary>Core registers: the index is the offset into struct kvm_regs in 32-bit words.</summary>
    public const ulong KVM_REG_ARM_CORE = 0x0010ul << KVM_REG_ARM_COPROC_SHIFT;

    /// <summary>Demultiplexed registers (CCSIDR_EL1 per cache level).</summary>
    public const ulong KVM_REG_ARM_DEMUX = 0x0011ul << KVM_REG_ARM_COPROC_SHIFT;
    public const ulong KVM_REG_ARM_DEMUX_ID_MASK = 0x000000000000FF00;
    public const int KVM_REG_ARM_DEMUX_ID_SHIFT = 8;
    public const ulong KVM_REG_ARM_DEMUX_ID_CCSIDR = 0x00ul << KVM_REG_ARM_DEMUX_ID_SHIFT;
    public const ulong KVM_REG_ARM_DEMUX_VAL_MASK = 0x00000000000000FF;
    public const int KVM_REG_ARM_DEMUX_VAL_SHIFT = 0;

    /// <summary>AArch64 system registers: op0/op1/CRn/CRm/op2 in the low 16 bits.</summary>
    public const ulong KVM_REG_ARM64_SYSREG = 0x0013ul << KVM_REG_ARM_COPROC_SHIFT;
    public const ulong KVM_REG_ARM64_SYSREG_OP0_MASK = 0x000000000000c000;
    public const int KVM_REG_ARM64_SYSREG_OP0_SHIFT = 14;
    public const ulong KVM_REG_ARM64_SYSREG_OP1_MASK = 0x0000000000003800;
    public const int KVM_REG_ARM64_SYSREG_OP1_SHIFT = 11;
    public const ulong KVM_REG_ARM64_SYSREG_CRN_MASK = 0x0000000000000780;
    public const int KVM_REG_ARM64_SYSREG_CRN_SHIFT = 7;
    public const ulong KVM_REG_ARM64_SYSREG_CRM_MASK = 0x0000000000000078;
    public const int KVM_REG_ARM64_SYSREG_CRM_SHIFT = 3;
    public const ulong KVM_REG_ARM64_SYSREG_OP2_MASK = 0x0000000000000007;
    public const int KVM_REG_ARM64_SYSREG_OP2_SHIFT = 0;

    /// <summary>KVM's firmware pseudo-registers (PSCI version, SMCCC workarounds).</summary>
    public const ulong KVM_REG_ARM_FW = 0x0014ul << KVM_REG_ARM_COPROC_SHIFT;
    public const ulong KVM_REG_ARM_PSCI_VERSION = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW | 0;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1 = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW | 1;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_AVAIL = 0;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_AVAIL = 1;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED = 2;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2 = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW | 2;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_AVAIL = 0;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_UNKNOWN = 1;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_AVAIL = 2;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED = 3;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_ENABLED = 1u << 4;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3 = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW | 3;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_AVAIL = 0;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_AVAIL = 1;
    public const ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_REQUIRED = 2;

    /// <summary>Bitmaps of the hypercall services a guest may see.</summary>
    public const ulong KVM_REG_ARM_FW_FEAT_BMAP = 0x0016ul << KVM_REG_ARM_COPROC_SHIFT;
    public const ulong KVM_REG_ARM_STD_BMAP = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW_FEAT_BMAP | 0;
    public const ulong KVM_REG_ARM_STD_HYP_BMAP = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW_FEAT_BMAP | 1;
    public const ulong KVM_REG_ARM_VENDOR_HYP_BMAP = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW_FEAT_BMAP | 2;
    public const int KVM_REG_ARM_STD_BIT_TRNG_V1_0 = 0;
    public const int KVM_REG_ARM_STD_HYP_BIT_PV_TIME = 0;
    public const int KVM_REG_ARM_VENDOR_HYP_BIT_FUNC_FEAT = 0;
    public const int KVM_REG_ARM_VENDOR_HYP_BIT_PTP = 1;

    /// <summary>SVE registers (only with KVM_ARM_VCPU_SVE).</summary>
    public const ulong KVM_REG_ARM64_SVE = 0x15ul << KVM_REG_ARM_COPROC_SHIFT;
    public const ulong KVM_REG_ARM64_SVE_ZREG_BASE = 0;
    public const ulong KVM_REG_ARM64_SVE_PREG_BASE = 0x400;
    public const ulong KVM_REG_ARM64_SVE_FFR_BASE = 0x600;
    public const int KVM_ARM64_SVE_NUM_ZREGS = 32;
    public const int KVM_ARM64_SVE_NUM_PREGS = 16;
    public const int KVM_ARM64_SVE_MAX_SLICES = 32;
    public const int KVM_ARM64_SVE_VQ_MIN = 1;
    public const int KVM_ARM64_SVE_VQ_MAX = 512;
    public const ulong KVM_REG_ARM64_SVE_VLS = KVM_REG_ARM64 | KVM_REG_ARM64_SVE | KVM_REG_SIZE_U512 | 0xffff;
    public const int KVM_ARM64_SVE_VLS_WORDS = (KVM_ARM64_SVE_VQ_MAX - KVM_ARM64_SVE_VQ_MIN) / 64 + 1;

    // The generic timer. CVAL and CNT carry each other's encodings by an old mistake that is now ABI.
    public const ulong KVM_REG_ARM_TIMER_CTL = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | (3ul << 14) | (3ul << 11) | (14ul << 7) | (3ul << 3) | 1;
    public const ulong KVM_REG_ARM_TIMER_CVAL = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | (3ul << 14) | (3ul << 11) | (14ul << 7) | (0ul << 3) | 2;
    public const ulong KVM_REG_ARM_TIMER_CNT = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | (3ul << 14) | (3ul << 11) | (14ul << 7) | (3ul << 3) | 2;
    public const ulong KVM_REG_ARM_PTIMER_CTL = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | (3ul << 14) | (3ul << 11) | (14ul << 7) | (2ul << 3) | 1;
    public const ulong KVM_REG_ARM_PTIMER_CVAL = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | (3ul << 14) | (3ul << 11) | (14ul << 7) | (2ul << 3) | 2;
    public const ulong KVM_REG_ARM_PTIMER_CNT = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | (3ul << 14) | (3ul << 11) | (14ul << 7) | (0ul << 3) | 1;
}

/// <summary>The coprocessor classes of an arm64 ONE_REG id.</summary>
public enum OneRegClass
{
    Unknown,
    Core,
    Demux,
    SysReg,
    Firmware,
    Sve,
    FirmwareFeatureBitmap,
}

/// <summary>Builds and takes apart arm64 ONE_REG ids.</summary>
public static class OneRegId
{
    /// <summary>A core register: <paramref name="offsetInKvmRegs"/> is the byte offset into struct kvm_regs
    /// (use <see cref="CoreRegs"/> offsets), <paramref name="sizeBytes"/> 4, 8 or 16.</summary>
    public static ulong Core(int offsetInKvmRegs, int sizeBytes = 8) =>
        KvmReg.KVM_REG_ARM64 | SizeField(sizeBytes) | KvmReg.KVM_REG_ARM_CORE | (ulong)((uint)offsetInKvmRegs / 4);

    /// <summary>A 64-bit AArch64 system register by its encoding.</summary>
    public static ulong SysReg(int op0, int op1, int crn, int crm, int op2) =>
        KvmReg.KVM_REG_ARM64 | KvmReg.KVM_REG_SIZE_U64 | KvmReg.KVM_REG_ARM64_SYSREG | SysRegIndex(op0, op1, crn, crm, op2);

    /// <summary>The low 16 bits of a sysreg id (also the key of <see cref="SysRegs"/>).</summary>
    public static ulong SysRegIndex(int op0, int op1, int crn, int crm, int op2) =>
        (((ulong)op0 << KvmReg.KVM_REG_ARM64_SYSREG_OP0_SHIFT) & KvmReg.KVM_REG_ARM64_SYSREG_OP0_MASK)
        | (((ulong)op1 << KvmReg.KVM_REG_ARM64_SYSREG_OP1_SHIFT) & KvmReg.KVM_REG_ARM64_SYSREG_OP1_MASK)
        | (((ulong)crn << KvmReg.KVM_REG_ARM64_SYSREG_CRN_SHIFT) & KvmReg.KVM_REG_ARM64_SYSREG_CRN_MASK)
        | (((ulong)crm << KvmReg.KVM_REG_ARM64_SYSREG_CRM_SHIFT) & KvmReg.KVM_REG_ARM64_SYSREG_CRM_MASK)
        | (((ulong)op2 << KvmReg.KVM_REG_ARM64_SYSREG_OP2_SHIFT) & KvmReg.KVM_REG_ARM64_SYSREG_OP2_MASK);

    public static ulong Firmware(int index) => KvmReg.KVM_REG_ARM64 | KvmReg.KVM_REG_SIZE_U64 | KvmReg.KVM_REG_ARM_FW | ((ulong)index & 0xffff);

    public static ulong FirmwareFeatureBitmap(int index) =>
        KvmReg.KVM_REG_ARM64 | KvmReg.KVM_REG_SIZE_U64 | KvmReg.KVM_REG_ARM_FW_FEAT_BMAP | ((ulong)index & 0xffff);

    /// <summary>CCSIDR_EL1 for the cache selected by <paramref name="csselr"/> (32-bit value).</summary>
    public static ulong DemuxCcsidr(int csselr) =>
        KvmReg.KVM_REG_ARM64 | KvmReg.KVM_REG_SIZE_U32 | KvmReg.KVM_REG_ARM_DEMUX | KvmReg.KVM_REG_ARM_DEMUX_ID_CCSIDR | ((ulong)csselr & 0xff);

    public static ulong SveZreg(int n, int slice) => KvmReg.KVM_REG_ARM64 | KvmReg.KVM_REG_ARM64_SVE | KvmReg.KVM_REG_ARM64_SVE_ZREG_BASE
        | KvmReg.KVM_REG_SIZE_U2048 | ((ulong)(uint)(n & (KvmReg.KVM_ARM64_SVE_NUM_ZREGS - 1)) << 5) | (ulong)(uint)(slice & (KvmReg.KVM_ARM64_SVE_MAX_SLICES - 1));

    public static ulong SvePreg(int n, int slice) => KvmReg.KVM_REG_ARM64 | KvmReg.KVM_REG_ARM64_SVE | KvmReg.KVM_REG_ARM64_SVE_PREG_BASE
        | KvmReg.KVM_REG_SIZE_U256 | ((ulong)(uint)(n & (KvmReg.KVM_ARM64_SVE_NUM_PREGS - 1)) << 5) | (ulong)(uint)(slice & (KvmReg.KVM_ARM64_SVE_MAX_SLICES - 1));

    public static ulong SveFfr(int slice) => KvmReg.KVM_REG_ARM64 | KvmReg.KVM_REG_ARM64_SVE | KvmReg.KVM_REG_ARM64_SVE_FFR_BASE
        | KvmReg.KVM_REG_SIZE_U256 | (ulong)(uint)(slice & (KvmReg.KVM_ARM64_SVE_MAX_SLICES - 1));

    public static ulong SizeField(int sizeBytes) => sizeBytes switch
    {
        1 => KvmReg.KVM_REG_SIZE_U8,
        2 => KvmReg.KVM_REG_SIZE_U16,
        4 => KvmReg.KVM_REG_SIZE_U32,
        8 => KvmReg.KVM_REG_SIZE_U64,
        16 => KvmReg.KVM_REG_SIZE_U128,
        32 => KvmReg.KVM_REG_SIZE_U256,
        64 => KvmReg.KVM_REG_SIZE_U512,
        128 => KvmReg.KVM_REG_SIZE_U1024,
        256 => KvmReg.KVM_REG_SIZE_U2048,
        _ => throw new ArgumentOutOfRangeException(nameof(sizeBytes), sizeBytes, "ONE_REG sizes are powers of two up to 256"),
    };

    public static bool IsArm64(ulong id) => (id & KvmReg.KVM_REG_ARCH_MASK) == KvmReg.KVM_REG_ARM64;

    /// <summary>The value's size in bytes (KVM_REG_SIZE).</summary>
    public static int SizeBytes(ulong id) => 1 << (int)((id & KvmReg.KVM_REG_SIZE_MASK) >> KvmReg.KVM_REG_SIZE_SHIFT);

    public static ulong Coproc(ulong id) => id & KvmReg.KVM_REG_ARM_COPROC_MASK;

    public static OneRegClass Class(ulong id) => !IsArm64(id) ? OneRegClass.Unknown : Coproc(id) switch
    {
        KvmReg.KVM_REG_ARM_CORE => OneRegClass.Core,
        KvmReg.KVM_REG_ARM_DEMUX => OneRegClass.Demux,
        KvmReg.KVM_REG_ARM64_SYSREG => OneRegClass.SysReg,
        KvmReg.KVM_REG_ARM_FW => OneRegClass.Firmware,
        KvmReg.KVM_REG_ARM64_SVE => OneRegClass.Sve,
        KvmReg.KVM_REG_ARM_FW_FEAT_BMAP => OneRegClass.FirmwareFeatureBitmap,
        _ => OneRegClass.Unknown,
    };

    /// <summary>For a core id: the byte offset into struct kvm_regs.</summary>
    public static int CoreOffset(ulong id) => (int)(id & 0xffff) * 4;

    /// <summary>For a sysreg id: its encoding.</summary>
    public static (int Op0, int Op1, int CRn, int CRm, int Op2) SysRegFields(ulong id) => (
        (int)((id & KvmReg.KVM_REG_ARM64_SYSREG_OP0_MASK) >> KvmReg.KVM_REG_ARM64_SYSREG_OP0_SHIFT),
        (int)((id & KvmReg.KVM_REG_ARM64_SYSREG_OP1_MASK) >> KvmReg.KVM_REG_ARM64_SYSREG_OP1_SHIFT),
        (int)((id & KvmReg.KVM_REG_ARM64_SYSREG_CRN_MASK) >> KvmReg.KVM_REG_ARM64_SYSREG_CRN_SHIFT),
        (int)((id & KvmReg.KVM_REG_ARM64_SYSREG_CRM_MASK) >> KvmReg.KVM_REG_ARM64_SYSREG_CRM_SHIFT),
        (int)((id & KvmReg.KVM_REG_ARM64_SYSREG_OP2_MASK) >> KvmReg.KVM_REG_ARM64_SYSREG_OP2_SHIFT));

    /// <summary>A readable name for any id: "x0", "pc", "MPIDR_EL1", "KVM_REG_ARM_PSCI_VERSION",
    /// "S3_0_C0_C3_3" for an unnamed sysreg, "SVE Z0[0]"; null only for a non-arm64 id.</summary>
    public static string? Name(ulong id) => RegNames.Name(id);
}
