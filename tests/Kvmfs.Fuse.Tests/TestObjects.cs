using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse.Tests;

// Stand-ins for the object behind a node, for tests of the FUSE ioctl transport alone: they answer
// by rules the tests can check byte for byte (what came in, what must come back).

/// <summary>A system object with a few made-up ioctls on type 0x99 plus a VM factory on KVM_CREATE_VM.</summary>
internal sealed class ProbeSystem(VmOwner owner, Func<ProbeVm>? createVm = null) : KvmObject
{
    public const uint EchoValue = 0x9901;                     // _IO: returns arg + 1
    public static readonly uint Swap = Iowr(0x02, 16);        // _IOWR: swaps the two u64 halves, returns 7
    public static readonly uint Fill = Ior(0x03, 24);         // _IOR: writes 0x10, 0x11, ... , returns 0
    public static readonly uint Sum = Iow(0x04, 32);          // _IOW: returns the sum of the 32 bytes
    public static readonly uint FollowPointer = Iow(0x05, 8); // _IOW of a pointer: copy_from_user beyond the struct
    public static readonly uint SelfCopy = Iowr(0x06, 8);     // copy_to_user into its own struct: allowed

    public VmOwner Owner { get; } = owner;
    public override string Kind => "kvm";
    public override int Id => 0;
    public bool Released { get; private set; }

    public override IoctlResult Ioctl(IoctlCall call)
    {
        if (call.Command == EchoValue) return IoctlResult.Ok((long)call.Argument + 1);
        if (call.Command == Swap)
        {
            var a = call.Data[..8]; var b = call.Data[8..16];
            b.CopyTo(call.Data, 0); a.CopyTo(call.Data, 8);
            return IoctlResult.Ok(7);
        }
        if (call.Command == Fill)
        {
            for (int i = 0; i < call.Data.Length; i++) call.Data[i] = (byte)(0x10 + i);
            return IoctlResult.Ok();
        }
        if (call.Command == Sum)
        {
            long sum = 0;
            foreach (var b in call.Data) sum += b;
            return IoctlResult.Ok(sum);
        }
        if (call.Command == FollowPointer)
        {
            Span<byte> target = stackalloc byte[8];
            int r = call.User.CopyFromUser(BitConverter.ToUInt64(call.Data), target);
            return r < 0 ? IoctlResult.Error(-r) : IoctlResult.Ok();
        }
        if (call.Command == SelfCopy)
        {
            int r = call.User.CopyToUser(call.Argument, BitConverter.GetBytes(0x1122334455667788UL));
            return r < 0 ? IoctlResult.Error(-r) : IoctlResult.Ok();
        }
        if (call.Command == 0xAE01 && createVm != null) return IoctlResult.NewFd(createVm());
        return IoctlResult.Error(25); // ENOTTY
    }

    public override void Release() => Released = true;

    private static uint Iowr(uint nr, uint size) => (3u << 30) | (size << 16) | (0x99u << 8) | nr;
    private static uint Ior(uint nr, uint size) => (2u << 30) | (size << 16) | (0x99u << 8) | nr;
    private static uint Iow(uint nr, uint size) => (1u << 30) | (size << 16) | (0x99u << 8) | nr;
}

/// <summary>A VM stand-in: KVM_CREATE_VCPU makes a <see cref="ProbeVcpu"/>; KVM_RUN on it blocks until kicked.</summary>
internal sealed class ProbeVm(int id) : KvmObject
{
    public override string Kind => "vm";
    public override int Id => id;
    public bool Released { get; private set; }

    public override IoctlResult Ioctl(IoctlCall call) =>
        call.Command == 0xAE41 ? IoctlResult.NewFd(new ProbeVcpu((int)call.Argument)) : IoctlResult.Error(25);

    public override void Release() => Released = true;
}

internal sealed class ProbeVcpu(int id) : KvmObject
{
    private readonly ManualResetEventSlim _kick = new();
    public override string Kind => "vcpu";
    public override int Id => id;

    public override IoctlResult Ioctl(IoctlCall call)
    {
        if (call.Command != 0xAE80) return IoctlResult.Error(25);
        _kick.Wait();
        _kick.Reset();
        return IoctlResult.Error(4); // EINTR, as KVM_RUN after a signal
    }

    public override void Kick() => _kick.Set();
}
