using System.Runtime.InteropServices;

namespace Kvmfs.Emulator.User;

/// <summary>
/// The host C library calls user mode needs. All of them return -1 and leave errno on failure;
/// <see cref="Errno"/> reads it. The host is Linux (x86_64 or arm64): errno numbers and most
/// structures are the same as arm64's; where they are not (open flags, struct stat) the syscall
/// layer converts.
/// </summary>
internal static unsafe class Libc
{
    const string L = "libc";

    public const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public const int MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_NORESERVE = 0x4000;
    public const int MADV_DONTNEED = 4;
    public const int AT_FDCWD = -100;

    public static int Errno => Marshal.GetLastPInvokeError();

    [DllImport(L, SetLastError = true)] public static extern void* mmap(void* addr, nuint length, int prot, int flags, int fd, long offset);
    [DllImport(L, SetLastError = true)] public static extern int munmap(void* addr, nuint length);
    [DllImport(L, SetLastError = true)] public static extern int madvise(void* addr, nuint length, int advice);

    [DllImport(L, SetLastError = true)] public static extern nint read(int fd, void* buf, nuint count);
    [DllImport(L, SetLastError = true)] public static extern nint write(int fd, void* buf, nuint count);
    [DllImport(L, SetLastError = true)] public static extern nint pread(int fd, void* buf, nuint count, long offset);
    [DllImport(L, SetLastError = true)] public static extern nint pwrite(int fd, void* buf, nuint count, long offset);
    [DllImport(L, SetLastError = true)] public static extern int openat(int dirfd, byte* path, int flags, int mode);
    [DllImport(L, SetLastError = true)] public static extern int close(int fd);
    [DllImport(L, SetLastError = true)] public static extern long lseek(int fd, long offset, int whence);
    [DllImport(L, SetLastError = true)] public static extern int dup(int fd);
    [DllImport(L, SetLastError = true)] public static extern int pipe2(int* fds, int flags);
    [DllImport(L, SetLastError = true)] public static extern int fcntl(int fd, int cmd, long arg);
    [DllImport(L, SetLastError = true)] public static extern int ioctl(int fd, ulong request, void* arg);
    [DllImport(L, SetLastError = true)] public static extern int statx(int dirfd, byte* path, int flags, uint mask, void* buf);
    [DllImport(L, SetLastError = true)] public static extern nint readlinkat(int dirfd, byte* path, byte* buf, nuint size);
    [DllImport(L, SetLastError = true)] public static extern int faccessat(int dirfd, byte* path, int mode, int flags);
    [DllImport(L, SetLastError = true)] public static extern int unlinkat(int dirfd, byte* path, int flags);
    [DllImport(L, SetLastError = true)] public static extern int renameat(int olddirfd, byte* oldpath, int newdirfd, byte* newpath);
    [DllImport(L, SetLastError = true)] public static extern int mkdirat(int dirfd, byte* path, int mode);
    [DllImport(L, SetLastError = true)] public static extern int fchmodat(int dirfd, byte* path, int mode, int flags);
    [DllImport(L, SetLastError = true)] public static extern int utimensat(int dirfd, byte* path, void* times, int flags);
    [DllImport(L, SetLastError = true)] public static extern int ftruncate(int fd, long length);
    [DllImport(L, SetLastError = true)] public static extern int fsync(int fd);
    [DllImport(L, SetLastError = true)] public static extern int fchmod(int fd, int mode);
    [DllImport(L, SetLastError = true)] public static extern int fchown(int fd, int uid, int gid);
    [DllImport(L, SetLastError = true)] public static extern byte* getcwd(byte* buf, nuint size);
    [DllImport(L, SetLastError = true)] public static extern int chdir(byte* path);
    [DllImport(L, SetLastError = true)] public static extern int clock_gettime(int clock, void* ts);
    [DllImport(L, SetLastError = true)] public static extern int clock_getres(int clock, void* ts);
    [DllImport(L, SetLastError = true)] public static extern int nanosleep(void* req, void* rem);
    [DllImport(L, SetLastError = true)] public static extern nint getrandom(void* buf, nuint length, uint flags);
    [DllImport(L, SetLastError = true)] public static extern int uname(void* buf);
    [DllImport(L, SetLastError = true)] public static extern int sysinfo(void* info);
    [DllImport(L, SetLastError = true)] public static extern int getrusage(int who, void* usage);
    [DllImport(L, SetLastError = true)] public static extern int getrlimit(int resource, void* rlim);
    [DllImport(L, SetLastError = true)] public static extern int umask(int mask);
    [DllImport(L)] public static extern int getpid();
    [DllImport(L, SetLastError = true)] public static extern int getpgid(int pid);
    [DllImport(L, SetLastError = true)] public static extern int getsid(int pid);
    [DllImport(L, SetLastError = true)] public static extern int getgroups(int size, uint* list);
    [DllImport(L)] public static extern int getppid();
    [DllImport(L)] public static extern uint getuid();
    [DllImport(L)] public static extern uint geteuid();
    [DllImport(L)] public static extern uint getgid();
    [DllImport(L)] public static extern uint getegid();

    // syscall(SYS_getdents64, ...): glibc's getdents64 wrapper exists only since 2.30; use the raw call.
    [DllImport(L, SetLastError = true)] static extern long syscall(long number, long a0, long a1, long a2);
    public static long getdents64(int fd, void* buf, nuint count)
    {
        long nr = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 61 : 217;
        return syscall(nr, fd, (long)buf, (long)count);
    }

    public static readonly void* MapFailed = (void*)-1;
}
