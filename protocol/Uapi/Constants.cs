namespace Kvmfs.Protocol.Uapi;

// KVM UAPI constants, grouped as api.rst groups them. Each name is the C macro's; the layout
// test compares every constant in a [UapiConstants] class with the arm64 Linux 6.1 headers.

/// <summary>Generic KVM numbers.</summary>
[UapiConstants]
public static class Kvm
{
    /// <summary>KVM_GET_API_VERSION's answer; anything else means an incompatible KVM.</summary>
    public const int KVM_API_VERSION = 12;
    /// <summary>The ioctl type byte of every KVM ioctl.</summary>
    public const uint KVMIO = 0xAE;
    /// <summary>Page offset (in pages) of the coalesced MMIO ring inside the vCPU mapping.</summary>
    public const uint KVM_COALESCED_MMIO_PAGE_OFFSET = 1;
    /// <summary>Page offset of the dirty ring inside the vCPU mapping; 0 (not defined) on arm64 in 6.1.</summary>
    public const uint KVM_DIRTY_LOG_PAGE_OFFSET = 0;
    /// <summary>KVM_CREATE_VM type on arm64: the low byte is the IPA size in bits, 0 meaning 40.</summary>
    public const ulong KVM_VM_TYPE_ARM_IPA_SIZE_MASK = 0xff;
    public static ulong KVM_VM_TYPE_ARM_IPA_SIZE(uint bits) => bits & KVM_VM_TYPE_ARM_IPA_SIZE_MASK;
    /// <summary>The one irqchip (the vGIC) for routing entries of type KVM_IRQ_ROUTING_IRQCHIP.</summary>
    public const uint KVM_NR_IRQCHIPS = 1;
}

/// <summary>kvm_run.exit_reason values and the sub-codes that come with some of them.</summary>
[UapiConstants]
public static class KvmExit
{
    public const uint KVM_EXIT_UNKNOWN = 0;
    public const uint KVM_EXIT_EXCEPTION = 1;
    public const uint KVM_EXIT_IO = 2;
    public const uint KVM_EXIT_HYPERCALL = 3;
    public const uint KVM_EXIT_DEBUG = 4;
    public const uint KVM_EXIT_HLT = 5;
    public const uint KVM_EXIT_MMIO = 6;
    public const uint KVM_EXIT_IRQ_WINDOW_OPEN = 7;
    public const uint KVM_EXIT_SHUTDOWN = 8;
    public const uint KVM_EXIT_FAIL_ENTRY = 9;
    public const uint KVM_EXIT_INTR = 10;
    public const uint KVM_EXIT_SET_TPR = 11;
    public const uint KVM_EXIT_TPR_ACCESS = 12;
    public const uint KVM_EXIT_S390_SIEIC = 13;
    public const uint KVM_EXIT_S390_RESET = 14;
    public const uint KVM_EXIT_DCR = 15;
    public const uint KVM_EXIT_NMI = 16;
    public const uint KVM_EXIT_INTERNAL_ERROR = 17;
    public const uint KVM_EXIT_OSI = 18;
    public const uint KVM_EXIT_PAPR_HCALL = 19;
    public const uint KVM_EXIT_S390_UCONTROL = 20;
    public const uint KVM_EXIT_WATCHDOG = 21;
    public const uint KVM_EXIT_S390_TSCH = 22;
    public const uint KVM_EXIT_EPR = 23;
    public const uint KVM_EXIT_SYSTEM_EVENT = 24;
    public const uint KVM_EXIT_S390_STSI = 25;
    public const uint KVM_EXIT_IOAPIC_EOI = 26;
    public const uint KVM_EXIT_HYPERV = 27;
    public const uint KVM_EXIT_ARM_NISV = 28;
    public const uint KVM_EXIT_X86_RDMSR = 29;
    public const uint KVM_EXIT_X86_WRMSR = 30;
    public const uint KVM_EXIT_DIRTY_RING_FULL = 31;
    public const uint KVM_EXIT_AP_RESET_HOLD = 32;
    public const uint KVM_EXIT_X86_BUS_LOCK = 33;
    public const uint KVM_EXIT_XEN = 34;
    public const uint KVM_EXIT_RISCV_SBI = 35;
    public const uint KVM_EXIT_RISCV_CSR = 36;
    public const uint KVM_EXIT_NOTIFY = 37;

    /// <summary>kvm_run.internal.suberror for KVM_EXIT_INTERNAL_ERROR.</summary>
    public const uint KVM_INTERNAL_ERROR_EMULATION = 1;
    public const uint KVM_INTERNAL_ERROR_SIMUL_EX = 2;
    public const uint KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
    public const uint KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

    /// <summary>kvm_run.fail_entry.hardware_entry_failure_reason on arm64: the vCPU cannot run on this CPU.</summary>
    public const ulong KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED = 1ul << 0;

    /// <summary>kvm_run.flags for KVM_EXIT_DEBUG: debug.arch.hsr_high holds ESR_EL2[61:32].</summary>
    public const uint KVM_DEBUG_ARCH_HSR_HIGH_VALID = 1u << 0;

