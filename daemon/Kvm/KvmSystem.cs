using Kvmfs.Kvm.Core;

namespace Kvmfs.Kvm;

/// <summary>
/// The object behind an open /dev/kvm: the system ioctls (API version, capabilities,
/// KVM_CREATE_VM). Placeholder: only KVM_GET_API_VERSION until the object model lands.
/// </summary>
public sealed class KvmSystem(VmOwner owner) : KvmObject
{
    public VmOwner Owner { get; } = owner;
    public override string Kind => "kvm";
    public override int Id => 0;

    public override IoctlResult Ioctl(IoctlCall call) =>
        call.Command == 0xAE00 ? IoctlResult.Ok(12) : IoctlResult.Error(25 /* ENOTTY */);
}
