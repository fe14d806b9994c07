using System.Runtime.CompilerServices;
using static Kvmfs.Protocol.Uapi.KvmFd;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Protocol.Uapi;

/// <summary>Which kinds of fd an ioctl is valid on.</summary>
[Flags]
public enum KvmFd
{
    /// <summary>/dev/kvm.</summary>
    System = 1,
    Vm = 2,
    Vcpu = 4,
    Device = 8,
}

/// <summary>What the third argument of ioctl() is.</summary>
public enum IoctlArg
{
    /// <summary>Ignored.</summary>
    None,
    /// <summary>A number passed by value (CREATE_VM's type, CHECK_EXTENSION's cap, CREATE_VCPU's id).</summary>
    Value,
    /// <summary>A pointer to the struct <see cref="IoctlInfo.StructType"/> (_IOC_SIZE bytes).</summary>
    Struct,
    /// <summary>A pointer to an int (KVM_ARM_VCPU_FINALIZE's feature).</summary>
    IntPointer,
}

/// <summary>One KVM ioctl: its name, number, the fds it goes to and what it carries.</summary>
/// <param name="StructName">The C struct's name (also for structs empty on arm64, which have no C# type).</param>
/// <param name="Trailing">What follows the struct in the caller's memory, for variable-size ioctls.</param>
/// <param name="DirOverride">How the kernel really copies the struct when the number's direction
/// bits say otherwise (KVM_ARM_MTE_COPY_TAGS is _IOR but only read by the kernel).</param>
public sealed record IoctlInfo(
    string Name,
    uint Command,
    KvmFd Fds,
    IoctlArg Arg,
    Type? StructType = null,
    string? StructName = null,
    string? Trailing = null,
    IocDir? DirOverride = null)
{
    public IocDir Dir => Ioc.Dir(Command);
    public uint Nr => Ioc.Nr(Command);
    public uint Size => Ioc.Size(Command);

    /// <summary>The kernel copies the struct in from the caller (copy_from_user) before handling.</summary>
    public bool StructIn => ((DirOverride ?? Dir) & IocDir.Write) != 0;

    /// <summary>The kernel copies the struct back to the caller on success.</summary>
    public bool StructOut => ((DirOverride ?? Dir) & IocDir.Read) != 0;
}

