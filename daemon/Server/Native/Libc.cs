using System.Runtime.InteropServices;

namespace Kvmfs.Daemon.Native;

/// <summary>
/// The few libc calls the shim socket server needs that .NET's Socket class does not offer:
/// SOCK_SEQPACKET Unix sockets with SCM_RIGHTS, SO_PEERCRED, and mmap of a memfd.
/// Layouts are the LP64 Linux ones (x86-64 and arm64 agree).
/// </summary>
internal static unsafe partial class Libc
{
    public const int AF_UNIX = 1;
    public const int SOCK_SEQPACKET = 5;
    public const int SOCK_CLOEXEC = 0x80000;
    public const int SOL_SOCKET = 1;
    public const int SO_PEERCRED = 17;
    public const int SCM_RIGHTS = 1;
    public const int MSG_NOSIGNAL = 0x4000;
    public const int MSG_CMSG_CLOEXEC = 0x40000000;
    public const int MSG_TRUNC = 0x20;
    public const int MSG_CTRUNC = 0x8;
    public const int SHUT_RDWR = 2;

    public const int PROT_READ = 1, PROT_WRITE = 2;
    public const int MAP_SHARED = 1;
    public const uint MFD_CLOEXEC = 1;

    public const int EINTR = 4, EBADF = 9, ENOMEM = 12, EACCES = 13, EFAULT = 14, EEXIST = 17,
        EINVAL = 22, ENOTTY = 25, EPERM = 1, EIO = 5, ENOENT = 2, EPROTO = 71, ENOSYS = 38, ESRCH = 3;

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct CMsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct UCred
    {
        public int Pid;
        public uint Uid;
        public uint Gid;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct SockAddrUn
    {
        public ushort Family;
        public fixed byte Path[108];
    }

    public static readonly int CMsgHeaderSize = Align(sizeof(CMsgHdr));

    public static int Align(int n) => (n + 7) & ~7;
    public static int CMsgSpace(int dataBytes) => CMsgHeaderSize + Align(dataBytes);
    public static int CMsgLen(int dataBytes) => CMsgHeaderSize + dataBytes;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int socket(int domain, int type, int protocol);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int bind(int fd, SockAddrUn* addr, uint len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int listen(int fd, int backlog);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int accept4(int fd, void* addr, void* len, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int connect(int fd, SockAddrUn* addr, uint len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint sendmsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint recvmsg(int fd, MsgHdr* msg, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int getsockopt(int fd, int level, int name, void* value, uint* len);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int shutdown(int fd, int how);

    public const short POLLIN = 0x1, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20, POLLRDHUP = 0x2000;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int fcntl(int fd, int cmd, int arg);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int munmap(nint addr, nuint length);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int memfd_create(string name, uint flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int ftruncate(int fd, long length);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int chmod(string path, uint mode);

    public static int Errno => Marshal.GetLastPInvokeError();

    public static SockAddrUn Address(string path, out uint length)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(path);
        if (bytes.Length >= 108) throw new ArgumentException($"socket path too long: {path}");
        var a = new SockAddrUn { Family = AF_UNIX };
        for (int i = 0; i < bytes.Length; i++) a.Path[i] = bytes[i];
        length = (uint)(2 + bytes.Length + 1);
        return a;
    }
}
