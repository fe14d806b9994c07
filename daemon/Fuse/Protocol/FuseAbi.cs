using System.Runtime.InteropServices;

namespace Kvmfs.Fuse.Protocol;

// The FUSE kernel protocol (Linux include/uapi/linux/fuse.h), written from the facts of that header:
// every message from the kernel starts with FuseInHeader, every reply with FuseOutHeader, and the
// structs below follow. All structs are padded to 8 bytes so 32- and 64-bit servers agree.

/// <summary>The request kinds the kernel sends (fuse_opcode). The server answers the ones it knows
/// and ENOSYS to every other, after which the kernel stops asking for most of them.</summary>
public enum FuseOpcode : uint
{
    Lookup = 1,
    Forget = 2,          // no reply
    Getattr = 3,
    Setattr = 4,
    Readlink = 5,
    Symlink = 6,
    Mknod = 8,
    Mkdir = 9,
    Unlink = 10,
    Rmdir = 11,
    Rename = 12,
    Link = 13,
    Open = 14,
    Read = 15,
    Write = 16,
    Statfs = 17,
    Release = 18,
    Fsync = 20,
    Setxattr = 21,
    Getxattr = 22,
    Listxattr = 23,
    Removexattr = 24,
    Flush = 25,
    Init = 26,
    Opendir = 27,
    Readdir = 28,
    Releasedir = 29,
    Fsyncdir = 30,
    Getlk = 31,
    Setlk = 32,
    Setlkw = 33,
    Access = 34,
    Create = 35,
    Interrupt = 36,
    Bmap = 37,
    Destroy = 38,
    Ioctl = 39,
    Poll = 40,
    NotifyReply = 41,
    BatchForget = 42,    // no reply
    Fallocate = 43,
    Readdirplus = 44,
    Rename2 = 45,
    Lseek = 46,
    CopyFileRange = 47,
}

/// <summary>Unsolicited messages from the server to the kernel: the out header carries the code
/// in its error field and unique 0.</summary>
public enum FuseNotifyCode
{
    Poll = 1,
    InvalInode = 2,
    InvalEntry = 3,
}

public static class FuseConst
{
    /// <summary>The protocol major version; a kernel with a newer major waits for us to answer with ours.</summary>
    public const uint KernelVersion = 7;

    /// <summary>The newest minor version this server speaks. The kernel adapts down to it; structs
    /// whose size changed after it are not used (we never negotiate the features that grew them).</summary>
    public const uint KernelMinorVersion = 38;

    /// <summary>Below 7.23 fuse_init_out was 24 bytes; the kernel rejects a longer reply from an old one.</summary>
    public const uint MinorWithFullInitOut = 23;

    public const int CompatInitOutSize = 24;

    public const ulong RootId = 1;

    /// <summary>The kernel refuses a /dev/fuse read buffer smaller than this.</summary>
    public const int MinReadBuffer = 8192;

    /// <summary>Replies to FUSE_INTERRUPT carry the interrupted request's unique with this bit set.</summary>
    public const ulong IntReqBit = 1;

    // fuse_init flags (the 32 low bits; bits 32..63 travel in flags2).
    public const uint AsyncRead = 1u << 0;
    public const uint BigWrites = 1u << 5;
    public const uint AtomicOTrunc = 1u << 3;
    public const uint DoReaddirplus = 1u << 13;
    public const uint ParallelDirops = 1u << 18;
    public const uint MaxPages = 1u << 22;
    public const uint InitExt = 1u << 30;

    // FOPEN_* flags in fuse_open_out.
    public const uint FopenDirectIo = 1u << 0;
    public const uint FopenKeepCache = 1u << 1;
    public const uint FopenNonseekable = 1u << 2;
    public const uint FopenStream = 1u << 4;

    // fuse_ioctl_in.flags
    public const uint IoctlCompat = 1u << 0;
    public const uint IoctlUnrestricted = 1u << 1;
    public const uint IoctlRetry = 1u << 2;
    public const uint Ioctl32Bit = 1u << 3;
    public const uint IoctlDir = 1u << 4;

