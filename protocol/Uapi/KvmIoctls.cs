namespace Kvmfs.Protocol.Uapi;

/// <summary>
/// The KVM ioctl numbers an arm64 VMM (kvmtool, QEMU 7.2) or the KVM selftests issue, as
/// constants so daemon code can switch on them. Each is _IOC(dir, KVMIO, nr, sizeof(struct));
/// the size is written out because C# cannot take sizeof of a struct in a constant, and
/// <see cref="IoctlTable"/> plus the layout test tie each size to its struct.
/// </summary>
[UapiConstants]
public static class KvmIoctls
{
    private const uint T = Kvm.KVMIO << Ioc.TYPESHIFT;
    private const int S = Ioc.SIZESHIFT;
    private const uint IO = Ioc.IO | T, IOW = Ioc.IOW | T, IOR = Ioc.IOR | T, IOWR = Ioc.IOWR | T;

    // System ioctls (/dev/kvm)
    public const uint KVM_GET_API_VERSION = IO | 0x00;
    public const uint KVM_CREATE_VM = IO | 0x01;
    public const uint KVM_CHECK_EXTENSION = IO | 0x03;          // also on a VM fd
    public const uint KVM_GET_VCPU_MMAP_SIZE = IO | 0x04;

    // VM ioctls
    public const uint KVM_CREATE_VCPU = IO | 0x41;
    public const uint KVM_GET_DIRTY_LOG = IOW | 0x42 | 16 << S;               // kvm_dirty_log
    public const uint KVM_SET_USER_MEMORY_REGION = IOW | 0x46 | 32 << S;      // kvm_userspace_memory_region
    public const uint KVM_CREATE_IRQCHIP = IO | 0x60;
    public const uint KVM_IRQ_LINE = IOW | 0x61 | 8 << S;                     // kvm_irq_level
    public const uint KVM_IRQ_LINE_STATUS = IOWR | 0x67 | 8 << S;             // kvm_irq_level
    public const uint KVM_REGISTER_COALESCED_MMIO = IOW | 0x67 | 16 << S;     // kvm_coalesced_mmio_zone
    public const uint KVM_UNREGISTER_COALESCED_MMIO = IOW | 0x68 | 16 << S;   // kvm_coalesced_mmio_zone
    public const uint KVM_SET_GSI_ROUTING = IOW | 0x6a | 8 << S;              // kvm_irq_routing
    public const uint KVM_IRQFD = IOW | 0x76 | 32 << S;                       // kvm_irqfd
    public const uint KVM_IOEVENTFD = IOW | 0x79 | 64 << S;                   // kvm_ioeventfd
    public const uint KVM_SIGNAL_MSI = IOW | 0xa5 | 32 << S;                  // kvm_msi
    /// <summary>Same number as KVM_GET_ONE_REG: one goes to a VM fd, the other to a vCPU fd.</summary>
    public const uint KVM_ARM_SET_DEVICE_ADDR = IOW | 0xab | 16 << S;         // kvm_arm_device_addr
    public const uint KVM_ARM_MTE_COPY_TAGS = IOR | 0xb4 | 48 << S;           // kvm_arm_copy_mte_tags
    [NotInUapi61("Linux 6.4")]
    public const uint KVM_ARM_SET_COUNTER_OFFSET = IOW | 0xb5 | 16 << S;      // kvm_arm_counter_offset
    public const uint KVM_CLEAR_DIRTY_LOG = IOWR | 0xc0 | 24 << S;            // kvm_clear_dirty_log
    public const uint KVM_RESET_DIRTY_RINGS = IO | 0xc7;
    public const uint KVM_CREATE_DEVICE = IOWR | 0xe0 | 12 << S;              // kvm_create_device

    // VM and vCPU ioctls
    public const uint KVM_ENABLE_CAP = IOW | 0xa3 | 104 << S;                 // kvm_enable_cap
    public const uint KVM_GET_STATS_FD = IO | 0xce;

    // Device attributes: device, VM (KVM_CAP_VM_ATTRIBUTES) and vCPU fds
    public const uint KVM_SET_DEVICE_ATTR = IOW | 0xe1 | 24 << S;             // kvm_device_attr
    public const uint KVM_GET_DEVICE_ATTR = IOW | 0xe2 | 24 << S;
    public const uint KVM_HAS_DEVICE_ATTR = IOW | 0xe3 | 24 << S;

    // vCPU ioctls
    public const uint KVM_RUN = IO | 0x80;
    public const uint KVM_GET_REGS = IOR | 0x81 | 864 << S;                   // kvm_regs: ENOTTY on arm64
    public const uint KVM_SET_REGS = IOW | 0x82 | 864 << S;
    public const uint KVM_GET_SREGS = IOR | 0x83 | 0 << S;                    // empty struct on arm64: ENOTTY
    public const uint KVM_SET_SREGS = IOW | 0x84 | 0 << S;
    public const uint KVM_SET_SIGNAL_MASK = IOW | 0x8b | 4 << S;              // kvm_signal_mask
    public const uint KVM_GET_FPU = IOR | 0x8c | 0 << S;                      // empty struct on arm64: ENOTTY
    public const uint KVM_SET_FPU = IOW | 0x8d | 0 << S;
    public const uint KVM_GET_MP_STATE = IOR | 0x98 | 4 << S;                 // kvm_mp_state
    public const uint KVM_SET_MP_STATE = IOW | 0x99 | 4 << S;
    public const uint KVM_SET_GUEST_DEBUG = IOW | 0x9b | 520 << S;            // kvm_guest_debug
    public const uint KVM_GET_VCPU_EVENTS = IOR | 0x9f | 64 << S;             // kvm_vcpu_events
    public const uint KVM_SET_VCPU_EVENTS = IOW | 0xa0 | 64 << S;
    public const uint KVM_GET_ONE_REG = IOW | 0xab | 16 << S;                 // kvm_one_reg
    public const uint KVM_SET_ONE_REG = IOW | 0xac | 16 << S;
    public const uint KVM_ARM_VCPU_INIT = IOW | 0xae | 32 << S;               // kvm_vcpu_init
    public const uint KVM_ARM_PREFERRED_TARGET = IOR | 0xaf | 32 << S;        // kvm_vcpu_init (VM fd)
    public const uint KVM_GET_REG_LIST = IOWR | 0xb0 | 8 << S;                // kvm_reg_list
    public const uint KVM_ARM_VCPU_FINALIZE = IOW | 0xc2 | 4 << S;            // int feature
}