    /// <summary>"KVM_EXIT_MMIO" for 6, null when unknown.</summary>
    public static string? Name(uint reason) => UapiNames.Lookup(typeof(KvmExit), reason, "KVM_EXIT_");
}

/// <summary>kvm_run.system_event.type for KVM_EXIT_SYSTEM_EVENT.</summary>
[UapiConstants]
public static class KvmSystemEvent
{
    public const uint KVM_SYSTEM_EVENT_SHUTDOWN = 1;
    public const uint KVM_SYSTEM_EVENT_RESET = 2;
    public const uint KVM_SYSTEM_EVENT_CRASH = 3;
    public const uint KVM_SYSTEM_EVENT_WAKEUP = 4;
    public const uint KVM_SYSTEM_EVENT_SUSPEND = 5;
    public const uint KVM_SYSTEM_EVENT_SEV_TERM = 6;

    /// <summary>arm64: data[0] flag of a RESET caused by PSCI 1.1 SYSTEM_RESET2.</summary>
    public const ulong KVM_SYSTEM_EVENT_RESET_FLAG_PSCI_RESET2 = 1ul << 0;

    public static string? Name(uint type) => UapiNames.Lookup(typeof(KvmSystemEvent), type, "KVM_SYSTEM_EVENT_");
}

/// <summary>kvm_mp_state.mp_state. arm64 uses RUNNABLE, STOPPED (PSCI CPU_OFF) and SUSPENDED.</summary>
[UapiConstants]
public static class KvmMpStates
{
    public const uint KVM_MP_STATE_RUNNABLE = 0;
    public const uint KVM_MP_STATE_UNINITIALIZED = 1;
    public const uint KVM_MP_STATE_INIT_RECEIVED = 2;
    public const uint KVM_MP_STATE_HALTED = 3;
    public const uint KVM_MP_STATE_SIPI_RECEIVED = 4;
    public const uint KVM_MP_STATE_STOPPED = 5;
    public const uint KVM_MP_STATE_CHECK_STOP = 6;
    public const uint KVM_MP_STATE_OPERATING = 7;
    public const uint KVM_MP_STATE_LOAD = 8;
    public const uint KVM_MP_STATE_AP_RESET_HOLD = 9;
    public const uint KVM_MP_STATE_SUSPENDED = 10;

    public static string? Name(uint state) => UapiNames.Lookup(typeof(KvmMpStates), state);
}

/// <summary>arm64 vCPU configuration: KVM_ARM_VCPU_INIT features and targets, vCPU device attributes.</summary>
[UapiConstants]
public static class KvmArm
{
    // kvm_vcpu_init.features bit numbers
    public const int KVM_ARM_VCPU_POWER_OFF = 0;
    public const int KVM_ARM_VCPU_EL1_32BIT = 1;
    public const int KVM_ARM_VCPU_PSCI_0_2 = 2;
    public const int KVM_ARM_VCPU_PMU_V3 = 3;
    public const int KVM_ARM_VCPU_SVE = 4;
    public const int KVM_ARM_VCPU_PTRAUTH_ADDRESS = 5;
    public const int KVM_ARM_VCPU_PTRAUTH_GENERIC = 6;
    [NotInUapi61("Linux 6.10 (nested virtualization)")] public const int KVM_ARM_VCPU_HAS_EL2 = 7;

    // kvm_vcpu_init.target
    public const uint KVM_ARM_TARGET_AEM_V8 = 0;
    public const uint KVM_ARM_TARGET_FOUNDATION_V8 = 1;
    public const uint KVM_ARM_TARGET_CORTEX_A57 = 2;
    public const uint KVM_ARM_TARGET_XGENE_POTENZA = 3;
    public const uint KVM_ARM_TARGET_CORTEX_A53 = 4;
    public const uint KVM_ARM_TARGET_GENERIC_V8 = 5;
    public const uint KVM_ARM_NUM_TARGETS = 6;

    // Device attribute groups and attributes on a vCPU fd
    public const uint KVM_ARM_VCPU_PMU_V3_CTRL = 0;
    public const ulong KVM_ARM_VCPU_PMU_V3_IRQ = 0;
    public const ulong KVM_ARM_VCPU_PMU_V3_INIT = 1;
    public const ulong KVM_ARM_VCPU_PMU_V3_FILTER = 2;
    public const ulong KVM_ARM_VCPU_PMU_V3_SET_PMU = 3;
    public const uint KVM_ARM_VCPU_TIMER_CTRL = 1;
    public const ulong KVM_ARM_VCPU_TIMER_IRQ_VTIMER = 0;
    public const ulong KVM_ARM_VCPU_TIMER_IRQ_PTIMER = 1;
    public const uint KVM_ARM_VCPU_PVTIME_CTRL = 2;
    public const ulong KVM_ARM_VCPU_PVTIME_IPA = 0;