    // fuse_poll_in.flags
    public const uint PollScheduleNotify = 1u << 0;

    // File type bits of st_mode, and the dirent type (DT_*) the kernel wants in fuse_dirent.type.
    public const uint S_IFDIR = 0x4000, S_IFREG = 0x8000;
    public const uint DT_DIR = 4, DT_REG = 8;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseInHeader
{
    public uint Len;
    public uint Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    /// <summary>The calling thread's id (a TID, not the process id) in the mount's pid namespace.</summary>
    public uint Pid;
    /// <summary>Length of request extensions after the body, in 8-byte units (7.38+).</summary>
    public ushort TotalExtLen;
    public ushort Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseOutHeader
{
    public uint Len;
    /// <summary>0 or -errno for a reply; the notify code for a notification.</summary>
    public int Error;
    public ulong Unique;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseAttr
{
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint AtimeNsec;
    public uint MtimeNsec;
    public uint CtimeNsec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint BlkSize;
    public uint Flags;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseEntryOut
{
    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseAttrOut
{
    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public FuseAttr Attr;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseForgetIn
{
    public ulong Nlookup;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseForgetOne
{
    public ulong NodeId;
    public ulong Nlookup;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseBatchForgetIn
{
    public uint Count;
    public uint Dummy;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseGetattrIn
{
    public uint GetattrFlags;
    public uint Dummy;
    public ulong Fh;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenIn
{
    /// <summary>The open(2) flags (O_ACCMODE, O_NONBLOCK, ...).</summary>
    public uint Flags;
    public uint OpenFlags;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseOpenOut
{
    public ulong Fh;
    public uint OpenFlags;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseReleaseIn
{
    public ulong Fh;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseFlushIn
{
    public ulong Fh;
    public uint Unused;
    public uint Padding;
    public ulong LockOwner;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseReadIn
{
    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    /// <summary>The file's current f_flags (O_NONBLOCK tells a stream read not to wait).</summary>
    public uint Flags;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseInitIn
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    // Present from 7.36 when the kernel sets FUSE_INIT_EXT; read only if the request is long enough.
    public uint Flags2;
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseInitOut
{
    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    public fixed uint Unused[7];
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseInterruptIn
{
    public ulong Unique;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseIoctlIn
{
    public ulong Fh;
    public uint Flags;
    public uint Cmd;
    /// <summary>The ioctl's third argument: a value for _IO ioctls, the caller's struct address otherwise.</summary>
    public ulong Arg;
    public uint InSize;
    public uint OutSize;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseIoctlOut
{
    public int Result;
    public uint Flags;
    public uint InIovs;
    public uint OutIovs;
}

[StructLayout(LayoutKind.Sequential)]
public struct FusePollIn
{
    public ulong Fh;
    /// <summary>The kernel's handle for this poll: echoed in FUSE_NOTIFY_POLL when the file becomes ready.</summary>
    public ulong Kh;
    public uint Flags;
    public uint Events;
}

[StructLayout(LayoutKind.Sequential)]
public struct FusePollOut
{
    public uint Revents;
    public uint Padding;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseNotifyPollWakeupOut
{
    public ulong Kh;
}

[StructLayout(LayoutKind.Sequential)]
public struct FuseDirent
{
    public ulong Ino;
    /// <summary>The offset the kernel passes back to continue the listing after this entry.</summary>
    public ulong Off;
    public uint NameLen;
    public uint Type;
    // the name follows, padded to 8 bytes
}

[StructLayout(LayoutKind.Sequential)]
public unsafe struct FuseKstatfs
{
    public ulong Blocks;
    public ulong Bfree;
    public ulong Bavail;
    public ulong Files;
    public ulong Ffree;
    public uint Bsize;
    public uint NameLen;
    public uint Frsize;
    public uint Padding;
    public fixed uint Spare[6];
}
