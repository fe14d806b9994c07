using System.Runtime.InteropServices;

namespace Kvmfs.Protocol.Uapi;

// The structs the arm64 KVM ioctls take, byte for byte as the arm64 kernel lays them out
// (LP64, natural alignment). Field names are the UAPI's, so api.rst reads straight onto them;
// the layout test checks every offset and size against the C compiler. Pointers are __u64
// here: the daemon never dereferences VMM addresses, it asks the front end to copy.

/// <summary>KVM_SET_USER_MEMORY_REGION.</summary>
[CStruct("kvm_userspace_memory_region"), StructLayout(LayoutKind.Explicit, Size = 32)]
public struct KvmUserspaceMemoryRegion
{
    [FieldOffset(0)] public uint slot;
    [FieldOffset(4)] public uint flags;
    [FieldOffset(8)] public ulong guest_phys_addr;
    [FieldOffset(16)] public ulong memory_size;
    [FieldOffset(24)] public ulong userspace_addr;

    /// <summary>Address space id in the high half of <see cref="slot"/> (KVM_CAP_MULTI_ADDRESS_SPACE); always 0 on arm64.</summary>
    public readonly uint AddressSpace => slot >> 16;
    public readonly uint SlotId => slot & 0xffff;
}

/// <summary>KVM_GET_ONE_REG / KVM_SET_ONE_REG: the register id and the VMM address of its value.</summary>
[CStruct("kvm_one_reg"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmOneReg
{
    [FieldOffset(0)] public ulong id;
    [FieldOffset(8)] public ulong addr;
}

/// <summary>KVM_GET_REG_LIST header; n register ids (u64) follow it in the caller's memory.</summary>
[CStruct("kvm_reg_list"), StructLayout(LayoutKind.Explicit, Size = 8)]
public struct KvmRegList
{
    [FieldOffset(0)] public ulong n;
}

/// <summary>KVM_ARM_VCPU_INIT and KVM_ARM_PREFERRED_TARGET.</summary>
[CStruct("kvm_vcpu_init"), StructLayout(LayoutKind.Explicit, Size = 32)]
public unsafe struct KvmVcpuInit
{
    [FieldOffset(0)] public uint target;
    [FieldOffset(4)] public fixed uint features[7];

    public readonly bool HasFeature(int bit) => (features[bit / 32] & (1u << (bit % 32))) != 0;
    public void SetFeature(int bit) => features[bit / 32] |= 1u << (bit % 32);
}

/// <summary>KVM_SET/GET/HAS_DEVICE_ATTR on a device, VM or vCPU fd.</summary>
[CStruct("kvm_device_attr"), StructLayout(LayoutKind.Explicit, Size = 24)]
public struct KvmDeviceAttr
{
    [FieldOffset(0)] public uint flags;
    [FieldOffset(4)] public uint group;
    [FieldOffset(8)] public ulong attr;
    [FieldOffset(16)] public ulong addr;
}

/// <summary>KVM_CREATE_DEVICE: type and flags in, the new device fd out.</summary>
[CStruct("kvm_create_device"), StructLayout(LayoutKind.Explicit, Size = 12)]
public struct KvmCreateDevice
{
    [FieldOffset(0)] public uint type;
    [FieldOffset(4)] public uint fd;
    [FieldOffset(8)] public uint flags;

    /// <summary>Where the kernel writes the new fd, for <c>IoctlResult.NewFd</c>.</summary>
    public const int FdOffset = 4;
}

/// <summary>KVM_IRQ_LINE (and KVM_IRQ_LINE_STATUS, which writes status back over irq).</summary>
[CStruct("kvm_irq_level"), StructLayout(LayoutKind.Explicit, Size = 8)]
public struct KvmIrqLevel
{
    [FieldOffset(0)] public uint irq;
    [FieldOffset(0)] public int status;
    [FieldOffset(4)] public uint level;
}

/// <summary>KVM_IRQFD.</summary>
[CStruct("kvm_irqfd"), StructLayout(LayoutKind.Explicit, Size = 32)]
public unsafe struct KvmIrqfd
{
    [FieldOffset(0)] public uint fd;
    [FieldOffset(4)] public uint gsi;
    [FieldOffset(8)] public uint flags;
    [FieldOffset(12)] public uint resamplefd;
    [FieldOffset(16)] public fixed byte pad[16];
}

/// <summary>KVM_IOEVENTFD.</summary>
[CStruct("kvm_ioeventfd"), StructLayout(LayoutKind.Explicit, Size = 64)]
public unsafe struct KvmIoeventfd
{
    [FieldOffset(0)] public ulong datamatch;
    [FieldOffset(8)] public ulong addr;
    [FieldOffset(16)] public uint len;
    [FieldOffset(20)] public int fd;
    [FieldOffset(24)] public uint flags;
    [FieldOffset(28)] public fixed byte pad[36];
}

/// <summary>KVM_ENABLE_CAP on a VM or vCPU fd.</summary>
[CStruct("kvm_enable_cap"), StructLayout(LayoutKind.Explicit, Size = 104)]
public unsafe struct KvmEnableCap
{
    [FieldOffset(0)] public uint cap;
    [FieldOffset(4)] public uint flags;
    [FieldOffset(8)] public fixed ulong args[4];
    [FieldOffset(40)] public fixed byte pad[64];
}

/// <summary>The pending-SError part of struct kvm_vcpu_events on arm64.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public unsafe struct KvmVcpuEventsException
{
    [FieldOffset(0)] public byte serror_pending;
    [FieldOffset(1)] public byte serror_has_esr;
    [FieldOffset(2)] public byte ext_dabt_pending;
    [FieldOffset(3)] public fixed byte pad[5];
    [FieldOffset(8)] public ulong serror_esr;
}

/// <summary>KVM_GET/SET_VCPU_EVENTS, arm64 layout.</summary>
[CStruct("kvm_vcpu_events"), StructLayout(LayoutKind.Explicit, Size = 64)]
public unsafe struct KvmVcpuEvents
{
    [FieldOffset(0)] public KvmVcpuEventsException exception;
    [FieldOffset(16)] public fixed uint reserved[12];
}

/// <summary>KVM_GET/SET_MP_STATE.</summary>
[CStruct("kvm_mp_state"), StructLayout(LayoutKind.Explicit, Size = 4)]
public struct KvmMpState
{
    [FieldOffset(0)] public uint mp_state;
}

[CStruct("kvm_irq_routing_irqchip"), StructLayout(LayoutKind.Explicit, Size = 8)]
public struct KvmIrqRoutingIrqchip
{
    [FieldOffset(0)] public uint irqchip;
    [FieldOffset(4)] public uint pin;
}

[CStruct("kvm_irq_routing_msi"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmIrqRoutingMsi
{
    [FieldOffset(0)] public uint address_lo;
    [FieldOffset(4)] public uint address_hi;
    [FieldOffset(8)] public uint data;
    [FieldOffset(12)] public uint pad;
    [FieldOffset(12)] public uint devid;
}

/// <summary>The union of struct kvm_irq_routing_entry (named u in C).</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public unsafe struct KvmIrqRoutingEntryUnion
{
    [FieldOffset(0)] public KvmIrqRoutingIrqchip irqchip;
    [FieldOffset(0)] public KvmIrqRoutingMsi msi;
    [FieldOffset(0)] public fixed uint pad[8];
}

/// <summary>One GSI route; KVM_SET_GSI_ROUTING passes nr of these after the header.</summary>
[CStruct("kvm_irq_routing_entry"), StructLayout(LayoutKind.Explicit, Size = 48)]
public struct KvmIrqRoutingEntry
{
    [FieldOffset(0)] public uint gsi;
    [FieldOffset(4)] public uint type;
    [FieldOffset(8)] public uint flags;
    [FieldOffset(12)] public uint pad;
    [FieldOffset(16)] public KvmIrqRoutingEntryUnion u;
}

/// <summary>KVM_SET_GSI_ROUTING header; nr entries of <see cref="KvmIrqRoutingEntry"/> follow.</summary>
[CStruct("kvm_irq_routing"), StructLayout(LayoutKind.Explicit, Size = 8)]
public struct KvmIrqRouting
{
    [FieldOffset(0)] public uint nr;
    [FieldOffset(4)] public uint flags;
}

/// <summary>KVM_SIGNAL_MSI.</summary>
[CStruct("kvm_msi"), StructLayout(LayoutKind.Explicit, Size = 32)]
public unsafe struct KvmMsi
{
    [FieldOffset(0)] public uint address_lo;
    [FieldOffset(4)] public uint address_hi;
    [FieldOffset(8)] public uint data;
    [FieldOffset(12)] public uint flags;
    [FieldOffset(16)] public uint devid;
    [FieldOffset(20)] public fixed byte pad[12];
}

/// <summary>KVM_SET_SIGNAL_MASK header; len bytes of sigset follow (8 on arm64, or 0 to clear).</summary>
[CStruct("kvm_signal_mask"), StructLayout(LayoutKind.Explicit, Size = 4)]
public struct KvmSignalMask
{
    [FieldOffset(0)] public uint len;
}

/// <summary>KVM_GET_DIRTY_LOG.</summary>
[CStruct("kvm_dirty_log"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmDirtyLog
{
    [FieldOffset(0)] public uint slot;
    [FieldOffset(4)] public uint padding1;
    [FieldOffset(8)] public ulong dirty_bitmap;
    [FieldOffset(8)] public ulong padding2;
}

/// <summary>KVM_CLEAR_DIRTY_LOG.</summary>
[CStruct("kvm_clear_dirty_log"), StructLayout(LayoutKind.Explicit, Size = 24)]
public struct KvmClearDirtyLog
{
    [FieldOffset(0)] public uint slot;
    [FieldOffset(4)] public uint num_pages;
    [FieldOffset(8)] public ulong first_page;
    [FieldOffset(16)] public ulong dirty_bitmap;
    [FieldOffset(16)] public ulong padding2;
}

/// <summary>One entry of a dirty ring (KVM_CAP_DIRTY_LOG_RING), mapped from the vCPU fd.</summary>
[CStruct("kvm_dirty_gfn"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmDirtyGfn
{
    [FieldOffset(0)] public uint flags;
    [FieldOffset(4)] public uint slot;
    [FieldOffset(8)] public ulong offset;
}

/// <summary>KVM_ARM_SET_DEVICE_ADDR (legacy vGICv2 placement after KVM_CREATE_IRQCHIP).</summary>
[CStruct("kvm_arm_device_addr"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmArmDeviceAddr
{
    [FieldOffset(0)] public ulong id;
    [FieldOffset(8)] public ulong addr;
}

/// <summary>The arm64 breakpoint/watchpoint registers handed over with KVM_SET_GUEST_DEBUG.</summary>
[CStruct("kvm_guest_debug_arch"), StructLayout(LayoutKind.Explicit, Size = 512)]
public unsafe struct KvmGuestDebugArch
{
    public const int KVM_ARM_MAX_DBG_REGS = 16;
    [FieldOffset(0)] public fixed ulong dbg_bcr[16];
    [FieldOffset(128)] public fixed ulong dbg_bvr[16];
    [FieldOffset(256)] public fixed ulong dbg_wcr[16];
    [FieldOffset(384)] public fixed ulong dbg_wvr[16];
}

/// <summary>KVM_SET_GUEST_DEBUG.</summary>
[CStruct("kvm_guest_debug"), StructLayout(LayoutKind.Explicit, Size = 520)]
public struct KvmGuestDebug
{
    [FieldOffset(0)] public uint control;
    [FieldOffset(4)] public uint pad;
    [FieldOffset(8)] public KvmGuestDebugArch arch;
}

/// <summary>KVM_REGISTER_COALESCED_MMIO / KVM_UNREGISTER_COALESCED_MMIO.</summary>
[CStruct("kvm_coalesced_mmio_zone"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmCoalescedMmioZone
{
    [FieldOffset(0)] public ulong addr;
    [FieldOffset(8)] public uint size;
    [FieldOffset(12)] public uint pad;
    [FieldOffset(12)] public uint pio;
}

/// <summary>One entry of the coalesced MMIO ring.</summary>
[CStruct("kvm_coalesced_mmio"), StructLayout(LayoutKind.Explicit, Size = 24)]
public unsafe struct KvmCoalescedMmio
{
    [FieldOffset(0)] public ulong phys_addr;
    [FieldOffset(8)] public uint len;
    [FieldOffset(12)] public uint pad;
    [FieldOffset(12)] public uint pio;
    [FieldOffset(16)] public fixed byte data[8];
}

/// <summary>Head of the coalesced MMIO ring page (at KVM_COALESCED_MMIO_PAGE_OFFSET pages into the vCPU mapping); entries follow.</summary>
[CStruct("kvm_coalesced_mmio_ring"), StructLayout(LayoutKind.Explicit, Size = 8)]
public struct KvmCoalescedMmioRing
{
    [FieldOffset(0)] public uint first;
    [FieldOffset(4)] public uint last;
}

/// <summary>Head of the binary stats file (KVM_GET_STATS_FD).</summary>
[CStruct("kvm_stats_header"), StructLayout(LayoutKind.Explicit, Size = 24)]
public struct KvmStatsHeader
{
    [FieldOffset(0)] public uint flags;
    [FieldOffset(4)] public uint name_size;
    [FieldOffset(8)] public uint num_desc;
    [FieldOffset(12)] public uint id_offset;
    [FieldOffset(16)] public uint desc_offset;
    [FieldOffset(20)] public uint data_offset;
}

/// <summary>One stats descriptor; its name (name_size bytes) follows.</summary>
[CStruct("kvm_stats_desc"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmStatsDesc
{
    [FieldOffset(0)] public uint flags;
    [FieldOffset(4)] public short exponent;
    [FieldOffset(6)] public ushort size;
    [FieldOffset(8)] public uint offset;
    [FieldOffset(12)] public uint bucket_size;
}

/// <summary>KVM_ARM_MTE_COPY_TAGS.</summary>
[CStruct("kvm_arm_copy_mte_tags"), StructLayout(LayoutKind.Explicit, Size = 48)]
public unsafe struct KvmArmCopyMteTags
{
    [FieldOffset(0)] public ulong guest_ipa;
    [FieldOffset(8)] public ulong length;
    [FieldOffset(16)] public ulong addr;
    [FieldOffset(24)] public ulong flags;
    [FieldOffset(32)] public fixed ulong reserved[2];
}

/// <summary>A PMU event range, the data of the vCPU attribute KVM_ARM_VCPU_PMU_V3_FILTER.</summary>
[CStruct("kvm_pmu_event_filter"), StructLayout(LayoutKind.Explicit, Size = 8)]
public unsafe struct KvmPmuEventFilter
{
    [FieldOffset(0)] public ushort base_event;
    [FieldOffset(2)] public ushort nevents;
    [FieldOffset(4)] public byte action;
    [FieldOffset(5)] public fixed byte pad[3];
}

/// <summary>KVM_ARM_SET_COUNTER_OFFSET (Linux 6.4).</summary>
[CStruct("kvm_arm_counter_offset"), StructLayout(LayoutKind.Explicit, Size = 16)]
[NotInUapi61("added in Linux 6.4; the Debian headers are 6.1")]
public struct KvmArmCounterOffset
{
    [FieldOffset(0)] public ulong counter_offset;
    [FieldOffset(8)] public ulong reserved;
}

/// <summary>The general purpose registers as ptrace and KVM's kvm_regs lay them out.</summary>
[CStruct("user_pt_regs"), StructLayout(LayoutKind.Explicit, Size = 272)]
public unsafe struct UserPtRegs
{
    [FieldOffset(0)] public fixed ulong regs[31];
    [FieldOffset(248)] public ulong sp;
    [FieldOffset(256)] public ulong pc;
    [FieldOffset(264)] public ulong pstate;
}

/// <summary>The FP/SIMD registers: V0-V31 (128 bits each), FPSR, FPCR.</summary>
[CStruct("user_fpsimd_state"), StructLayout(LayoutKind.Explicit, Size = 528)]
public unsafe struct UserFpsimdState
{
    /// <summary>32 registers of 128 bits, low half first (little endian).</summary>
    [FieldOffset(0)] public fixed ulong vregs[64];
    [FieldOffset(512)] public uint fpsr;
    [FieldOffset(516)] public uint fpcr;
    [FieldOffset(520)] public fixed uint __reserved[2];
}

/// <summary>
/// struct kvm_regs: KVM_GET/SET_REGS answer ENOTTY on arm64, but core ONE_REG ids are offsets
/// into this struct (in 32-bit words), so it defines the core register numbering.
/// </summary>
[CStruct("kvm_regs"), StructLayout(LayoutKind.Explicit, Size = 864)]
public unsafe struct KvmRegs
{
    public const int KVM_NR_SPSR = 5;
    [FieldOffset(0)] public UserPtRegs regs;
    [FieldOffset(272)] public ulong sp_el1;
    [FieldOffset(280)] public ulong elr_el1;
    [FieldOffset(288)] public fixed ulong spsr[5];
    [FieldOffset(336)] public UserFpsimdState fp_regs;
}

/// <summary>kvm_run.s.regs on arm64 (KVM_CAP_ARM_USER_IRQ).</summary>
[CStruct("kvm_sync_regs"), StructLayout(LayoutKind.Explicit, Size = 8)]
public struct KvmSyncRegs
{
    [FieldOffset(0)] public ulong device_irq_level;
}

/// <summary>The exit information of KVM_EXIT_DEBUG on arm64.</summary>
[CStruct("kvm_debug_exit_arch"), StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmDebugExitArch
{
    [FieldOffset(0)] public uint hsr;
    /// <summary>ESR_EL2[61:32]; valid when kvm_run.flags has KVM_DEBUG_ARCH_HSR_HIGH_VALID.</summary>
    [FieldOffset(4)] public uint hsr_high;
    [FieldOffset(8)] public ulong far;
}
