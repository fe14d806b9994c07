using System.Runtime.InteropServices;
using Kvmfs.Daemon.Shim;
using Kvmfs.Protocol.Wire;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// Speaks the shim's wire format from C#, frame by frame, so tests can drive the daemon exactly as
/// the shim does, or not at all as it does (garbage).
/// </summary>
internal sealed unsafe class WireClient : IDisposable
{
    public const uint KVM_GET_API_VERSION = 0xAE00;
    public const uint KVM_CREATE_VM = 0xAE01;
    public const uint KVM_CHECK_EXTENSION = 0xAE03;
    public const uint KVM_CREATE_VCPU = 0xAE41;
    public const uint KVM_RUN = 0xAE80;
    public const uint KVM_SET_USER_MEMORY_REGION = 0x4020AE46;

    private readonly byte[] _rx = new byte[Wire.MaxFrame + 16];
    private int _fd;

    public WireClient(string socketPath)
    {
        _fd = SeqPacket.Connect(socketPath);
        if (_fd < 0) throw new IOException($"connect {socketPath}: errno {-_fd}");
    }

    public int Fd => _fd;

    /// <summary>The fd number the client tells the daemon for each new object (the shim's real fd).</summary>
    public int NextFakeFd { get; set; } = 100;

    public static WireHeader Header(MsgType type, int size, ushort flags = 0) =>
        new() { magic = Wire.Magic, type = (ushort)type, flags = flags, size = (uint)size };

    public static byte[] Bytes<T>(T frame) where T : unmanaged => MemoryMarshal.AsBytes(new ReadOnlySpan<T>(ref frame)).ToArray();

    public int SendRaw(ReadOnlySpan<byte> frame, int fd = -1) => SeqPacket.Send(_fd, frame, fd);

    /// <summary>The next frame, or null at end of stream / timeout.</summary>
    public byte[]? Receive(int timeoutMs = 5000) => Receive(out _, timeoutMs);

    public byte[]? Receive(out int fd, int timeoutMs = 5000)
    {
        fd = -1;
        var p = new Native.PollFd { Fd = _fd, Events = 1 };
        if (Native.poll(&p, 1, timeoutMs) <= 0) return null;
        int n = SeqPacket.Receive(_fd, _rx, out fd, out _);
        return n <= 0 ? null : _rx.AsSpan(0, n).ToArray();
    }

    public static MsgType TypeOf(byte[] frame) => (MsgType)MemoryMarshal.Read<WireHeader>(frame).type;

    public static T Read<T>(byte[] frame) where T : unmanaged => MemoryMarshal.Read<T>(frame);

    public int Hello(ulong token, bool newSession, uint? pid = null)
    {
        var h = new WireHello { token = token, version = Wire.Version, pid = pid ?? (uint)Environment.ProcessId };
        h.hdr = Header(MsgType.Hello, sizeof(WireHello), newSession ? Wire.HelloNewSession : (ushort)0);
        SendRaw(Bytes(h));
        var r = Receive() ?? throw new IOException("no HELLO_REPLY");
        Assert.Equal(MsgType.HelloReply, TypeOf(r));
        return Read<WireHelloReply>(r).error;
    }

    public uint OpenDevice()
    {
        var q = new WireOpenDevice { hdr = Header(MsgType.OpenDevice, sizeof(WireOpenDevice)) };
        SendRaw(Bytes(q));
        var r = Receive() ?? throw new IOException("no OPEN_REPLY");
        Assert.Equal(MsgType.OpenReply, TypeOf(r));
        var o = Read<WireOpenReply>(r);
        Assert.Equal(0, o.error);
        return o.handle;
    }

    public byte[] IoctlFrame(uint handle, uint cmd, ulong arg, ReadOnlySpan<byte> data)
    {
        var q = new WireIoctl { handle = handle, cmd = cmd, arg = arg, data_len = (uint)data.Length };
        q.hdr = Header(MsgType.Ioctl, sizeof(WireIoctl) + data.Length);
        return [.. Bytes(q), .. data];
    }

    public sealed record Reply(long Result, uint NewHandle, byte[] Data, int AttachedFd);

    /// <summary>
    /// One ioctl; <paramref name="callback"/> answers the daemon's callbacks (default: refuse with
    /// EFAULT/EBADF, as for a VMM whose pointers are all bad). Returns null when the daemon
    /// answered ERROR_REPLY (Result then in <paramref name="error"/>) or hung up.
    /// </summary>
    public Reply? Ioctl(uint handle, uint cmd, ulong arg = 0, byte[]? data = null, Func<byte[], byte[]>? callback = null)
        => Ioctl(handle, cmd, arg, data, callback, out _);

    public Reply? Ioctl(uint handle, uint cmd, ulong arg, byte[]? data, Func<byte[], byte[]>? callback, out int error)
    {
        error = 0;
        SendRaw(IoctlFrame(handle, cmd, arg, data ?? []));
        for (;;)
        {
            var f = Receive(out int fd, 10000);
            if (f is null) return null;
            switch (TypeOf(f))
            {
                case MsgType.IoctlReply:
                {
                    var r = Read<WireIoctlReply>(f);
                    var reply = new Reply(r.result, r.new_handle, f[sizeof(WireIoctlReply)..], fd);
                    if ((r.hdr.flags & Wire.ReplyNewObject) != 0)
                    {
                        var ack = new WireUserStatus { value = (ulong)NextFakeFd };
                        ack.hdr = Header(MsgType.UserStatus, sizeof(WireUserStatus));
                        SendRaw(Bytes(ack));
                        reply = reply with { Result = r.new_fd_offset < 0 ? NextFakeFd : r.result };
                        NextFakeFd++;
                    }
                    return reply;
                }
                case MsgType.ErrorReply:
                    if (fd >= 0) SeqPacket.Close(fd);
                    error = Read<WireErrorReply>(f).error;
                    return null;
                default:
                    if (fd >= 0) SeqPacket.Close(fd);
                    SendRaw((callback ?? Refuse)(f));
                    break;
            }
        }
    }

    /// <summary>Answers any callback as a VMM whose memory and fds are all invalid.</summary>
    public static byte[] Refuse(byte[] callback)
    {
        if (TypeOf(callback) == MsgType.CopyFromUser)
        {
            var d = new WireUserData { error = 14 };
            d.hdr = Header(MsgType.UserData, sizeof(WireUserData));
            return Bytes(d);
        }
        var s = new WireUserStatus { error = TypeOf(callback) == MsgType.GetFile ? 9 : 14 };
        s.hdr = Header(MsgType.UserStatus, sizeof(WireUserStatus));
        return Bytes(s);
    }

    public void Close()
    {
        if (_fd >= 0) SeqPacket.Close(_fd);
        _fd = -1;
    }

    public void Dispose() => Close();

    private static class Native
    {
        [StructLayout(LayoutKind.Sequential)]
        public struct PollFd { public int Fd; public short Events; public short Revents; }

        [DllImport("libc", SetLastError = true)]
        public static extern int poll(PollFd* fds, nuint n, int timeout);
    }
}
