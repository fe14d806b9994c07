using System.Runtime.InteropServices;

namespace Kvmfs.Kvm;

/// <summary>
/// Daemon-side eventfds received from the VMM (SCM_RIGHTS dups): validation, identity and
/// closing. Two fds name the same eventfd when kcmp says they share a struct file.
/// </summary>
public static partial class EventFd
{
    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static partial long syscall(long number, int pid1, int pid2, int type, long idx1, long idx2);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getpid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial long write(int fd, ref ulong value, nint count);

    private const int KcmpFile = 0;

    /// <summary>True when <paramref name="fd"/> is an eventfd ("anon_inode:[eventfd]").</summary>
    public static bool IsEventFd(int fd)
    {
        try
        {
            var target = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
            return target == "anon_inode:[eventfd]";
        }
        catch { return false; }
    }

    /// <summary>Whether two daemon fds refer to the same open eventfd.</summary>
    public static bool SameFile(int a, int b)
    {
        if (a == b) return true;
        long nr = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 272 : 312;
        int pid = getpid();
        long r = syscall(nr, pid, pid, KcmpFile, a, b);
        if (r >= 0) return r == 0;
        // No kcmp: fall back to the eventfd-id the kernel prints in fdinfo (Linux 6.0+).
        string? ida = EventfdId(a), idb = EventfdId(b);
        return ida is not null && ida == idb;
    }

    private static string? EventfdId(int fd)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/self/fdinfo/{fd}"))
                if (line.StartsWith("eventfd-id:", StringComparison.Ordinal)) return line;
        }
        catch { }
        return null;
    }

    /// <summary>Adds one to the eventfd counter (what the kernel's eventfd_signal does).</summary>
    public static bool Signal(int fd)
    {
        ulong one = 1;
        return write(fd, ref one, 8) == 8;
    }

    public static void Close(int fd)
    {
        if (fd >= 0) close(fd);
    }
}