/// <summary>
/// Every ioctl in <see cref="KvmIoctls"/>, one line each. The trace decoder and the daemon look
/// ioctls up here by number and fd kind (numbers are unique per fd kind, not globally:
/// KVM_GET_ONE_REG on a vCPU and KVM_ARM_SET_DEVICE_ADDR on a VM share one).
/// </summary>
public static class IoctlTable
{
    public static IReadOnlyList<IoctlInfo> All { get; } =
    [
        new(nameof(KVM_GET_API_VERSION), KVM_GET_API_VERSION, KvmFd.System, IoctlArg.None),
        new(nameof(KVM_CREATE_VM), KVM_CREATE_VM, KvmFd.System, IoctlArg.Value),
        new(nameof(KVM_CHECK_EXTENSION), KVM_CHECK_EXTENSION, KvmFd.System | Vm, IoctlArg.Value),
        new(nameof(KVM_GET_VCPU_MMAP_SIZE), KVM_GET_VCPU_MMAP_SIZE, KvmFd.System, IoctlArg.None),

        new(nameof(KVM_CREATE_VCPU), KVM_CREATE_VCPU, Vm, IoctlArg.Value),
        new(nameof(KVM_GET_DIRTY_LOG), KVM_GET_DIRTY_LOG, Vm, IoctlArg.Struct, typeof(KvmDirtyLog)),
        new(nameof(KVM_SET_USER_MEMORY_REGION), KVM_SET_USER_MEMORY_REGION, Vm, IoctlArg.Struct, typeof(KvmUserspaceMemoryRegion)),
        new(nameof(KVM_CREATE_IRQCHIP), KVM_CREATE_IRQCHIP, Vm, IoctlArg.None),
        new(nameof(KVM_IRQ_LINE), KVM_IRQ_LINE, Vm, IoctlArg.Struct, typeof(KvmIrqLevel)),
        new(nameof(KVM_IRQ_LINE_STATUS), KVM_IRQ_LINE_STATUS, Vm, IoctlArg.Struct, typeof(KvmIrqLevel)),
        new(nameof(KVM_REGISTER_COALESCED_MMIO), KVM_REGISTER_COALESCED_MMIO, Vm, IoctlArg.Struct, typeof(KvmCoalescedMmioZone)),
        new(nameof(KVM_UNREGISTER_COALESCED_MMIO), KVM_UNREGISTER_COALESCED_MMIO, Vm, IoctlArg.Struct, typeof(KvmCoalescedMmioZone)),
        new(nameof(KVM_SET_GSI_ROUTING), KVM_SET_GSI_ROUTING, Vm, IoctlArg.Struct, typeof(KvmIrqRouting), Trailing: "nr x struct kvm_irq_routing_entry"),
        new(nameof(KVM_IRQFD), KVM_IRQFD, Vm, IoctlArg.Struct, typeof(KvmIrqfd)),
        new(nameof(KVM_IOEVENTFD), KVM_IOEVENTFD, Vm, IoctlArg.Struct, typeof(KvmIoeventfd)),
        new(nameof(KVM_SIGNAL_MSI), KVM_SIGNAL_MSI, Vm, IoctlArg.Struct, typeof(KvmMsi)),
        new(nameof(KVM_ARM_SET_DEVICE_ADDR), KVM_ARM_SET_DEVICE_ADDR, Vm, IoctlArg.Struct, typeof(KvmArmDeviceAddr)),
        new(nameof(KVM_ARM_MTE_COPY_TAGS), KVM_ARM_MTE_COPY_TAGS, Vm, IoctlArg.Struct, typeof(KvmArmCopyMteTags), DirOverride: IocDir.Write),
        new(nameof(KVM_ARM_SET_COUNTER_OFFSET), KVM_ARM_SET_COUNTER_OFFSET, Vm, IoctlArg.Struct, typeof(KvmArmCounterOffset)),
        new(nameof(KVM_CLEAR_DIRTY_LOG), KVM_CLEAR_DIRTY_LOG, Vm, IoctlArg.Struct, typeof(KvmClearDirtyLog)),
        new(nameof(KVM_RESET_DIRTY_RINGS), KVM_RESET_DIRTY_RINGS, Vm, IoctlArg.None),
        new(nameof(KVM_CREATE_DEVICE), KVM_CREATE_DEVICE, Vm, IoctlArg.Struct, typeof(KvmCreateDevice)),
        new(nameof(KVM_ARM_PREFERRED_TARGET), KVM_ARM_PREFERRED_TARGET, Vm, IoctlArg.Struct, typeof(KvmVcpuInit)),

        new(nameof(KVM_ENABLE_CAP), KVM_ENABLE_CAP, Vm | Vcpu, IoctlArg.Struct, typeof(KvmEnableCap)),
        new(nameof(KVM_GET_STATS_FD), KVM_GET_STATS_FD, Vm | Vcpu, IoctlArg.None),
        new(nameof(KVM_SET_DEVICE_ATTR), KVM_SET_DEVICE_ATTR, Vm | Vcpu | Device, IoctlArg.Struct, typeof(KvmDeviceAttr)),
        new(nameof(KVM_GET_DEVICE_ATTR), KVM_GET_DEVICE_ATTR, Vm | Vcpu | Device, IoctlArg.Struct, typeof(KvmDeviceAttr)),
        new(nameof(KVM_HAS_DEVICE_ATTR), KVM_HAS_DEVICE_ATTR, Vm | Vcpu | Device, IoctlArg.Struct, typeof(KvmDeviceAttr)),

        new(nameof(KVM_RUN), KVM_RUN, Vcpu, IoctlArg.None),
        new(nameof(KVM_GET_REGS), KVM_GET_REGS, Vcpu, IoctlArg.Struct, typeof(KvmRegs)),
        new(nameof(KVM_SET_REGS), KVM_SET_REGS, Vcpu, IoctlArg.Struct, typeof(KvmRegs)),
        new(nameof(KVM_GET_SREGS), KVM_GET_SREGS, Vcpu, IoctlArg.Struct, StructName: "kvm_sregs"),
        new(nameof(KVM_SET_SREGS), KVM_SET_SREGS, Vcpu, IoctlArg.Struct, StructName: "kvm_sregs"),
        new(nameof(KVM_SET_SIGNAL_MASK), KVM_SET_SIGNAL_MASK, Vcpu, IoctlArg.Struct, typeof(KvmSignalMask), Trailing: "len bytes of sigset"),
        new(nameof(KVM_GET_FPU), KVM_GET_FPU, Vcpu, IoctlArg.Struct, StructName: "kvm_fpu"),
        new(nameof(KVM_SET_FPU), KVM_SET_FPU, Vcpu, IoctlArg.Struct, StructName: "kvm_fpu"),
        new(nameof(KVM_GET_MP_STATE), KVM_GET_MP_STATE, Vcpu, IoctlArg.Struct, typeof(KvmMpState)),
        new(nameof(KVM_SET_MP_STATE), KVM_SET_MP_STATE, Vcpu, IoctlArg.Struct, typeof(KvmMpState)),
        new(nameof(KVM_SET_GUEST_DEBUG), KVM_SET_GUEST_DEBUG, Vcpu, IoctlArg.Struct, typeof(KvmGuestDebug)),
        new(nameof(KVM_GET_VCPU_EVENTS), KVM_GET_VCPU_EVENTS, Vcpu, IoctlArg.Struct, typeof(KvmVcpuEvents)),
        new(nameof(KVM_SET_VCPU_EVENTS), KVM_SET_VCPU_EVENTS, Vcpu, IoctlArg.Struct, typeof(KvmVcpuEvents)),
        new(nameof(KVM_GET_ONE_REG), KVM_GET_ONE_REG, Vcpu, IoctlArg.Struct, typeof(KvmOneReg)),
        new(nameof(KVM_SET_ONE_REG), KVM_SET_ONE_REG, Vcpu, IoctlArg.Struct, typeof(KvmOneReg)),
        new(nameof(KVM_ARM_VCPU_INIT), KVM_ARM_VCPU_INIT, Vcpu, IoctlArg.Struct, typeof(KvmVcpuInit)),
        new(nameof(KVM_GET_REG_LIST), KVM_GET_REG_LIST, Vcpu, IoctlArg.Struct, typeof(KvmRegList), Trailing: "n x __u64 register id"),
        new(nameof(KVM_ARM_VCPU_FINALIZE), KVM_ARM_VCPU_FINALIZE, Vcpu, IoctlArg.IntPointer, StructName: "int"),
    ];

