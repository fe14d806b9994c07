using System.Runtime.InteropServices;
using Kvmfs.Kvm;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm.Tests;

/// <summary>
/// An in-memory VMM for driving the KVM objects directly: "user memory" is native memory of
/// this process (so addresses are real pointers), ShareMemory hands back that same memory,
/// GetFile dups real fds.
/// </summary>
public sealed unsafe partial class FakeUser : IUserAccess, IDisposable
{
    [LibraryImport("libc", SetLastError = true)] private static partial int dup(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int eventfd(uint initval, int flags);
    [LibraryImport("libc", SetLastError = true)] private static partial int close(int fd);
    [LibraryImport("libc", SetLastError = true)] private static partial int fcntl(int fd, int cmd);

    private readonly List<(nint Ptr, ulong Size)> _blocks = [];
    public List<SharedMemory> Shared { get; } = [];
    public int Disposed;
    public int ShareError;
    private readonly List<int> _fds = [];

    /// <summary>Allocates page-aligned zeroed "VMM memory" and returns its address.</summary>
    public ulong Alloc(ulong size)
    {
        nint p = (nint)NativeMemory.AlignedAlloc((nuint)size, 4096);
        NativeMemory.Clear((void*)p, (nuint)size);
        _blocks.Add((p, size));
        return (ulong)p;
    }

    private bool Valid(ulong addr, int len)
    {
        foreach (var (p, s) in _blocks)
            if (addr >= (ulong)p && addr + (ulong)len <= (ulong)p + s) return true;
        return false;
    }

    public int CopyFromUser(ulong address, Span<byte> destination)
    {
        if (!Valid(address, destination.Length)) return -14;
        new ReadOnlySpan<byte>((void*)address, destination.Length).CopyTo(destination);
        return 0;
    }

    public int CopyToUser(ulong address, ReadOnlySpan<byte> source)
    {
        if (!Valid(address, source.Length)) return -14;
        source.CopyTo(new Span<byte>((void*)address, source.Length));
        return 0;
    }

    public int GetFile(int vmmFd)
    {
        if (vmmFd < 0 || fcntl(vmmFd, 1 /* F_GETFD */) < 0) return -9;
        return dup(vmmFd);
    }

    public int ShareMemory(ulong address, ulong size, out SharedMemory? memory)
    {
        memory = null;
        if (ShareError != 0) return ShareError;
        if (!Valid(address, (int)Math.Min(size, int.MaxValue))) return -14;
        memory = new SharedMemory(-1, (nint)address, size, _ => Interlocked.Increment(ref Disposed));
        Shared.Add(memory);
        return 0;
    }

    public int NewEventFd()
    {
        int fd = eventfd(0, 0x80000 /* EFD_CLOEXEC */);
        _fds.Add(fd);
        return fd;
    }

    public ulong U64At(ulong addr) => *(ulong*)addr;
    public uint U32At(ulong addr) => *(uint*)addr;
    public void SetU64(ulong addr, ulong v) => *(ulong*)addr = v;
    public void SetU32(ulong addr, uint v) => *(uint*)addr = v;

    public void Dispose()
    {
        foreach (var fd in _fds) close(fd);
        // Blocks stay allocated: objects under test may still hold pointers at test end.
    }
}

public static class K
{
    public static byte[] Bytes<T>(T value) where T : unmanaged
    {
        var b = new byte[Marshal.SizeOf<T>()];
        MemoryMarshal.Write(b, in value);
        return b;
    }

    public static T From<T>(byte[] data) where T : unmanaged => MemoryMarshal.Read<T>(data);

    public static (IoctlResult Result, byte[] Data) Call(KvmObject obj, FakeUser user, uint cmd, ulong arg = 0, byte[]? data = null)
    {
        data ??= new byte[Ioc.Size(cmd)];
        var r = obj.Ioctl(new IoctlCall(cmd, arg, data, user));
        return (r, data);
    }

    public static long Io(KvmObject obj, FakeUser user, uint cmd, ulong arg = 0) => Call(obj, user, cmd, arg).Result.Value;

    public static long With<T>(KvmObject obj, FakeUser user, uint cmd, T value, ulong arg = 0) where T : unmanaged =>
        Call(obj, user, cmd, arg, Bytes(value)).Result.Value;

    public static Vm NewVm(FakeUser user, ulong type = 0)
    {
        var sys = new KvmSystem(new VmOwner(Environment.ProcessId, "test"));
        var r = Call(sys, user, KvmIoctls.KVM_CREATE_VM, type).Result;
        Assert.False(r.IsError);
        return Assert.IsType<Vm>(r.NewObject);
    }

    public static Vcpu NewVcpu(Vm vm, FakeUser user, int id)
    {
        var r = Call(vm, user, KvmIoctls.KVM_CREATE_VCPU, (ulong)id).Result;
        Assert.False(r.IsError, $"create vcpu {id}: {r.Value}");
        return Assert.IsType<Vcpu>(r.NewObject);
    }

    public static unsafe long Init(Vcpu vcpu, FakeUser user, params int[] features)
    {
        var init = default(KvmVcpuInit);
        init.target = KvmArm.KVM_ARM_TARGET_GENERIC_V8;
        foreach (var f in features) init.SetFeature(f);
        return With(vcpu, user, KvmIoctls.KVM_ARM_VCPU_INIT, init);
    }

    public static Vcpu InitVcpu(Vm vm, FakeUser user, int id, params int[] features)
    {
        var v = NewVcpu(vm, user, id);
        Assert.Equal(0, Init(v, user, features));
        return v;
    }

    public static long GetReg(Vcpu vcpu, FakeUser user, ulong id, out ulong value, int size = 8)
    {
        ulong addr = user.Alloc(16);
        long r = With(vcpu, user, KvmIoctls.KVM_GET_ONE_REG, new KvmOneReg { id = id, addr = addr });
        value = size == 4 ? user.U32At(addr) : user.U64At(addr);
        return r;
    }

    public static long SetReg(Vcpu vcpu, FakeUser user, ulong id, ulong value)
    {
        ulong addr = user.Alloc(16);
        user.SetU64(addr, value);
        return With(vcpu, user, KvmIoctls.KVM_SET_ONE_REG, new KvmOneReg { id = id, addr = addr });
    }

    public const ulong Arm64 = 0x6000000000000000, U32 = 0x0020000000000000, U64 = 0x0030000000000000, U128 = 0x0040000000000000;
    public const ulong Core = 0x0010ul << 16;
    public static ulong CoreId(int byteOffset, ulong size = U64) => Arm64 | size | Core | (ulong)(uint)(byteOffset / 4);
    public static ulong Sys(int op0, int op1, int crn, int crm, int op2) =>
        Arm64 | U64 | (0x13ul << 16) | ((ulong)(uint)op0 << 14) | ((ulong)(uint)op1 << 11) | ((ulong)(uint)crn << 7) | ((ulong)(uint)crm << 3) | (ulong)(uint)op2;
    public static ulong Fw(int r) => Arm64 | U64 | (0x14ul << 16) | (ulong)(uint)r;
    public static ulong FwBmap(int r) => Arm64 | U64 | (0x16ul << 16) | (ulong)(uint)r;

    public const int EPERM = 1, ENOENT = 2, EINTR = 4, EAGAIN = 11, EIO = 5, ENXIO = 6, E2BIG = 7, ENOEXEC = 8, EBADF = 9, EFAULT = 14,
        EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22, ENOTTY = 25, ENOMEM = 12, ENOSPC = 28;
}
