using Kvmfs.Fuse.Native;
using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse;

/// <summary>
/// The caller's memory as an ioctl through FUSE can reach it: only the ioctl's own struct, which
/// the kernel copied in (_IOW) and copies back (_IOR) according to the command's size bits. A
/// handler that follows a pointer inside that struct (KVM_GET_ONE_REG's addr, a register list,
/// guest RAM at KVM_SET_USER_MEMORY_REGION) gets -EFAULT: the FUSE protocol gives a regular file
/// no way into the caller's address space, and no way to pass file descriptors either.
/// </summary>
internal sealed class FuseUserAccess(ulong structAddress, byte[] structBytes) : IUserAccess
{
    public int CopyFromUser(ulong address, Span<byte> destination)
    {
        if (!Inside(address, destination.Length, out int offset)) return -LibC.EFAULT;
        structBytes.AsSpan(offset, destination.Length).CopyTo(destination);
        return 0;
    }

    public int CopyToUser(ulong address, ReadOnlySpan<byte> source)
    {
        if (!Inside(address, source.Length, out int offset)) return -LibC.EFAULT;
        source.CopyTo(structBytes.AsSpan(offset));
        return 0;
    }

    public int GetFile(int vmmFd) => -LibC.EBADF;

    public int ShareMemory(ulong address, ulong size, out SharedMemory? memory)
    {
        memory = null;
        return -LibC.EFAULT;
    }

    private bool Inside(ulong address, int length, out int offset)
    {
        offset = 0;
        if (structBytes.Length == 0 || address < structAddress) return false;
        ulong off = address - structAddress;
        if (off + (ulong)length > (ulong)structBytes.Length) return false;
        offset = (int)off;
        return true;
    }
}