    // kvm_pmu_event_filter.action
    public const byte KVM_PMU_EVENT_ALLOW = 0;
    public const byte KVM_PMU_EVENT_DENY = 1;

    // KVM_IRQ_LINE: irq = vcpu2_index << 28 | type << 24 | vcpu_index << 16 | number
    public const int KVM_ARM_IRQ_VCPU2_SHIFT = 28;
    public const uint KVM_ARM_IRQ_VCPU2_MASK = 0xf;
    public const int KVM_ARM_IRQ_TYPE_SHIFT = 24;
    public const uint KVM_ARM_IRQ_TYPE_MASK = 0xf;
    public const int KVM_ARM_IRQ_VCPU_SHIFT = 16;
    public const uint KVM_ARM_IRQ_VCPU_MASK = 0xff;
    public const int KVM_ARM_IRQ_NUM_SHIFT = 0;
    public const uint KVM_ARM_IRQ_NUM_MASK = 0xffff;
    public const uint KVM_ARM_IRQ_TYPE_CPU = 0;
    public const uint KVM_ARM_IRQ_TYPE_SPI = 1;
    public const uint KVM_ARM_IRQ_TYPE_PPI = 2;
    public const uint KVM_ARM_IRQ_CPU_IRQ = 0;
    public const uint KVM_ARM_IRQ_CPU_FIQ = 1;
    public const uint KVM_ARM_IRQ_GIC_MAX = 127;

    // KVM_ARM_SET_DEVICE_ADDR id: device id in bits 16-31, address type in 0-15
    public const int KVM_ARM_DEVICE_TYPE_SHIFT = 0;
    public const ulong KVM_ARM_DEVICE_TYPE_MASK = 0xffff;
    public const int KVM_ARM_DEVICE_ID_SHIFT = 16;
    public const ulong KVM_ARM_DEVICE_ID_MASK = 0xffff0000;
    public const uint KVM_ARM_DEVICE_VGIC_V2 = 0;

    // KVM_ARM_MTE_COPY_TAGS flags
    public const ulong KVM_ARM_TAGS_TO_GUEST = 0;
    public const ulong KVM_ARM_TAGS_FROM_GUEST = 1;

    // kvm_regs.spsr[] indices
    public const int KVM_SPSR_EL1 = 0;
    public const int KVM_SPSR_SVC = KVM_SPSR_EL1;
    public const int KVM_SPSR_ABT = 1;
    public const int KVM_SPSR_UND = 2;
    public const int KVM_SPSR_IRQ = 3;
    public const int KVM_SPSR_FIQ = 4;
    public const int KVM_NR_SPSR = 5;

    public const int KVM_ARM_MAX_DBG_REGS = 16;

    // kvm_run.s.regs.device_irq_level bits (KVM_CAP_ARM_USER_IRQ: timers and PMU in user space)
    public const ulong KVM_ARM_DEV_EL1_VTIMER = 1u << 0;
    public const ulong KVM_ARM_DEV_EL1_PTIMER = 1u << 1;
    public const ulong KVM_ARM_DEV_PMU = 1u << 2;

    /// <summary>Builds KVM_IRQ_LINE's irq field.</summary>
    public static uint IrqLine(uint type, uint vcpuIndex, uint number) =>
        ((vcpuIndex >> 8 & KVM_ARM_IRQ_VCPU2_MASK) << KVM_ARM_IRQ_VCPU2_SHIFT)
        | ((type & KVM_ARM_IRQ_TYPE_MASK) << KVM_ARM_IRQ_TYPE_SHIFT)
        | ((vcpuIndex & KVM_ARM_IRQ_VCPU_MASK) << KVM_ARM_IRQ_VCPU_SHIFT)
        | (number & KVM_ARM_IRQ_NUM_MASK);

    /// <summary>Takes KVM_IRQ_LINE's irq field apart. The vCPU index includes the VCPU2 bits
    /// (KVM_CAP_ARM_IRQ_LINE_LAYOUT_2).</summary>
    public static (uint Type, uint VcpuIndex, uint Number) DecodeIrqLine(uint irq) => (
        (irq >> KVM_ARM_IRQ_TYPE_SHIFT) & KVM_ARM_IRQ_TYPE_MASK,
        ((irq >> KVM_ARM_IRQ_VCPU_SHIFT) & KVM_ARM_IRQ_VCPU_MASK)
            | (((irq >> KVM_ARM_IRQ_VCPU2_SHIFT) & KVM_ARM_IRQ_VCPU2_MASK) << 8),
        irq & KVM_ARM_IRQ_NUM_MASK);

    private static readonly string[] FeatureNames =
    [
        "KVM_ARM_VCPU_POWER_OFF", "KVM_ARM_VCPU_EL1_32BIT", "KVM_ARM_VCPU_PSCI_0_2", "KVM_ARM_VCPU_PMU_V3",
        "KVM_ARM_VCPU_SVE", "KVM_ARM_VCPU_PTRAUTH_ADDRESS", "KVM_ARM_VCPU_PTRAUTH_GENERIC", "KVM_ARM_VCPU_HAS_EL2",
    ];

