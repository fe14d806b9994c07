using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse.View;

/// <summary>
/// What the file system needs from the KVM "kernel module": the system object behind each open of
/// the kvm node, and the live VMs and vCPUs with their state as text. The tree adds each file's
/// first line (what the reader is looking at, in KVM terms); a view returns the body only.
/// Called from FUSE worker threads, concurrently with running guests: implementations take
/// snapshots under the object model's own locks.
/// </summary>
public interface IKvmView
{
    /// <summary>A new system object for one open of the kvm node, as open("/dev/kvm") makes one.</summary>
    KvmObject OpenSystem(VmOwner owner);

    /// <summary>The VMs alive now, in id order.</summary>
    IReadOnlyList<IVmView> Vms { get; }

    /// <summary>An ioctl through a file-system node created <paramref name="created"/> (a VM, vCPU or
    /// device) under <paramref name="parent"/>. The FUSE front end holds it (as the fd it cannot
    /// hand back) until <see cref="Released"/>.</summary>
    void Created(KvmObject parent, KvmObject created, VmOwner owner);

    /// <summary>The last file-system reference to <paramref name="obj"/> is gone; it has been released.</summary>
    void Released(KvmObject obj);
}

public interface IVmView
{
    int Id { get; }

    /// <summary>The process that owns the VM (the one that created it; KVM's kvm->mm). Its vm,
    /// vcpu and device nodes answer only that process, EIO to any other, as KVM does for an fd
    /// used outside the VMM's address space. Null: not known, every caller is served.</summary>
    int? OwnerPid { get; }

    /// <summary>The VM object: what the vm node's ioctls reach.</summary>
    KvmObject Object { get; }

    string Info();
    string Memslots();
    string Stage2();
    string Vgic();

    IReadOnlyList<IVcpuView> Vcpus { get; }

    /// <summary>Devices made with KVM_CREATE_DEVICE (the vGIC), by device number.</summary>
    IReadOnlyList<KvmObject> Devices { get; }
}

public interface IVcpuView
{
    int Id { get; }

    /// <summary>The vCPU object: what the vcpu node's ioctls reach.</summary>
    KvmObject Object { get; }

    string Regs();
    string Sysregs();
    string Stats();
}
