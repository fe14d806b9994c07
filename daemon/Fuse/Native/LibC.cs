using System.Runtime.InteropServices;

namespace Kvmfs.Fuse.Native;

/// <summary>The few libc calls the FUSE server needs. Every call returns -1 and sets errno on failure
/// (read it with <see cref="Marshal.GetLastPInvokeError"/>).</summary>
internal static unsafe partial class LibC
{
    public const int O_RDONLY = 0, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;

    public const int EPERM = 1, ENOENT = 2, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12,
        EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
        ENOTTY = 25, ENOSPC = 28, ERANGE = 34, ENOSYS = 38, ENODATA = 61, EPROTO = 71,
        ECONNABORTED = 103, ENOTCONN = 107;

    public const ulong MS_NOSUID = 2, MS_NODEV = 4;
    public const int MNT_DETACH = 2;

    public const short POLLIN = 0x1, POLLPRI = 0x2, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10,
        POLLNVAL = 0x20, POLLRDNORM = 0x40, POLLWRNORM = 0x100;

    public const int EFD_CLOEXEC = 0x80000, EFD_NONBLOCK = 0x800;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fsType, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    // struct stat is 144 bytes on x86_64 and 128 on arm64; a larger buffer covers both, and only the
    // return value and errno matter here.
    [LibraryImport("libc", EntryPoint = "stat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int StatRaw(string path, byte* buffer);

    [LibraryImport("libc", EntryPoint = "getuid")]
    public static partial uint GetUid();

    [LibraryImport("libc", EntryPoint = "getgid")]
    public static partial uint GetGid();

    /// <summary>stat(2) of <paramref name="path"/>: 0, or -errno.</summary>
    public static int Stat(string path)
    {
        byte* buffer = stackalloc byte[256];
        return StatRaw(path, buffer) == 0 ? 0 : -Marshal.GetLastPInvokeError();
    }

    public static int Errno => Marshal.GetLastPInvokeError();

    public static string StrError(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