    /// <summary>"KVM_ARM_VCPU_PSCI_0_2" for feature bit 2, null when unknown.</summary>
    public static string? FeatureName(int bit) => bit >= 0 && bit < FeatureNames.Length ? FeatureNames[bit] : null;

    public static string? TargetName(uint target) => UapiNames.Lookup(typeof(KvmArm), target, "KVM_ARM_TARGET_");
}

/// <summary>The vGIC device (KVM_DEV_TYPE_ARM_VGIC_V2/V3/ITS): attribute groups, address types, control attributes.</summary>
[UapiConstants]
public static class KvmVgic
{
    // KVM_DEV_ARM_VGIC_GRP_ADDR attributes (also KVM_ARM_SET_DEVICE_ADDR types)
    public const ulong KVM_VGIC_V2_ADDR_TYPE_DIST = 0;
    public const ulong KVM_VGIC_V2_ADDR_TYPE_CPU = 1;
    public const ulong KVM_VGIC_V3_ADDR_TYPE_DIST = 2;
    public const ulong KVM_VGIC_V3_ADDR_TYPE_REDIST = 3;
    public const ulong KVM_VGIC_ITS_ADDR_TYPE = 4;
    public const ulong KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION = 5;

    public const ulong KVM_VGIC_V2_DIST_SIZE = 0x1000;
    public const ulong KVM_VGIC_V2_CPU_SIZE = 0x2000;
    public const ulong KVM_VGIC_V3_DIST_SIZE = 0x10000;
    public const ulong KVM_VGIC_V3_REDIST_SIZE = 2 * 0x10000;
    public const ulong KVM_VGIC_V3_ITS_SIZE = 2 * 0x10000;

    // Attribute groups
    public const uint KVM_DEV_ARM_VGIC_GRP_ADDR = 0;
    public const uint KVM_DEV_ARM_VGIC_GRP_DIST_REGS = 1;
    public const uint KVM_DEV_ARM_VGIC_GRP_CPU_REGS = 2;
    public const uint KVM_DEV_ARM_VGIC_GRP_NR_IRQS = 3;
    public const uint KVM_DEV_ARM_VGIC_GRP_CTRL = 4;
    public const uint KVM_DEV_ARM_VGIC_GRP_REDIST_REGS = 5;
    public const uint KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS = 6;
    public const uint KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO = 7;
    public const uint KVM_DEV_ARM_VGIC_GRP_ITS_REGS = 8;

    // attr encoding for the register groups
    public const int KVM_DEV_ARM_VGIC_CPUID_SHIFT = 32;
    public const ulong KVM_DEV_ARM_VGIC_CPUID_MASK = 0xfful << KVM_DEV_ARM_VGIC_CPUID_SHIFT;
    public const int KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT = 32;
    public const ulong KVM_DEV_ARM_VGIC_V3_MPIDR_MASK = 0xfffffffful << KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT;
    public const int KVM_DEV_ARM_VGIC_OFFSET_SHIFT = 0;
    public const ulong KVM_DEV_ARM_VGIC_OFFSET_MASK = 0xfffffffful << KVM_DEV_ARM_VGIC_OFFSET_SHIFT;
    public const ulong KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK = 0xffff;
    public const int KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT = 10;
    public const ulong KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK = 0x3ffffful << KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT;
    public const ulong KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK = 0x3ff;
    public const ulong VGIC_LEVEL_INFO_LINE_LEVEL = 0;

    // KVM_DEV_ARM_VGIC_GRP_CTRL attributes
    public const ulong KVM_DEV_ARM_VGIC_CTRL_INIT = 0;
    public const ulong KVM_DEV_ARM_ITS_SAVE_TABLES = 1;
    public const ulong KVM_DEV_ARM_ITS_RESTORE_TABLES = 2;
    public const ulong KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES = 3;
    public const ulong KVM_DEV_ARM_ITS_CTRL_RESET = 4;

    // The u64 value of KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION (layout from arm-vgic-v3.rst; the
    // names are the kernel's internal ones).
    [NotInUapi61("kernel-internal (arch/arm64/kvm/vgic/vgic.h)")] public const ulong KVM_VGIC_V3_RDIST_INDEX_MASK = 0xfff;
    [NotInUapi61("kernel-internal (arch/arm64/kvm/vgic/vgic.h)")] public const ulong KVM_VGIC_V3_RDIST_FLAGS_MASK = 0xf000;
    [NotInUapi61("kernel-internal (arch/arm64/kvm/vgic/vgic.h)")] public const ulong KVM_VGIC_V3_RDIST_BASE_MASK = 0x000fffffffff0000;
    [NotInUapi61("kernel-internal (arch/arm64/kvm/vgic/vgic.h)")] public const int KVM_VGIC_V3_RDIST_COUNT_SHIFT = 52;
    [NotInUapi61("kernel-internal (arch/arm64/kvm/vgic/vgic.h)")] public const ulong KVM_VGIC_V3_RDIST_COUNT_MASK = 0xfff0000000000000;

