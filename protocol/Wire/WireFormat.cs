using System.Runtime.InteropServices;

namespace Kvmfs.Protocol.Wire;

// The frames the preload shim and the daemon exchange, mirrored from protocol/shim/kvmfs-wire.h
// (the C header is what the shim compiles against; a test in Kvmfs.Daemon.Tests compiles a C
// program against it and compares every size, offset and constant with these). Layouts are
// fixed and little-endian on both ends, so an x86-64 daemon and an aarch64 shim agree.

/// <summary>Constants of the wire format.</summary>
public static class Wire
{
    public const uint Magic = 0x464d564b;          // "KVMF" in memory order
    public const uint Version = 1;
    public const int MaxData = 65536;
    public const int MaxFrame = MaxData + 64;
    public const string DefaultSocket = "/run/kvmfs/kvmfs.sock";

    /// <summary>HELLO flag: the first connection of a process creates its session.</summary>
    public const ushort HelloNewSession = 0x1;

    /// <summary>IOCTL_REPLY flags.</summary>
    public const ushort ReplyNewObject = 0x1;
    public const ushort ReplyFdAttached = 0x2;
}

/// <summary>enum kvmfs_msg_type.</summary>
public enum MsgType : ushort
{
    Hello = 0x01,
    OpenDevice = 0x02,
    Ioctl = 0x03,
    Kick = 0x04,
    Close = 0x05,
    UserData = 0x11,
    UserStatus = 0x12,
    CopyFromUser = 0x41,
    CopyToUser = 0x42,
    GetFile = 0x43,
    ShareMemory = 0x44,
    HelloReply = 0x81,
    OpenReply = 0x82,
    IoctlReply = 0x83,
    ErrorReply = 0xff,
}

[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct WireHeader
{
    [FieldOffset(0)] public uint magic;
    [FieldOffset(4)] public ushort type;
    [FieldOffset(6)] public ushort flags;
    [FieldOffset(8)] public uint size;
    [FieldOffset(12)] public uint reserved;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct WireHello
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public ulong token;
    [FieldOffset(24)] public uint version;
    [FieldOffset(28)] public uint pid;
}

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct WireHelloReply
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public int error;
    [FieldOffset(20)] public uint version;
}

[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct WireOpenDevice
{
    [FieldOffset(0)] public WireHeader hdr;
}

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct WireOpenReply
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public int error;
    [FieldOffset(20)] public uint handle;
}

/// <summary>struct kvmfs_ioctl; data_len bytes of struct follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct WireIoctl
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public uint handle;
    [FieldOffset(20)] public uint cmd;
    [FieldOffset(24)] public ulong arg;
    [FieldOffset(32)] public uint data_len;
    [FieldOffset(36)] public uint reserved;
}

/// <summary>struct kvmfs_ioctl_reply; data_len bytes of struct follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
public struct WireIoctlReply
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public long result;
    [FieldOffset(24)] public uint new_handle;
    [FieldOffset(28)] public int new_fd_offset;
    [FieldOffset(32)] public uint data_len;
    [FieldOffset(36)] public uint reserved;
}

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct WireKick
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public uint handle;
    [FieldOffset(20)] public uint reserved;
}

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct WireClose
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public uint handle;
    [FieldOffset(20)] public uint reserved;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct WireCopyFromUser
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public ulong addr;
    [FieldOffset(24)] public ulong len;
}

/// <summary>struct kvmfs_copy_to_user; len bytes follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct WireCopyToUser
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public ulong addr;
    [FieldOffset(24)] public ulong len;
}

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct WireGetFile
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public int fd;
    [FieldOffset(20)] public uint reserved;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct WireShareMemory
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public ulong addr;
    [FieldOffset(24)] public ulong size;
}

/// <summary>struct kvmfs_user_data; len bytes follow.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct WireUserData
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public int error;
    [FieldOffset(20)] public uint len;
}

