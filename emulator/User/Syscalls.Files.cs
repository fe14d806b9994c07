using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.User;

/// <summary>File and descriptor system calls: host files through host descriptors.</summary>
public sealed unsafe partial class Syscalls
{
    // open(2) flags where arm64 and x86_64 disagree (the rest are the same bits).
    const int ArmODirectory = 0x4000, ArmONoFollow = 0x8000, ArmODirect = 0x10000, ArmOLargeFile = 0x20000;
    const int X64ODirect = 0x4000, X64OLargeFile = 0x8000, X64ODirectory = 0x10000, X64ONoFollow = 0x20000;
    const int OCloexec = 0x80000;
    static readonly bool hostIsX64 = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    static int OpenFlagsToHost(int f)
    {
        if (!hostIsX64) return f;
        int r = f & ~(ArmODirectory | ArmONoFollow | ArmODirect | ArmOLargeFile);
        if ((f & ArmODirectory) != 0) r |= X64ODirectory;
        if ((f & ArmONoFollow) != 0) r |= X64ONoFollow;
        if ((f & ArmODirect) != 0) r |= X64ODirect;
        return r;
    }

    static int OpenFlagsFromHost(int f)
    {
        if (!hostIsX64) return f;
        int r = f & ~(X64ODirectory | X64ONoFollow | X64ODirect | X64OLargeFile);
        if ((f & X64ODirectory) != 0) r |= ArmODirectory;
        if ((f & X64ONoFollow) != 0) r |= ArmONoFollow;
        if ((f & X64ODirect) != 0) r |= ArmODirect;
        return r | ArmOLargeFile; // a 64-bit kernel reports O_LARGEFILE on every file
    }

    long AddFd(int hostFd, bool cloexec)
    {
        int g = Fds.Add(hostFd, cloexec);
        if (g < 0) { Libc.close(hostFd); return -EMFILE; }
        return g;
    }

    long OpenAt(ulong dirfd, ulong pathVa, int flags, int mode)
    {
        byte[]? path = CString(pathVa);
        if (path == null) return -EFAULT;
        int h;
        fixed (byte* p = path) h = Libc.openat(DirFd(dirfd), p, OpenFlagsToHost(flags), mode);
        if (h < 0) return -Libc.Errno;
        return AddFd(h, (flags & OCloexec) != 0);
    }