    public static string? GroupName(uint group) => UapiNames.Lookup(typeof(KvmVgic), group, "KVM_DEV_ARM_VGIC_GRP_");
}

/// <summary>KVM_CREATE_DEVICE types and flags.</summary>
[UapiConstants]
public static class KvmDevType
{
    public const uint KVM_DEV_TYPE_FSL_MPIC_20 = 1;
    public const uint KVM_DEV_TYPE_FSL_MPIC_42 = 2;
    public const uint KVM_DEV_TYPE_XICS = 3;
    public const uint KVM_DEV_TYPE_VFIO = 4;
    public const uint KVM_DEV_TYPE_ARM_VGIC_V2 = 5;
    public const uint KVM_DEV_TYPE_FLIC = 6;
    public const uint KVM_DEV_TYPE_ARM_VGIC_V3 = 7;
    public const uint KVM_DEV_TYPE_ARM_VGIC_ITS = 8;
    public const uint KVM_DEV_TYPE_XIVE = 9;
    public const uint KVM_DEV_TYPE_ARM_PV_TIME = 10;
    public const uint KVM_DEV_TYPE_MAX = 11;

    /// <summary>kvm_create_device.flags: only check that the type could be created.</summary>
    public const uint KVM_CREATE_DEVICE_TEST = 1;

    public static string? Name(uint type) => UapiNames.Lookup(typeof(KvmDevType), type, "KVM_DEV_TYPE_", static n => n != "KVM_DEV_TYPE_MAX");
}

/// <summary>kvm_userspace_memory_region.flags.</summary>
[UapiConstants]
public static class KvmMem
{
    public const uint KVM_MEM_LOG_DIRTY_PAGES = 1u << 0;
    public const uint KVM_MEM_READONLY = 1u << 1;
}

/// <summary>kvm_irqfd.flags.</summary>
[UapiConstants]
public static class KvmIrqfdFlags
{
    public const uint KVM_IRQFD_FLAG_DEASSIGN = 1u << 0;
    public const uint KVM_IRQFD_FLAG_RESAMPLE = 1u << 1;
}

/// <summary>kvm_ioeventfd.flags.</summary>
[UapiConstants]
public static class KvmIoeventfdFlags
{
    public const uint KVM_IOEVENTFD_FLAG_DATAMATCH = 1u << 0;
    public const uint KVM_IOEVENTFD_FLAG_PIO = 1u << 1;
    public const uint KVM_IOEVENTFD_FLAG_DEASSIGN = 1u << 2;
    public const uint KVM_IOEVENTFD_FLAG_VIRTIO_CCW_NOTIFY = 1u << 3;
    public const uint KVM_IOEVENTFD_VALID_FLAG_MASK = (1u << 5) - 1;
}

/// <summary>GSI routing entry types and MSI flags.</summary>
[UapiConstants]
public static class KvmIrqRoutingType
{
    public const uint KVM_IRQ_ROUTING_IRQCHIP = 1;
    public const uint KVM_IRQ_ROUTING_MSI = 2;
    public const uint KVM_IRQ_ROUTING_S390_ADAPTER = 3;
    public const uint KVM_IRQ_ROUTING_HV_SINT = 4;
    public const uint KVM_IRQ_ROUTING_XEN_EVTCHN = 5;

    /// <summary>kvm_msi.flags and kvm_irq_routing_entry.flags: devid is valid (GICv3 ITS).</summary>
    public const uint KVM_MSI_VALID_DEVID = 1u << 0;

    public static string? Name(uint type) => UapiNames.Lookup(typeof(KvmIrqRoutingType), type, "KVM_IRQ_ROUTING_");
}

/// <summary>kvm_guest_debug.control.</summary>
[UapiConstants]
public static class KvmGuestDebugFlags
{
    public const uint KVM_GUESTDBG_ENABLE = 0x00000001;
    public const uint KVM_GUESTDBG_SINGLESTEP = 0x00000002;
    public const uint KVM_GUESTDBG_USE_SW_BP = 1u << 16;
    public const uint KVM_GUESTDBG_USE_HW = 1u << 17;
}

/// <summary>Dirty logging: KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2 arguments and dirty ring entry flags.</summary>
[UapiConstants]
public static class KvmDirtyLogFlags
{
    public const ulong KVM_DIRTY_LOG_MANUAL_PROTECT_ENABLE = 1ul << 0;
    public const ulong KVM_DIRTY_LOG_INITIALLY_SET = 1ul << 1;
    public const uint KVM_DIRTY_GFN_F_DIRTY = 1u << 0;
    public const uint KVM_DIRTY_GFN_F_RESET = 1u << 1;
    public const uint KVM_DIRTY_GFN_F_MASK = 0x3;
}

