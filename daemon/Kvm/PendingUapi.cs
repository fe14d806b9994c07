namespace Kvmfs.Kvm;

// TEMPORARY: ONE_REG id constants from <asm/kvm.h> / <linux/kvm.h> that protocol/Uapi does not
// define yet. Delete this file once engineer "proto" publishes them.

internal static class PendingUapi
{
    public const ulong KVM_REG_ARCH_MASK = 0xff00000000000000;
    public const ulong KVM_REG_ARM64 = 0x6000000000000000;
    public const int KVM_REG_SIZE_SHIFT = 52;
    public const ulong KVM_REG_SIZE_MASK = 0x00f0000000000000;
    public const ulong KVM_REG_SIZE_U32 = 0x0020000000000000;
    public const ulong KVM_REG_SIZE_U64 = 0x0030000000000000;
    public const ulong KVM_REG_SIZE_U128 = 0x0040000000000000;

    public const ulong KVM_REG_ARM_COPROC_MASK = 0x000000000FFF0000;
    public const ulong KVM_REG_ARM_CORE = 0x0010ul << 16;
    public const ulong KVM_REG_ARM_DEMUX = 0x0011ul << 16;
    public const ulong KVM_REG_ARM64_SYSREG = 0x0013ul << 16;
    public const ulong KVM_REG_ARM_FW = 0x0014ul << 16;
    public const ulong KVM_REG_ARM64_SVE = 0x0015ul << 16;
    public const ulong KVM_REG_ARM_FW_FEAT_BMAP = 0x0016ul << 16;

    public const ulong KVM_REG_ARM_DEMUX_ID_MASK = 0xFF00;
    public const ulong KVM_REG_ARM_DEMUX_ID_CCSIDR = 0;
    public const ulong KVM_REG_ARM_DEMUX_VAL_MASK = 0xFF;

    /// <summary>Bytes of a ONE_REG value: 1 &lt;&lt; size field.</summary>
    public static int RegSize(ulong id) => 1 << (int)((id & KVM_REG_SIZE_MASK) >> KVM_REG_SIZE_SHIFT);

    public static ulong SysReg(int op0, int op1, int crn, int crm, int op2) =>
        KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | SysRegEncoding(op0, op1, crn, crm, op2);

    /// <summary>The 16-bit op0:op1:CRn:CRm:op2 field shared by ONE_REG ids and vGIC CPU_SYSREGS attrs.</summary>
    public static ulong SysRegEncoding(int op0, int op1, int crn, int crm, int op2) =>
        ((ulong)(uint)op0 << 14) | ((ulong)(uint)op1 << 11) | ((ulong)(uint)crn << 7) | ((ulong)(uint)crm << 3) | (ulong)(uint)op2;

    public static ulong FwReg(int r) => KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW | (ulong)(uint)(r & 0xffff);
    public static ulong FwFeatBmapReg(int r) => KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_FW_FEAT_BMAP | (ulong)(uint)(r & 0xffff);

    public static readonly ulong KVM_REG_ARM_TIMER_CTL = SysReg(3, 3, 14, 3, 1);
    // The UAPI swapped these two encodings long ago and keeps them for compatibility.
    public static readonly ulong KVM_REG_ARM_TIMER_CVAL = SysReg(3, 3, 14, 0, 2);
    public static readonly ulong KVM_REG_ARM_TIMER_CNT = SysReg(3, 3, 14, 3, 2);

    public static readonly ulong KVM_REG_ARM_PSCI_VERSION = FwReg(0);
    public static readonly ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1 = FwReg(1);
    public static readonly ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2 = FwReg(2);
    public static readonly ulong KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3 = FwReg(3);
    public static readonly ulong KVM_REG_ARM_STD_BMAP = FwFeatBmapReg(0);
    public static readonly ulong KVM_REG_ARM_STD_HYP_BMAP = FwFeatBmapReg(1);
    public static readonly ulong KVM_REG_ARM_VENDOR_HYP_BMAP = FwFeatBmapReg(2);

    // KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION value layout
    public const ulong KVM_VGIC_V3_RDIST_INDEX_MASK = 0xfff;
    public const ulong KVM_VGIC_V3_RDIST_FLAGS_MASK = 0xf000;
    public const ulong KVM_VGIC_V3_RDIST_BASE_MASK = 0x000fffffffff0000;
    public const int KVM_VGIC_V3_RDIST_COUNT_SHIFT = 52;
    public const ulong KVM_VGIC_V3_RDIST_COUNT_MASK = 0xfff0000000000000;
}
