using System.Runtime.InteropServices;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using Serilog;

namespace Kvmfs.Kvm;

/// <summary>
/// Shared plumbing of the KVM file objects: reading and writing the ioctl struct, and failing
/// with an errno and a logged reason (every refusal says why, as a learner wants to know).
/// </summary>
public abstract class KvmFile : KvmObject
{
    /// <summary>Which ioctl table names this object's commands.</summary>
    protected abstract KvmFd FdKind { get; }

    protected static T Read<T>(IoctlCall call) where T : unmanaged
    {
        // A short struct (a front end bug) reads as zeros rather than crashing the daemon.
        if (call.Data.Length >= Marshal.SizeOf<T>()) return MemoryMarshal.Read<T>(call.Data);
        Span<byte> tmp = stackalloc byte[Marshal.SizeOf<T>()];
        tmp.Clear();
        call.Data.AsSpan().CopyTo(tmp);
        return MemoryMarshal.Read<T>(tmp);
    }

    protected static void Write<T>(IoctlCall call, in T value) where T : unmanaged
    {
        int size = Math.Min(call.Data.Length, Marshal.SizeOf<T>());
        MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value))[..size].CopyTo(call.Data);
    }

    /// <summary>Fails the ioctl with <paramref name="errno"/> and logs the reason.</summary>
    protected IoctlResult Fail(IoctlCall call, int errno, string reason)
    {
        Log.Debug("{Kind} {Id}: {Ioctl} = -{Errno}: {Reason}", Kind, Id, IoctlTable.Name(call.Command, FdKind), Errno.Name(errno), reason);
        return IoctlResult.Error(errno);
    }

    /// <summary>Result of an internal operation returning 0 or -errno.</summary>
    protected IoctlResult FromErrno(IoctlCall call, int ret, string what) =>
        ret < 0 ? Fail(call, -ret, what) : IoctlResult.Ok(ret);

    protected static int CopyU64FromUser(IoctlCall call, ulong address, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        int r = call.User.CopyFromUser(address, b);
        value = r == 0 ? BitConverter.ToUInt64(b) : 0;
        return r == 0 ? 0 : -Errno.EFAULT;
    }

    protected static int CopyU32FromUser(IoctlCall call, ulong address, out uint value)
    {
        Span<byte> b = stackalloc byte[4];
        int r = call.User.CopyFromUser(address, b);
        value = r == 0 ? BitConverter.ToUInt32(b) : 0;
        return r == 0 ? 0 : -Errno.EFAULT;
    }

    protected static int CopyU64ToUser(IoctlCall call, ulong address, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BitConverter.TryWriteBytes(b, value);
        return call.User.CopyToUser(address, b) == 0 ? 0 : -Errno.EFAULT;
    }

    protected static int CopyU32ToUser(IoctlCall call, ulong address, uint value)
    {
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, value);
        return call.User.CopyToUser(address, b) == 0 ? 0 : -Errno.EFAULT;
    }
}