/// <summary>kvm_stats_desc.flags fields.</summary>
[UapiConstants]
public static class KvmStats
{
    public const int KVM_STATS_TYPE_SHIFT = 0;
    public const uint KVM_STATS_TYPE_MASK = 0xFu << KVM_STATS_TYPE_SHIFT;
    public const uint KVM_STATS_TYPE_CUMULATIVE = 0x0u << KVM_STATS_TYPE_SHIFT;
    public const uint KVM_STATS_TYPE_INSTANT = 0x1u << KVM_STATS_TYPE_SHIFT;
    public const uint KVM_STATS_TYPE_PEAK = 0x2u << KVM_STATS_TYPE_SHIFT;
    public const uint KVM_STATS_TYPE_LINEAR_HIST = 0x3u << KVM_STATS_TYPE_SHIFT;
    public const uint KVM_STATS_TYPE_LOG_HIST = 0x4u << KVM_STATS_TYPE_SHIFT;
    public const uint KVM_STATS_TYPE_MAX = KVM_STATS_TYPE_LOG_HIST;

    public const int KVM_STATS_UNIT_SHIFT = 4;
    public const uint KVM_STATS_UNIT_MASK = 0xFu << KVM_STATS_UNIT_SHIFT;
    public const uint KVM_STATS_UNIT_NONE = 0x0u << KVM_STATS_UNIT_SHIFT;
    public const uint KVM_STATS_UNIT_BYTES = 0x1u << KVM_STATS_UNIT_SHIFT;
    public const uint KVM_STATS_UNIT_SECONDS = 0x2u << KVM_STATS_UNIT_SHIFT;
    public const uint KVM_STATS_UNIT_CYCLES = 0x3u << KVM_STATS_UNIT_SHIFT;
    public const uint KVM_STATS_UNIT_BOOLEAN = 0x4u << KVM_STATS_UNIT_SHIFT;
    public const uint KVM_STATS_UNIT_MAX = KVM_STATS_UNIT_BOOLEAN;

    public const int KVM_STATS_BASE_SHIFT = 8;
    public const uint KVM_STATS_BASE_MASK = 0xFu << KVM_STATS_BASE_SHIFT;
    public const uint KVM_STATS_BASE_POW10 = 0x0u << KVM_STATS_BASE_SHIFT;
    public const uint KVM_STATS_BASE_POW2 = 0x1u << KVM_STATS_BASE_SHIFT;
    public const uint KVM_STATS_BASE_MAX = KVM_STATS_BASE_POW2;
}

/// <summary>PSCI function ids and return codes (&lt;linux/psci.h&gt;), and KVM's PSCI v0.1 ids (&lt;asm/kvm.h&gt;).</summary>
[UapiConstants]
public static class Psci
{
    public const uint PSCI_0_2_FN_BASE = 0x84000000;
    public const uint PSCI_0_2_64BIT = 0x40000000;
    public const uint PSCI_0_2_FN64_BASE = PSCI_0_2_FN_BASE + PSCI_0_2_64BIT;

    public const uint PSCI_0_2_FN_PSCI_VERSION = PSCI_0_2_FN_BASE + 0;
    public const uint PSCI_0_2_FN_CPU_SUSPEND = PSCI_0_2_FN_BASE + 1;
    public const uint PSCI_0_2_FN_CPU_OFF = PSCI_0_2_FN_BASE + 2;
    public const uint PSCI_0_2_FN_CPU_ON = PSCI_0_2_FN_BASE + 3;
    public const uint PSCI_0_2_FN_AFFINITY_INFO = PSCI_0_2_FN_BASE + 4;
    public const uint PSCI_0_2_FN_MIGRATE = PSCI_0_2_FN_BASE + 5;
    public const uint PSCI_0_2_FN_MIGRATE_INFO_TYPE = PSCI_0_2_FN_BASE + 6;
    public const uint PSCI_0_2_FN_MIGRATE_INFO_UP_CPU = PSCI_0_2_FN_BASE + 7;
    public const uint PSCI_0_2_FN_SYSTEM_OFF = PSCI_0_2_FN_BASE + 8;
    public const uint PSCI_0_2_FN_SYSTEM_RESET = PSCI_0_2_FN_BASE + 9;
    public const uint PSCI_0_2_FN64_CPU_SUSPEND = PSCI_0_2_FN64_BASE + 1;
    public const uint PSCI_0_2_FN64_CPU_ON = PSCI_0_2_FN64_BASE + 3;
    public const uint PSCI_0_2_FN64_AFFINITY_INFO = PSCI_0_2_FN64_BASE + 4;
    public const uint PSCI_0_2_FN64_MIGRATE = PSCI_0_2_FN64_BASE + 5;
    public const uint PSCI_0_2_FN64_MIGRATE_INFO_UP_CPU = PSCI_0_2_FN64_BASE + 7;
    public const uint PSCI_1_0_FN_PSCI_FEATURES = PSCI_0_2_FN_BASE + 10;
    public const uint PSCI_1_0_FN_CPU_FREEZE = PSCI_0_2_FN_BASE + 11;
    public const uint PSCI_1_0_FN_CPU_DEFAULT_SUSPEND = PSCI_0_2_FN_BASE + 12;
    public const uint PSCI_1_0_FN_NODE_HW_STATE = PSCI_0_2_FN_BASE + 13;
    public const uint PSCI_1_0_FN_SYSTEM_SUSPEND = PSCI_0_2_FN_BASE + 14;
    public const uint PSCI_1_0_FN_SET_SUSPEND_MODE = PSCI_0_2_FN_BASE + 15;
    public const uint PSCI_1_0_FN_STAT_RESIDENCY = PSCI_0_2_FN_BASE + 16;
    public const uint PSCI_1_0_FN_STAT_COUNT = PSCI_0_2_FN_BASE + 17;
    public const uint PSCI_1_1_FN_SYSTEM_RESET2 = PSCI_0_2_FN_BASE + 18;
    public const uint PSCI_1_1_FN_MEM_PROTECT = PSCI_0_2_FN_BASE + 19;
    public const uint PSCI_1_1_FN_MEM_PROTECT_CHECK_RANGE = PSCI_0_2_FN_BASE + 19;
    public const uint PSCI_1_0_FN64_CPU_DEFAULT_SUSPEND = PSCI_0_2_FN64_BASE + 12;
    public const uint PSCI_1_0_FN64_NODE_HW_STATE = PSCI_0_2_FN64_BASE + 13;
    public const uint PSCI_1_0_FN64_SYSTEM_SUSPEND = PSCI_0_2_FN64_BASE + 14;
    public const uint PSCI_1_0_FN64_STAT_RESIDENCY = PSCI_0_2_FN64_BASE + 16;
    public const uint PSCI_1_0_FN64_STAT_COUNT = PSCI_0_2_FN64_BASE + 17;
    public const uint PSCI_1_1_FN64_SYSTEM_RESET2 = PSCI_0_2_FN64_BASE + 18;
    public const uint PSCI_1_1_FN64_MEM_PROTECT_CHECK_RANGE = PSCI_0_2_FN64_BASE + 19;