    private static readonly Dictionary<(uint, KvmFd), IoctlInfo> ByCommandAndFd = BuildIndex();
    private static readonly Dictionary<uint, IoctlInfo> ByCommand = BuildFirstIndex();

    /// <summary>The ioctl <paramref name="command"/> means on an fd of kind <paramref name="fd"/>, or null.</summary>
    public static IoctlInfo? Find(uint command, KvmFd fd) =>
        ByCommandAndFd.TryGetValue((command, fd), out var info) ? info : null;

    /// <summary>The first ioctl with this number on any fd, or null (ambiguous for 0xab: prefer the fd overload).</summary>
    public static IoctlInfo? Find(uint command) => ByCommand.TryGetValue(command, out var info) ? info : null;

    /// <summary>The fd kind the trace's ObjectKind string names ("kvm", "vm", "vcpu", "device").</summary>
    public static KvmFd? FdFromKind(string kind) => kind switch
    {
        "kvm" or "system" => KvmFd.System,
        "vm" => Vm,
        "vcpu" => Vcpu,
        "device" => Device,
        _ => null,
    };

    /// <summary>"KVM_RUN", or the _IOC description of an unknown number.</summary>
    public static string Name(uint command, KvmFd fd) => Find(command, fd)?.Name ?? Find(command)?.Name ?? Ioc.Describe(command);

    /// <summary>The C name of an entry's struct: its [CStruct] name, or the explicit one.</summary>
    public static string? CStructName(IoctlInfo info) =>
        info.StructName ?? (info.StructType is null ? null
            : (Attribute.GetCustomAttribute(info.StructType, typeof(CStructAttribute)) as CStructAttribute)?.Name);

    private static Dictionary<(uint, KvmFd), IoctlInfo> BuildIndex()
    {
        var index = new Dictionary<(uint, KvmFd), IoctlInfo>();
        foreach (var info in All)
            foreach (var fd in new[] { KvmFd.System, Vm, Vcpu, Device })
                if ((info.Fds & fd) != 0 && !index.TryAdd((info.Command, fd), info))
                    throw new InvalidOperationException($"{info.Name} collides with {index[(info.Command, fd)].Name} on a {fd} fd");
        return index;
    }

    private static Dictionary<uint, IoctlInfo> BuildFirstIndex()
    {
        var index = new Dictionary<uint, IoctlInfo>();
        foreach (var info in All) index.TryAdd(info.Command, info);
        return index;
    }
}
