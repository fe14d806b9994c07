namespace Kvmfs.Protocol.Trace;

/// <summary>Linux errno names and strerror texts (asm-generic/errno-base.h and errno.h), for traces.</summary>
public static class ErrnoNames
{
    private static readonly Dictionary<int, (string Name, string Message)> Table = new()
    {
        [1] = ("EPERM", "Operation not permitted"),
        [2] = ("ENOENT", "No such file or directory"),
        [3] = ("ESRCH", "No such process"),
        [4] = ("EINTR", "Interrupted system call"),
        [5] = ("EIO", "Input/output error"),
        [6] = ("ENXIO", "No such device or address"),
        [7] = ("E2BIG", "Argument list too long"),
        [8] = ("ENOEXEC", "Exec format error"),
        [9] = ("EBADF", "Bad file descriptor"),
        [10] = ("ECHILD", "No child processes"),
        [11] = ("EAGAIN", "Resource temporarily unavailable"),
        [12] = ("ENOMEM", "Cannot allocate memory"),
        [13] = ("EACCES", "Permission denied"),
        [14] = ("EFAULT", "Bad address"),
        [15] = ("ENOTBLK", "Block device required"),
        [16] = ("EBUSY", "Device or resource busy"),
        [17] = ("EEXIST", "File exists"),
        [18] = ("EXDEV", "Invalid cross-device link"),
        [19] = ("ENODEV", "No such device"),
        [20] = ("ENOTDIR", "Not a directory"),
        [21] = ("EISDIR", "Is a directory"),
        [22] = ("EINVAL", "Invalid argument"),
        [23] = ("ENFILE", "Too many open files in system"),
        [24] = ("EMFILE", "Too many open files"),
        [25] = ("ENOTTY", "Inappropriate ioctl for device"),
        [26] = ("ETXTBSY", "Text file busy"),
        [27] = ("EFBIG", "File too large"),
        [28] = ("ENOSPC", "No space left on device"),
        [29] = ("ESPIPE", "Illegal seek"),
        [30] = ("EROFS", "Read-only file system"),
        [31] = ("EMLINK", "Too many links"),
        [32] = ("EPIPE", "Broken pipe"),
        [33] = ("EDOM", "Numerical argument out of domain"),
        [34] = ("ERANGE", "Numerical result out of range"),
        [35] = ("EDEADLK", "Resource deadlock avoided"),
        [36] = ("ENAMETOOLONG", "File name too long"),
        [37] = ("ENOLCK", "No locks available"),
        [38] = ("ENOSYS", "Function not implemented"),
        [39] = ("ENOTEMPTY", "Directory not empty"),
        [40] = ("ELOOP", "Too many levels of symbolic links"),
        [61] = ("ENODATA", "No data available"),
        [71] = ("EPROTO", "Protocol error"),
        [75] = ("EOVERFLOW", "Value too large for defined data type"),
        [95] = ("EOPNOTSUPP", "Operation not supported"),
        [105] = ("ENOBUFS", "No buffer space available"),
        [110] = ("ETIMEDOUT", "Connection timed out"),
        [114] = ("EALREADY", "Operation already in progress"),
        [115] = ("EINPROGRESS", "Operation now in progress"),
        [512] = ("ERESTARTSYS", "Unknown error 512"),
        [524] = ("ENOTSUPP", "Unknown error 524"),
    };

    /// <summary>"EINVAL", or "E123" for a number without a name.</summary>
    public static string Name(int errno) => Table.TryGetValue(errno, out var e) ? e.Name : $"E{errno}";

    /// <summary>"Invalid argument", or "Unknown error 123".</summary>
    public static string Message(int errno) => Table.TryGetValue(errno, out var e) ? e.Message : $"Unknown error {errno}";
}