    public const int PSCI_0_2_AFFINITY_LEVEL_ON = 0;
    public const int PSCI_0_2_AFFINITY_LEVEL_OFF = 1;
    public const int PSCI_0_2_AFFINITY_LEVEL_ON_PENDING = 2;
    public const int PSCI_0_2_TOS_UP_MIGRATE = 0;
    public const int PSCI_0_2_TOS_UP_NO_MIGRATE = 1;
    public const int PSCI_0_2_TOS_MP = 2;
    public const int PSCI_VERSION_MAJOR_SHIFT = 16;

    public const int PSCI_RET_SUCCESS = 0;
    public const int PSCI_RET_NOT_SUPPORTED = -1;
    public const int PSCI_RET_INVALID_PARAMS = -2;
    public const int PSCI_RET_DENIED = -3;
    public const int PSCI_RET_ALREADY_ON = -4;
    public const int PSCI_RET_ON_PENDING = -5;
    public const int PSCI_RET_INTERNAL_FAILURE = -6;
    public const int PSCI_RET_NOT_PRESENT = -7;
    public const int PSCI_RET_DISABLED = -8;
    public const int PSCI_RET_INVALID_ADDRESS = -9;

    /// <summary>KVM's own PSCI v0.1 function ids (what a guest reads from the v0.1 device tree node).</summary>
    public const uint KVM_PSCI_FN_BASE = 0x95c1ba5e;
    public const uint KVM_PSCI_FN_CPU_SUSPEND = KVM_PSCI_FN_BASE + 0;
    public const uint KVM_PSCI_FN_CPU_OFF = KVM_PSCI_FN_BASE + 1;
    public const uint KVM_PSCI_FN_CPU_ON = KVM_PSCI_FN_BASE + 2;
    public const uint KVM_PSCI_FN_MIGRATE = KVM_PSCI_FN_BASE + 3;
    public const int KVM_PSCI_RET_SUCCESS = PSCI_RET_SUCCESS;
    public const int KVM_PSCI_RET_NI = PSCI_RET_NOT_SUPPORTED;
    public const int KVM_PSCI_RET_INVAL = PSCI_RET_INVALID_PARAMS;
    public const int KVM_PSCI_RET_DENIED = PSCI_RET_DENIED;

    /// <summary>PSCI version word: major in bits 16-30, minor in 0-15.</summary>
    public static uint Version(uint major, uint minor) => (major << PSCI_VERSION_MAJOR_SHIFT) | (minor & 0xffff);

    /// <summary>The PSCI versions KVM_REG_ARM_PSCI_VERSION takes.</summary>
    [NotInUapi61("kernel-internal (include/kvm/arm_psci.h)")] public const uint KVM_ARM_PSCI_0_1 = 0x00000;
    [NotInUapi61("kernel-internal (include/kvm/arm_psci.h)")] public const uint KVM_ARM_PSCI_0_2 = 0x00002;
    [NotInUapi61("kernel-internal (include/kvm/arm_psci.h)")] public const uint KVM_ARM_PSCI_1_0 = 0x10000;
    [NotInUapi61("kernel-internal (include/kvm/arm_psci.h)")] public const uint KVM_ARM_PSCI_1_1 = 0x10001;

