using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm;

/// <summary>
/// The object behind an open /dev/kvm (kvm_dev_ioctl): API version, capabilities, the vCPU
/// mapping size and KVM_CREATE_VM. Front ends create one per open().
/// </summary>
public sealed class KvmSystem(VmOwner owner) : KvmFile
{
    /// <summary>PAGE_SIZE for kvm_run plus one page for the coalesced MMIO ring (CONFIG_KVM_MMIO).</summary>
    public const int VcpuMmapSize = 2 * 4096;

    public VmOwner Owner { get; } = owner;
    public override string Kind => "kvm";
    public override int Id => 0;
    protected override KvmFd FdKind => KvmFd.System;

    public override IoctlResult Ioctl(IoctlCall call)
    {
        switch (call.Command)
        {
            case KVM_GET_API_VERSION:
                if (call.Argument != 0) return Fail(call, Errno.EINVAL, "argument must be 0");
                return IoctlResult.Ok(Protocol.Uapi.Kvm.KVM_API_VERSION);
            case KVM_CHECK_EXTENSION:
            {
                long r = Capabilities.Check(null, call.Argument);
                return r < 0 ? Fail(call, (int)-r, "capability needs a VM fd") : IoctlResult.Ok(r);
            }
            case KVM_GET_VCPU_MMAP_SIZE:
                if (call.Argument != 0) return Fail(call, Errno.EINVAL, "argument must be 0");
                return IoctlResult.Ok(VcpuMmapSize);
            case KVM_CREATE_VM:
                return CreateVm(call);
            default:
                // kvm_dev_ioctl hands unknown commands to kvm_arch_dev_ioctl, which on arm64 says EINVAL.
                return Fail(call, Errno.EINVAL, "unknown system ioctl");
        }
    }

    private IoctlResult CreateVm(IoctlCall call)
    {
        ulong type = call.Argument;
        if ((type & ~Protocol.Uapi.Kvm.KVM_VM_TYPE_ARM_IPA_SIZE_MASK) != 0)
            return Fail(call, Errno.EINVAL, $"unknown VM type bits 0x{type:x}");
        int bits = (int)(type & Protocol.Uapi.Kvm.KVM_VM_TYPE_ARM_IPA_SIZE_MASK);
        if (bits == 0) bits = Capabilities.DefaultIpaBits;
        else if (bits > Capabilities.IpaLimit || bits < 32)
            return Fail(call, Errno.EINVAL, $"IPA size {bits} outside 32..{Capabilities.IpaLimit}");
        var vm = new Vm(Owner, bits);
        return IoctlResult.NewFd(vm);
    }
}
