using System.Runtime.InteropServices;
using System.Text;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.User;

/// <summary>The six argument registers X0..X5 of an SVC.</summary>
public readonly record struct SyscallArgs(ulong A0, ulong A1, ulong A2, ulong A3, ulong A4, ulong A5);

/// <summary>
/// The Linux AArch64 system call layer of user mode. <see cref="Table"/> maps each number (X8) to a name
/// and a handler; a handler returns the value for X0: the result, or -errno. Files are host files: the
/// guest's descriptors are host descriptors (<see cref="FdTable"/>), and guest buffers are passed to the
/// host calls in place (guest memory is host memory at Base + va). Where x86_64 and arm64 differ
/// (open flags, struct stat) the values are converted.
/// </summary>
public sealed unsafe partial class Syscalls
{
    public delegate long Handler(Syscalls s, SyscallArgs a);
    public readonly record struct Entry(int Number, string Name, Handler Handler);

    // errno values (asm-generic, the same on arm64 and x86_64).
    public const long EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
        EFAULT = 14, EEXIST = 17, ENOTDIR = 20, EINVAL = 22, EMFILE = 24, ENOTTY = 25, ESPIPE = 29, EPIPE = 32, ERANGE = 34,
        ENOSYS = 38, ETIMEDOUT = 110;