    public static string? FunctionName(uint fn) => UapiNames.Lookup(typeof(Psci), fn, null, static n => n.Contains("_FN") && !n.EndsWith("_BASE", StringComparison.Ordinal));
}

/// <summary>
/// SMCCC function ids KVM answers for its guests (include/linux/arm-smccc.h, a kernel-internal
/// header, so the layout test cannot compare these; the values are fixed by Arm's SMCCC spec).
/// </summary>
public static class Smccc
{
    public const uint ARM_SMCCC_VERSION_1_0 = 0x10000;
    public const uint ARM_SMCCC_VERSION_1_1 = 0x10001;
    public const uint ARM_SMCCC_VERSION_1_2 = 0x10002;
    public const uint ARM_SMCCC_VERSION_1_3 = 0x10003;

    public const uint ARM_SMCCC_VERSION_FUNC_ID = 0x80000000;
    public const uint ARM_SMCCC_ARCH_FEATURES_FUNC_ID = 0x80000001;
    public const uint ARM_SMCCC_ARCH_SOC_ID = 0x80000002;
    public const uint ARM_SMCCC_ARCH_WORKAROUND_1 = 0x80008000;
    public const uint ARM_SMCCC_ARCH_WORKAROUND_2 = 0x80007fff;
    public const uint ARM_SMCCC_ARCH_WORKAROUND_3 = 0x80003fff;
    public const uint ARM_SMCCC_TRNG_VERSION = 0x84000050;
    public const uint ARM_SMCCC_TRNG_FEATURES = 0x84000051;
    public const uint ARM_SMCCC_TRNG_GET_UUID = 0x84000052;
    public const uint ARM_SMCCC_TRNG_RND32 = 0x84000053;
    public const uint ARM_SMCCC_TRNG_RND64 = 0xC4000053;
    public const uint ARM_SMCCC_HV_PV_TIME_FEATURES = 0xC5000020;
    public const uint ARM_SMCCC_HV_PV_TIME_ST = 0xC5000021;
    public const uint ARM_SMCCC_VENDOR_HYP_CALL_UID_FUNC_ID = 0x8600ff01;
    public const uint ARM_SMCCC_VENDOR_HYP_KVM_FEATURES_FUNC_ID = 0x86000000;
    public const uint ARM_SMCCC_VENDOR_HYP_KVM_PTP_FUNC_ID = 0x86000001;

    /// <summary>The UID KVM returns for VENDOR_HYP_CALL_UID, in w0..w3.</summary>
    public const uint ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_0 = 0xb66fb428;
    public const uint ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_1 = 0xe911c52e;
    public const uint ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_2 = 0x564bcaa9;
    public const uint ARM_SMCCC_VENDOR_HYP_UID_KVM_REG_3 = 0x743a004d;

    public const uint KVM_PTP_VIRT_COUNTER = 0;
    public const uint KVM_PTP_PHYS_COUNTER = 1;

    public const int SMCCC_RET_SUCCESS = 0;
    public const int SMCCC_RET_NOT_SUPPORTED = -1;
    public const int SMCCC_RET_NOT_REQUIRED = -2;
    public const int SMCCC_RET_INVALID_PARAMETER = -3;
    public const int SMCCC_ARCH_WORKAROUND_RET_UNAFFECTED = 1;

    // Function id fields
    public const int ARM_SMCCC_TYPE_SHIFT = 31;
    public const int ARM_SMCCC_CALL_CONV_SHIFT = 30;
    public const int ARM_SMCCC_OWNER_SHIFT = 24;
    public const uint ARM_SMCCC_OWNER_MASK = 0x3F;
    public const uint ARM_SMCCC_FUNC_MASK = 0xFFFF;
    public const uint ARM_SMCCC_OWNER_ARCH = 0;
    public const uint ARM_SMCCC_OWNER_CPU = 1;
    public const uint ARM_SMCCC_OWNER_SIP = 2;
    public const uint ARM_SMCCC_OWNER_OEM = 3;
    public const uint ARM_SMCCC_OWNER_STANDARD = 4;
    public const uint ARM_SMCCC_OWNER_STANDARD_HYP = 5;
    public const uint ARM_SMCCC_OWNER_VENDOR_HYP = 6;

    public static bool IsFastCall(uint fn) => (fn >> ARM_SMCCC_TYPE_SHIFT) != 0;
    public static bool Is64(uint fn) => ((fn >> ARM_SMCCC_CALL_CONV_SHIFT) & 1) != 0;
    public static uint Owner(uint fn) => (fn >> ARM_SMCCC_OWNER_SHIFT) & ARM_SMCCC_OWNER_MASK;
    public static uint FunctionNumber(uint fn) => fn & ARM_SMCCC_FUNC_MASK;
}