[StructLayout(LayoutKind.Explicit, Size = 32)]
public struct WireUserStatus
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public int error;
    [FieldOffset(20)] public uint reserved;
    [FieldOffset(24)] public ulong value;
}

[StructLayout(LayoutKind.Explicit, Size = 24)]
public struct WireErrorReply
{
    [FieldOffset(0)] public WireHeader hdr;
    [FieldOffset(16)] public int error;
    [FieldOffset(20)] public uint reserved;
}

/// <summary>
/// The C name of each wire struct and its C# mirror, for the agreement test and for anyone
/// who wants to walk the format generically.
/// </summary>
public static class WireLayout
{
    public static readonly (string CName, Type Type)[] Structs =
    [
        ("kvmfs_hdr", typeof(WireHeader)),
        ("kvmfs_hello", typeof(WireHello)),
        ("kvmfs_hello_reply", typeof(WireHelloReply)),
        ("kvmfs_open_device", typeof(WireOpenDevice)),
        ("kvmfs_open_reply", typeof(WireOpenReply)),
        ("kvmfs_ioctl", typeof(WireIoctl)),
        ("kvmfs_ioctl_reply", typeof(WireIoctlReply)),
        ("kvmfs_kick", typeof(WireKick)),
        ("kvmfs_close", typeof(WireClose)),
        ("kvmfs_copy_from_user", typeof(WireCopyFromUser)),
        ("kvmfs_copy_to_user", typeof(WireCopyToUser)),
        ("kvmfs_get_file", typeof(WireGetFile)),
        ("kvmfs_share_memory", typeof(WireShareMemory)),
        ("kvmfs_user_data", typeof(WireUserData)),
        ("kvmfs_user_status", typeof(WireUserStatus)),
        ("kvmfs_error_reply", typeof(WireErrorReply)),
    ];

    /// <summary>The C constant names and their values on the C# side.</summary>
    public static readonly (string CName, ulong Value)[] Constants =
    [
        ("KVMFS_WIRE_MAGIC", Wire.Magic),
        ("KVMFS_WIRE_VERSION", Wire.Version),
        ("KVMFS_WIRE_MAX_DATA", Wire.MaxData),
        ("KVMFS_WIRE_MAX_FRAME", Wire.MaxFrame),
        ("KVMFS_HELLO_NEW_SESSION", Wire.HelloNewSession),
        ("KVMFS_REPLY_NEW_OBJECT", Wire.ReplyNewObject),
        ("KVMFS_REPLY_FD_ATTACHED", Wire.ReplyFdAttached),
        ("KVMFS_MSG_HELLO", (ulong)MsgType.Hello),
        ("KVMFS_MSG_OPEN_DEVICE", (ulong)MsgType.OpenDevice),
        ("KVMFS_MSG_IOCTL", (ulong)MsgType.Ioctl),
        ("KVMFS_MSG_KICK", (ulong)MsgType.Kick),
        ("KVMFS_MSG_CLOSE", (ulong)MsgType.Close),
        ("KVMFS_MSG_USER_DATA", (ulong)MsgType.UserData),
        ("KVMFS_MSG_USER_STATUS", (ulong)MsgType.UserStatus),
        ("KVMFS_MSG_COPY_FROM_USER", (ulong)MsgType.CopyFromUser),
        ("KVMFS_MSG_COPY_TO_USER", (ulong)MsgType.CopyToUser),
        ("KVMFS_MSG_GET_FILE", (ulong)MsgType.GetFile),
        ("KVMFS_MSG_SHARE_MEMORY", (ulong)MsgType.ShareMemory),
        ("KVMFS_MSG_HELLO_REPLY", (ulong)MsgType.HelloReply),
        ("KVMFS_MSG_OPEN_REPLY", (ulong)MsgType.OpenReply),
        ("KVMFS_MSG_IOCTL_REPLY", (ulong)MsgType.IoctlReply),
        ("KVMFS_MSG_ERROR_REPLY", (ulong)MsgType.ErrorReply),
    ];
}