    /// <summary>Every system call user mode knows, by arm64 number (asm-generic/unistd.h).</summary>
    public static readonly Entry[] Table =
    [
        new(17, "getcwd", static (s, a) => s.GetCwd(a.A0, a.A1)),
        new(23, "dup", static (s, a) => s.Dup((int)a.A0)),
        new(24, "dup3", static (s, a) => s.Dup3((int)a.A0, (int)a.A1, (int)a.A2)),
        new(25, "fcntl", static (s, a) => s.Fcntl((int)a.A0, (int)a.A1, a.A2)),
        new(29, "ioctl", static (s, a) => s.Ioctl((int)a.A0, a.A1, a.A2)),
        new(34, "mkdirat", static (s, a) => s.PathCall(a.A1, p => Libc.mkdirat(s.DirFd(a.A0), (byte*)p, (int)a.A2))),
        new(35, "unlinkat", static (s, a) => s.PathCall(a.A1, p => Libc.unlinkat(s.DirFd(a.A0), (byte*)p, (int)a.A2))),
        new(38, "renameat", static (s, a) => s.RenameAt(a.A0, a.A1, a.A2, a.A3, 0)),
        new(46, "ftruncate", static (s, a) => s.FdCall((int)a.A0, h => Libc.ftruncate(h, (long)a.A1))),
        new(48, "faccessat", static (s, a) => s.PathCall(a.A1, p => Libc.faccessat(s.DirFd(a.A0), (byte*)p, (int)a.A2, 0))),
        new(49, "chdir", static (s, a) => s.PathCall(a.A0, p => Libc.chdir((byte*)p))),
        new(52, "fchmod", static (s, a) => s.FdCall((int)a.A0, h => Libc.fchmod(h, (int)a.A1))),
        new(53, "fchmodat", static (s, a) => s.PathCall(a.A1, p => Libc.fchmodat(s.DirFd(a.A0), (byte*)p, (int)a.A2, 0))),
        new(55, "fchown", static (s, a) => s.FdCall((int)a.A0, h => Libc.fchown(h, (int)a.A1, (int)a.A2))),
        new(56, "openat", static (s, a) => s.OpenAt(a.A0, a.A1, (int)a.A2, (int)a.A3)),
        new(57, "close", static (s, a) => s.Fds.Close((int)a.A0) ? 0 : -EBADF),
        new(59, "pipe2", static (s, a) => s.Pipe2(a.A0, (int)a.A1)),
        new(61, "getdents64", static (s, a) => s.GetDents64((int)a.A0, a.A1, a.A2)),
        new(62, "lseek", static (s, a) => s.FdCall((int)a.A0, h => Libc.lseek(h, (long)a.A1, (int)a.A2))),
        new(63, "read", static (s, a) => s.Read((int)a.A0, a.A1, a.A2)),
        new(64, "write", static (s, a) => s.Write((int)a.A0, a.A1, a.A2)),
        new(65, "readv", static (s, a) => s.Vector((int)a.A0, a.A1, (int)a.A2, write: false)),
        new(66, "writev", static (s, a) => s.Vector((int)a.A0, a.A1, (int)a.A2, write: true)),
        new(67, "pread64", static (s, a) => s.PRead((int)a.A0, a.A1, a.A2, (long)a.A3)),
        new(68, "pwrite64", static (s, a) => s.PWrite((int)a.A0, a.A1, a.A2, (long)a.A3)),
        new(78, "readlinkat", static (s, a) => s.ReadLinkAt(a.A0, a.A1, a.A2, a.A3)),
        new(79, "newfstatat", static (s, a) => s.NewFstatAt(a.A0, a.A1, a.A2, (int)a.A3)),
        new(80, "fstat", static (s, a) => s.Fstat((int)a.A0, a.A1)),
        new(82, "fsync", static (s, a) => s.FdCall((int)a.A0, h => Libc.fsync(h))),
        new(83, "fdatasync", static (s, a) => s.FdCall((int)a.A0, h => Libc.fsync(h))),
        new(88, "utimensat", static (s, a) => s.UtimensAt(a.A0, a.A1, a.A2, (int)a.A3)),
        new(93, "exit", static (s, a) => s.ExitCall((int)a.A0)),
        new(94, "exit_group", static (s, a) => s.ExitCall((int)a.A0)),
        new(96, "set_tid_address", static (s, a) => { s.clearChildTid = a.A0; return s.process.Pid; }),
        new(98, "futex", static (s, a) => s.Futex(a.A0, (int)a.A1, (uint)a.A2)),
        new(99, "set_robust_list", static (s, a) => a.A1 == 24 ? 0 : -EINVAL),
        new(101, "nanosleep", static (s, a) => s.NanoSleep(a.A0, a.A1)),
        new(113, "clock_gettime", static (s, a) => s.ClockGetTime((int)a.A0, a.A1, res: false)),
        new(114, "clock_getres", static (s, a) => s.ClockGetTime((int)a.A0, a.A1, res: true)),
        new(115, "clock_nanosleep", static (s, a) => s.ClockNanoSleep((int)a.A0, (int)a.A1, a.A2, a.A3)),
        new(122, "sched_setaffinity", static (s, a) => 0),
        new(123, "sched_getaffinity", static (s, a) => s.SchedGetAffinity(a.A1, a.A2)),
        new(124, "sched_yield", static (s, a) => 0),
        new(129, "kill", static (s, a) => s.SendSignal((int)a.A0, (int)a.A1)),
        new(130, "tkill", static (s, a) => s.SendSignal((int)a.A0, (int)a.A1)),
        new(131, "tgkill", static (s, a) => s.SendSignal((int)a.A0, (int)a.A2)),
        new(132, "sigaltstack", static (s, a) => s.SigAltStack(a.A1)),
        new(134, "rt_sigaction", static (s, a) => s.SigAction((int)a.A0, a.A1, a.A2, a.A3)),
        new(135, "rt_sigprocmask", static (s, a) => s.SigProcMask((int)a.A0, a.A1, a.A2, a.A3)),
        new(148, "getresuid", static (s, a) => s.ThreeIds(a.A0, a.A1, a.A2, Libc.getuid(), Libc.geteuid(), Libc.geteuid())),
        new(150, "getresgid", static (s, a) => s.ThreeIds(a.A0, a.A1, a.A2, Libc.getgid(), Libc.getegid(), Libc.getegid())),
        new(155, "getpgid", static (s, a) => s.HostResult(Libc.getpgid((int)a.A0))),
        new(156, "getsid", static (s, a) => s.HostResult(Libc.getsid((int)a.A0))),
        new(158, "getgroups", static (s, a) => s.GetGroups((int)a.A0, a.A1)),
        new(160, "uname", static (s, a) => s.Uname(a.A0)),
        new(163, "getrlimit", static (s, a) => s.GetRlimit((int)a.A0, a.A1)),
        new(165, "getrusage", static (s, a) => s.HostStruct(a.A1, 144, p => Libc.getrusage((int)a.A0, (void*)p))),
        new(166, "umask", static (s, a) => Libc.umask((int)a.A0 & 0x1FF)),
        new(167, "prctl", static (s, a) => s.Prctl((int)a.A0, a.A1)),
        new(169, "gettimeofday", static (s, a) => s.GetTimeOfDay(a.A0, a.A1)),
        new(172, "getpid", static (s, a) => s.process.Pid),
        new(173, "getppid", static (s, a) => Libc.getppid()),
        new(174, "getuid", static (s, a) => Libc.getuid()),
        new(175, "geteuid", static (s, a) => Libc.geteuid()),
        new(176, "getgid", static (s, a) => Libc.getgid()),
        new(177, "getegid", static (s, a) => Libc.getegid()),
        new(178, "gettid", static (s, a) => s.process.Pid),
        new(179, "sysinfo", static (s, a) => s.HostStruct(a.A0, 112, p => Libc.sysinfo((void*)p))),
        new(214, "brk", static (s, a) => s.Brk(a.A0)),
        new(215, "munmap", static (s, a) => s.Munmap(a.A0, a.A1)),
        new(216, "mremap", static (s, a) => s.Mremap(a.A0, a.A1, a.A2, (int)a.A3, a.A4)),
        new(222, "mmap", static (s, a) => s.Mmap(a.A0, a.A1, (int)a.A2, (int)a.A3, (int)a.A4, (long)a.A5)),
        new(226, "mprotect", static (s, a) => s.Mprotect(a.A0, a.A1, (int)a.A2)),
        new(233, "madvise", static (s, a) => s.Madvise(a.A0, a.A1, (int)a.A2)),
        new(261, "prlimit64", static (s, a) => s.Prlimit64((int)a.A0, (int)a.A1, a.A2, a.A3)),
        new(276, "renameat2", static (s, a) => s.RenameAt(a.A0, a.A1, a.A2, a.A3, (int)a.A4)),
        new(278, "getrandom", static (s, a) => s.GetRandom(a.A0, a.A1, (uint)a.A2)),
        new(291, "statx", static (s, a) => s.Statx(a.A0, a.A1, (int)a.A2, (uint)a.A3, a.A4)),
        new(293, "rseq", static (s, a) => -ENOSYS),
        new(439, "faccessat2", static (s, a) => s.PathCall(a.A1, p => Libc.faccessat(s.DirFd(a.A0), (byte*)p, (int)a.A2, (int)a.A3))),
    ];

