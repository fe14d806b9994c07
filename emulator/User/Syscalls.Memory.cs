using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.User;

/// <summary>brk, mmap and friends over <see cref="UserAddressSpace"/>.</summary>
public sealed unsafe partial class Syscalls
{
    const int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_TYPE = 0xF, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000;
    const int MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2;
    const ulong PageMask = UserAddressSpace.PageSize - 1;

    /// <summary>PROT_* to page permissions. On arm64 Linux write implies read, and (without EPAN) exec implies read.</summary>
    static PagePerms Prot(int prot)
    {
        var p = PagePerms.None;
        if ((prot & 1) != 0) p |= PagePerms.Read;
        if ((prot & 2) != 0) p |= PagePerms.Read | PagePerms.Write;
        if ((prot & 4) != 0) p |= PagePerms.Read | PagePerms.Execute;
        return p;
    }

    long Brk(ulong requested)
    {
        ulong current = mem.BrkCurrent;
        if (requested < mem.BrkStart) return (long)current;
        ulong oldEnd = UserAddressSpace.PageAlignUp(current), newEnd = UserAddressSpace.PageAlignUp(requested);
        if (newEnd > oldEnd)
        {
            if (!mem.IsFree(oldEnd, newEnd - oldEnd) || !mem.Map(oldEnd, newEnd - oldEnd, PagePerms.Read | PagePerms.Write))
                return (long)current; // Linux's brk reports failure by returning the old break
        }
        else if (newEnd < oldEnd) mem.Unmap(newEnd, oldEnd - newEnd);
        mem.BrkCurrent = requested;
        return (long)requested;
    }

    long Mmap(ulong addr, ulong length, int prot, int flags, int fd, long offset)
    {
        if (length == 0 || (offset & (long)PageMask) != 0 || offset < 0) return -EINVAL;
        int type = flags & MAP_TYPE;
        if (type != MAP_SHARED && type != MAP_PRIVATE && type != 3) return -EINVAL;
        ulong size = UserAddressSpace.PageAlignUp(length);
        if (size < length || size > UserAddressSpace.Size) return -ENOMEM;
        bool anonymous = (flags & MAP_ANONYMOUS) != 0;
        int hostFd = -1;
        if (!anonymous && (hostFd = Fds.Get(fd)) < 0) return -EBADF;

        ulong va;
        if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0)
        {
            if ((addr & PageMask) != 0 || !mem.InRange(addr, size)) return -EINVAL;
            if ((flags & MAP_FIXED) == 0 && !mem.IsFree(addr, size)) return -EEXIST;
            va = addr;
        }
        else
        {
            va = mem.FindFree(addr & ~PageMask, size);
            if (va == ulong.MaxValue) return -ENOMEM;
        }
        if (!mem.Map(va, size, Prot(prot))) return -ENOMEM;
        if (!anonymous)
        {
            // A private copy of the file. (MAP_SHARED file writes are not written back: no test program needs it.)
            ulong done = 0;
            while (done < length)
            {
                long n = Libc.pread(hostFd, mem.Host(va + done), (nuint)(length - done), offset + (long)done);
                if (n < 0) { long e = -Libc.Errno; mem.Unmap(va, size); return e; }
                if (n == 0) break;
                done += (ulong)n;
            }
        }
        return (long)va;
    }

    long Munmap(ulong addr, ulong length)
    {
        if ((addr & PageMask) != 0 || length == 0 || !mem.InRange(addr, UserAddressSpace.PageAlignUp(length))) return -EINVAL;
        mem.Unmap(addr, length);
        return 0;
    }

    long Mprotect(ulong addr, ulong length, int prot)
    {
        if ((addr & PageMask) != 0) return -EINVAL;
        if (length == 0) return 0;
        return mem.Protect(addr, length, Prot(prot)) ? 0 : -ENOMEM;
    }

    long Madvise(ulong addr, ulong length, int advice)
    {
        if ((addr & PageMask) != 0) return -EINVAL;
        const int MADV_DONTNEED = 4;
        if (advice == MADV_DONTNEED)
        {
            if (!mem.Check(addr, length, PagePerms.None)) return -ENOMEM;
            mem.Discard(addr, length); // private anonymous memory reads back as zeros afterwards
        }
        return 0;
    }

    long Mremap(ulong oldAddr, ulong oldSize, ulong newSize, int flags, ulong newAddr)
    {
        if ((oldAddr & PageMask) != 0 || newSize == 0 || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)) != 0) return -EINVAL;
        if ((flags & MREMAP_FIXED) != 0) return -EINVAL; // nobody we run needs a fixed move
        oldSize = UserAddressSpace.PageAlignUp(oldSize);
        newSize = UserAddressSpace.PageAlignUp(newSize);
        if (newSize == 0 || newSize > UserAddressSpace.Size) return -ENOMEM;
        if (oldSize == 0 || !mem.Check(oldAddr, oldSize, PagePerms.None)) return -EFAULT;
        if (newSize <= oldSize)
        {
            if (newSize < oldSize) mem.Unmap(oldAddr + newSize, oldSize - newSize);
            return (long)oldAddr;
        }
        var prot = mem.PermsAt(oldAddr) & PagePerms.All;
        if (mem.IsFree(oldAddr + oldSize, newSize - oldSize))
        {
            mem.Map(oldAddr + oldSize, newSize - oldSize, prot);
            return (long)oldAddr;
        }
        if ((flags & MREMAP_MAYMOVE) == 0) return -ENOMEM;
        ulong va = mem.FindFree(0, newSize);
        if (va == ulong.MaxValue || !mem.Map(va, newSize, prot)) return -ENOMEM;
        System.Buffer.MemoryCopy(mem.Host(oldAddr), mem.Host(va), oldSize, oldSize);
        mem.Unmap(oldAddr, oldSize);
        return (long)va;
    }
}