    long Dup(int fd)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        int d = Libc.dup(h);
        return d < 0 ? -Libc.Errno : AddFd(d, false);
    }

    long Dup3(int oldFd, int newFd, int flags)
    {
        int h = Fds.Get(oldFd);
        if (h < 0) return -EBADF;
        if (oldFd == newFd || (flags & ~OCloexec) != 0) return -EINVAL;
        if (newFd < 0 || newFd >= FdTable.Limit) return -EBADF;
        int d = Libc.dup(h);
        if (d < 0) return -Libc.Errno;
        Fds.Set(newFd, d, (flags & OCloexec) != 0);
        return newFd;
    }

    long Fcntl(int fd, int cmd, ulong arg)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        const int F_DUPFD = 0, F_GETFD = 1, F_SETFD = 2, F_GETFL = 3, F_SETFL = 4, F_DUPFD_CLOEXEC = 1030;
        switch (cmd)
        {
            case F_DUPFD:
            case F_DUPFD_CLOEXEC:
            {
                int d = Libc.dup(h);
                if (d < 0) return -Libc.Errno;
                int g = Fds.Add(d, cmd == F_DUPFD_CLOEXEC, (int)arg);
                if (g < 0) { Libc.close(d); return -EMFILE; }
                return g;
            }
            case F_GETFD: return Fds.GetCloseOnExec(fd) ? 1 : 0;
            case F_SETFD: Fds.SetCloseOnExec(fd, (arg & 1) != 0); return 0;
            case F_GETFL:
            {
                int r = Libc.fcntl(h, F_GETFL, 0);
                return r < 0 ? -Libc.Errno : OpenFlagsFromHost(r);
            }
            case F_SETFL:
            {
                int r = Libc.fcntl(h, F_SETFL, OpenFlagsToHost((int)arg));
                return r < 0 ? -Libc.Errno : r;
            }
            default:
                return -EINVAL;
        }
    }

    long Ioctl(int fd, ulong request, ulong argVa)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        // Terminal requests whose structures are laid out the same on arm64 and the host: pass them on.
        int size = request switch
        {
            0x5401 or 0x5402 or 0x5403 or 0x5404 => 36,   // TCGETS, TCSETS, TCSETSW, TCSETSF (struct termios)
            0x5413 or 0x5414 => 8,                        // TIOCGWINSZ, TIOCSWINSZ (struct winsize)
            0x540F or 0x5410 or 0x541B => 4,              // TIOCGPGRP, TIOCSPGRP, FIONREAD (int)
            _ => -1,
        };
        if (size < 0) return -ENOTTY;
        byte* p = Buffer(argVa, (ulong)size, PagePerms.Read);
        if (p == null) return -EFAULT;
        return HostResult(Libc.ioctl(h, request, p));
    }

    long Pipe2(ulong fdsVa, int flags)
    {
        byte* p = Buffer(fdsVa, 8, PagePerms.Write);
        if (p == null) return -EFAULT;
        int* host = stackalloc int[2];
        if (Libc.pipe2(host, OpenFlagsToHost(flags)) < 0) return -Libc.Errno;
        bool cloexec = (flags & OCloexec) != 0;
        long r0 = AddFd(host[0], cloexec);
        if (r0 < 0) { Libc.close(host[1]); return r0; }
        long r1 = AddFd(host[1], cloexec);
        if (r1 < 0) { Fds.Close((int)r0); return r1; }
        ((int*)p)[0] = (int)r0;
        ((int*)p)[1] = (int)r1;
        return 0;
    }

    long GetDents64(int fd, ulong bufVa, ulong count)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        byte* p = Buffer(bufVa, count, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(Libc.getdents64(h, p, (nuint)count));
    }

    long Read(int fd, ulong bufVa, ulong count)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        byte* p = Buffer(bufVa, count, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(Libc.read(h, p, (nuint)count));
    }

    long Write(int fd, ulong bufVa, ulong count)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        byte* p = Buffer(bufVa, count, PagePerms.Read);
        if (p == null) return -EFAULT;
        return WriteResult(HostResult(Libc.write(h, p, (nuint)count)));
    }

    /// <summary>A write to a pipe nobody reads: Linux sends SIGPIPE, whose default action ends the process.</summary>
    long WriteResult(long r)
    {
        if (r == -EPIPE && !SignalIgnored(UserProcess.SIGPIPE)) process.Kill(UserProcess.SIGPIPE, "(write to a pipe with no reader)");
        return r;
    }

    long PRead(int fd, ulong bufVa, ulong count, long offset)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        byte* p = Buffer(bufVa, count, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(Libc.pread(h, p, (nuint)count, offset));
    }

    long PWrite(int fd, ulong bufVa, ulong count, long offset)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        byte* p = Buffer(bufVa, count, PagePerms.Read);
        if (p == null) return -EFAULT;
        return HostResult(Libc.pwrite(h, p, (nuint)count, offset));
    }

    /// <summary>readv/writev: struct iovec {base, len} is the same on every 64-bit Linux.</summary>
    long Vector(int fd, ulong iovVa, int iovCount, bool write)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        if (iovCount < 0 || iovCount > 1024) return -EINVAL;
        ulong* iov = (ulong*)Buffer(iovVa, (ulong)iovCount * 16, PagePerms.Read);
        if (iov == null && iovCount > 0) return -EFAULT;
        long total = 0;
        for (int i = 0; i < iovCount; i++)
        {
            ulong va = iov[2 * i], len = iov[2 * i + 1];
            if (len == 0) continue;
            byte* p = Buffer(va, len, write ? PagePerms.Read : PagePerms.Write);
            if (p == null) return total > 0 ? total : -EFAULT;
            long r = HostResult(write ? Libc.write(h, p, (nuint)len) : Libc.read(h, p, (nuint)len));
            if (r < 0)
            {
                if (total > 0) return total;
                return write ? WriteResult(r) : r;
            }
            total += r;
            if ((ulong)r < len) break;
        }
        return total;
    }

    long ReadLinkAt(ulong dirfd, ulong pathVa, ulong bufVa, ulong size)
    {
        byte[]? path = CString(pathVa);
        if (path == null) return -EFAULT;
        if ((long)size <= 0) return -EINVAL;
        byte* p = Buffer(bufVa, size, PagePerms.Write);
        if (p == null) return -EFAULT;
        // /proc/self/exe names the emulated program, not the emulator.
        string name = Encoding.UTF8.GetString(path, 0, path.Length - 1);
        if (name == "/proc/self/exe" || name == $"/proc/{process.Pid}/exe")
        {
            byte[] target = Encoding.UTF8.GetBytes(process.ProgramPath);
            int n = (int)Math.Min((ulong)target.Length, size);
            target.AsSpan(0, n).CopyTo(new Span<byte>(p, n));
            return n;
        }
        fixed (byte* hp = path) return HostResult(Libc.readlinkat(DirFd(dirfd), hp, p, (nuint)size));
    }

    const int AT_EMPTY_PATH = 0x1000;
    const uint STATX_BASIC_STATS = 0x7FF;

    long NewFstatAt(ulong dirfd, ulong pathVa, ulong statVa, int flags)
    {
        byte[]? path = CString(pathVa);
        if (path == null) return -EFAULT;
        return StatInto(DirFd(dirfd), path, flags, statVa);
    }

    long Fstat(int fd, ulong statVa)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        return StatInto(h, [0], AT_EMPTY_PATH, statVa);
    }

    /// <summary>Fills an arm64 struct stat (asm-generic layout, 128 bytes) from the host's statx, whose layout is the same everywhere.</summary>
    long StatInto(int hostDirFd, byte[] path, int flags, ulong statVa)
    {
        byte* st = Buffer(statVa, 128, PagePerms.Write);
        if (st == null) return -EFAULT;
        byte* sx = stackalloc byte[256];
        int r;
        fixed (byte* p = path) r = Libc.statx(hostDirFd, p, flags, STATX_BASIC_STATS, sx);
        if (r < 0) return -Libc.Errno;
        var o = new Span<byte>(st, 128);
        o.Clear();
        var x = new ReadOnlySpan<byte>(sx, 256);
        static ulong Dev(uint major, uint minor) => (minor & 0xFF) | (major << 8) | ((ulong)(minor & ~0xFFu) << 12);
        BinaryPrimitives.WriteUInt64LittleEndian(o[0..], Dev(U32(x, 136), U32(x, 140)));     // st_dev
        BinaryPrimitives.WriteUInt64LittleEndian(o[8..], U64(x, 32));                          // st_ino
        BinaryPrimitives.WriteUInt32LittleEndian(o[16..], BinaryPrimitives.ReadUInt16LittleEndian(x[28..])); // st_mode
        BinaryPrimitives.WriteUInt32LittleEndian(o[20..], U32(x, 16));                         // st_nlink
        BinaryPrimitives.WriteUInt32LittleEndian(o[24..], U32(x, 20));                         // st_uid
        BinaryPrimitives.WriteUInt32LittleEndian(o[28..], U32(x, 24));                         // st_gid
        BinaryPrimitives.WriteUInt64LittleEndian(o[32..], Dev(U32(x, 128), U32(x, 132)));    // st_rdev
        BinaryPrimitives.WriteUInt64LittleEndian(o[48..], U64(x, 40));                         // st_size
        BinaryPrimitives.WriteUInt32LittleEndian(o[56..], U32(x, 4));                          // st_blksize
        BinaryPrimitives.WriteUInt64LittleEndian(o[64..], U64(x, 48));                         // st_blocks
        BinaryPrimitives.WriteUInt64LittleEndian(o[72..], U64(x, 64));                         // st_atime
        BinaryPrimitives.WriteUInt64LittleEndian(o[80..], U32(x, 72));
        BinaryPrimitives.WriteUInt64LittleEndian(o[88..], U64(x, 112));                        // st_mtime
        BinaryPrimitives.WriteUInt64LittleEndian(o[96..], U32(x, 120));
        BinaryPrimitives.WriteUInt64LittleEndian(o[104..], U64(x, 96));                        // st_ctime
        BinaryPrimitives.WriteUInt64LittleEndian(o[112..], U32(x, 104));
        return 0;
    }

    static uint U32(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt32LittleEndian(s[o..]);
    static ulong U64(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt64LittleEndian(s[o..]);

    long Statx(ulong dirfd, ulong pathVa, int flags, uint mask, ulong bufVa)
    {
        byte[]? path = CString(pathVa);
        if (path == null) return -EFAULT;
        byte* p = Buffer(bufVa, 256, PagePerms.Write);
        if (p == null) return -EFAULT;
        fixed (byte* hp = path) return HostResult(Libc.statx(DirFd(dirfd), hp, flags, mask, p));
    }

    long UtimensAt(ulong dirfd, ulong pathVa, ulong timesVa, int flags)
    {
        byte* times = null;
        if (timesVa != 0 && (times = Buffer(timesVa, 32, PagePerms.Read)) == null) return -EFAULT;
        if (pathVa == 0) return HostResult(Libc.utimensat(DirFd(dirfd), null, times, flags));
        byte[]? path = CString(pathVa);
        if (path == null) return -EFAULT;
        fixed (byte* hp = path) return HostResult(Libc.utimensat(DirFd(dirfd), hp, times, flags));
    }

    long RenameAt(ulong oldDir, ulong oldPathVa, ulong newDir, ulong newPathVa, int flags)
    {
        if (flags != 0) return -EINVAL;
        byte[]? oldPath = CString(oldPathVa), newPath = CString(newPathVa);
        if (oldPath == null || newPath == null) return -EFAULT;
        fixed (byte* o = oldPath)
        fixed (byte* n = newPath)
            return HostResult(Libc.renameat(DirFd(oldDir), o, DirFd(newDir), n));
    }

    long GetCwd(ulong bufVa, ulong size)
    {
        byte* p = Buffer(bufVa, size, PagePerms.Write);
        if (p == null) return -EFAULT;
        if (Libc.getcwd(p, (nuint)size) == null) return -Libc.Errno;
        return (long)new ReadOnlySpan<byte>(p, (int)Math.Min(size, 65536)).IndexOf((byte)0) + 1;
    }
}
