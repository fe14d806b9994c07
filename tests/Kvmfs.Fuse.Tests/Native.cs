using System.Runtime.InteropServices;

namespace Kvmfs.Fuse.Tests;

/// <summary>The test process acting as a native KVM client: raw syscalls on files in the mount.</summary>
internal static unsafe partial class Native
{
    public const int O_RDONLY = 0, O_RDWR = 2, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const int EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11, EFAULT = 14, EINVAL = 22, ENOTTY = 25, ENOSYS = 38;
    public const short POLLIN = 1;
    public const int SIGUSR1 = 10;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, nuint arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, void* arg);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number);

    [LibraryImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    public static partial int Tgkill(int tgid, int tid, int signal);

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int GetPid();

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fsType, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    // SYS_gettid: 186 on x86_64, 178 on arm64.
    public static int GetTid() => (int)Syscall(RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 178 : 186);

    public static int Errno => Marshal.GetLastPInvokeError();

    /// <summary>read(2) into a fresh buffer: the bytes, or -errno.</summary>
    public static (int Result, byte[] Data) ReadSome(int fd, int size)
    {
        var buffer = new byte[size];
        nint n;
        fixed (byte* p = buffer) n = Read(fd, p, (nuint)size);
        return n < 0 ? ((int)-Errno, []) : ((int)n, buffer[..(int)n]);
    }

    public static bool IsMounted(string dir) =>
        File.ReadAllLines("/proc/self/mounts").Any(l => l.Split(' ')[1] == dir);
}