    static readonly Entry?[] byNumber = BuildIndex();

    static Entry?[] BuildIndex()
    {
        var index = new Entry?[512];
        foreach (var e in Table) index[e.Number] = e;
        return index;
    }

    public static string NameOf(int number) =>
        number >= 0 && number < byNumber.Length && byNumber[number] is { } e ? e.Name : $"syscall_{number}";

    readonly UserProcess process;
    readonly UserAddressSpace mem;
    FdTable Fds => process.Fds;
    ulong clearChildTid;
    ulong signalMask;
    readonly byte[][] sigactions = new byte[65][];

    public Syscalls(UserProcess process)
    {
        this.process = process;
        mem = process.Memory;
    }

    /// <summary>Called for an SVC from EL0: PC already points after the SVC.</summary>
    public void Dispatch()
    {
        ArmCpu cpu = process.Cpu;
        int number = (int)cpu.X(8);
        var args = new SyscallArgs(cpu.X(0), cpu.X(1), cpu.X(2), cpu.X(3), cpu.X(4), cpu.X(5));
        long result;
        Entry? entry = number >= 0 && number < byNumber.Length ? byNumber[number] : null;
        if (entry is { } e)
            result = e.Handler(this, args);
        else
        {
            result = -ENOSYS;
            if (process.Options.TraceUnknown || process.Options.TraceSyscalls)
                process.Diagnostic($"kvmfs user: unknown syscall {number} (x0=0x{args.A0:x} x1=0x{args.A1:x} x2=0x{args.A2:x}) at pc=0x{cpu.S->PC - 4:x}: -ENOSYS");
        }
        if (process.Options.TraceSyscalls && entry is { } t)
            process.Diagnostic($"{t.Name}(0x{args.A0:x}, 0x{args.A1:x}, 0x{args.A2:x}, 0x{args.A3:x}) = {(result < 0 && result > -4096 ? $"-{Errno(-result)}" : $"0x{result:x}")}");
        if (!process.Exited) cpu.SetX(0, (ulong)result);
    }

    static string Errno(long e) => e switch
    {
        EPERM => "EPERM", ENOENT => "ENOENT", EBADF => "EBADF", EAGAIN => "EAGAIN", ENOMEM => "ENOMEM", EACCES => "EACCES",
        EFAULT => "EFAULT", EEXIST => "EEXIST", EINVAL => "EINVAL", ENOTTY => "ENOTTY", ESPIPE => "ESPIPE", ENOSYS => "ENOSYS",
        _ => e.ToString(),
    };

    // ---------------------------------------------------------------- guest memory helpers

    /// <summary>Host pointer to a guest buffer the guest may access with <paramref name="need"/>, or null (EFAULT).</summary>
    byte* Buffer(ulong va, ulong length, PagePerms need) =>
        mem.Check(va, length, need) ? mem.Host(va) : null;

    /// <summary>A NUL-terminated guest string copied out (with its NUL), or null if it is not readable or too long.</summary>
    byte[]? CString(ulong va, int max = 4096)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < max; i++)
        {
            if ((mem.PermsAt(va + (ulong)i) & PagePerms.Read) == 0) return null;
            byte b = *mem.Host(va + (ulong)i);
            bytes.Add(b);
            if (b == 0) return bytes.ToArray();
        }
        return null;
    }

    long HostResult(long r) => r < 0 ? -Libc.Errno : r;

    int DirFd(ulong guestDirFd)
    {
        int fd = (int)guestDirFd;
        return fd == Libc.AT_FDCWD ? Libc.AT_FDCWD : Fds.Get(fd) is var h && h >= 0 ? h : int.MinValue;
    }

    long PathCall(ulong pathVa, Func<nint, long> call)
    {
        byte[]? path = CString(pathVa);
        if (path == null) return -EFAULT;
        fixed (byte* p = path) return HostResult(call((nint)p));
    }

    long FdCall(int fd, Func<int, long> call)
    {
        int h = Fds.Get(fd);
        if (h < 0) return -EBADF;
        return HostResult(call(h));
    }

    long HostStruct(ulong va, int size, Func<nint, int> call)
    {
        byte* p = Buffer(va, (ulong)size, PagePerms.Write);
        if (p == null) return -EFAULT;
        return HostResult(call((nint)p));
    }
}
