using System.Diagnostics;
using System.Runtime.InteropServices;
using Kvmfs.Daemon.Native;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Trace;
using Kvmfs.Protocol.Wire;
using Serilog;

namespace Kvmfs.Daemon.Shim;

/// <summary>
/// One shim connection (one VMM thread, or the shim's control connection), served on its own
/// daemon thread so a thread blocked in KVM_RUN never holds up another. During an ioctl this
/// object is also the caller's side of the call (<see cref="IUserAccess"/>): copy_from_user,
/// copy_to_user, fget and guest-memory sharing are round trips back to the shim on the same
/// socket, made by the thread running the ioctl.
/// </summary>
internal sealed unsafe class ShimConnection : IUserAccess
{
    private const int MaxProtocolErrors = 64;
    private const uint KVM_RUN = 0xAE80;

    private readonly ShimServer _server;
    private readonly int _fd;
    private readonly Libc.UCred _peer;
    private readonly byte[] _rx = new byte[Wire.MaxFrame];
    private readonly byte[] _tx = new byte[Wire.MaxFrame];
    private ShimSession? _session;
    private int _protocolErrors;
    private volatile bool _broken;
    private int _ioctlThread;               // managed thread id while an ioctl runs, else 0
    private List<UserCopy>? _copies;        // recorded for the trace while one runs

    public ShimConnection(ShimServer server, int fd, Libc.UCred peer)
    {
        _server = server;
        _fd = fd;
        _peer = peer;
    }

    public int Fd => _fd;
    public int PeerPid => _peer.Pid;

    /// <summary>The object whose ioctl runs now (the hangup monitor kicks it if the VMM dies).</summary>
    public KvmObject? Running { get; private set; }

    /// <summary>Makes the connection's thread leave (server shutdown, or a VMM that hung up mid-ioctl).</summary>
    public void Abort()
    {
        _broken = true;
        Libc.shutdown(_fd, Libc.SHUT_RDWR);
    }

    public void Run()
    {
        try
        {
            while (!_broken)
            {
                int n = SeqPacket.Receive(_fd, _rx, out int fd, out bool truncated);
                if (n == 0) break;
                if (n < 0)
                {
                    Log.Debug("shim connection of {Pid}: receive failed, errno {Errno}", _peer.Pid, -n);
                    break;
                }
                Handle(n, fd, truncated);
            }
        }
        catch (Exception e)
        {
            // A bug in a handler must cost this connection at most, never the daemon.
            Log.Error(e, "shim connection of {Pid}: closing after an unexpected error", _peer.Pid);
        }
        finally
        {
            Libc.close(_fd);
            _server.Forget(this);
            _session?.Detach();
        }
    }

    // ---- requests ------------------------------------------------------------------------

    private void Handle(int n, int fd, bool truncated)
    {
        if (fd >= 0)
        {
            // Requests never carry descriptors; drop it so a client cannot make us leak fds.
            Libc.close(fd);
            fd = -1;
        }
        if (truncated) { Bad(Libc.EPROTO, "frame larger than {Max} bytes", Wire.MaxFrame); return; }
        if (n < sizeof(WireHeader)) { Bad(Libc.EPROTO, "short frame of {Bytes} bytes", n); return; }
        var h = MemoryMarshal.Read<WireHeader>(_rx);
        if (h.magic != Wire.Magic) { Bad(Libc.EPROTO, "bad magic {Magic:x8}", h.magic); return; }
        if (h.size != (uint)n) { Bad(Libc.EPROTO, "header says {Size} bytes, frame has {Bytes}", h.size, n); return; }
        var type = (MsgType)h.type;
        if (_session is null && type != MsgType.Hello)
        {
            Bad(Libc.EPROTO, "{Type} before HELLO", type);
            Abort();
            return;
        }
        switch (type)
        {
            case MsgType.Hello: Hello(n, h); break;
            case MsgType.OpenDevice: OpenDevice(n); break;
            case MsgType.Ioctl: Ioctl(n); break;
            case MsgType.Kick: Kick(n); break;
            case MsgType.Close: CloseObject(n); break;
            default: Bad(Libc.EPROTO, "unexpected frame type {Type}", type); break;
        }
    }

    private void Hello(int n, WireHeader h)
    {
        if (n != sizeof(WireHello)) { Bad(Libc.EPROTO, "HELLO of {Bytes} bytes", n); Abort(); return; }
        if (_session is not null) { Bad(Libc.EPROTO, "second HELLO"); return; }
        var hello = MemoryMarshal.Read<WireHello>(_rx);
        int error = 0;
        ShimSession? session = null;
        if (hello.version != Wire.Version) error = Libc.EPROTO;
        else if (hello.pid != (uint)_peer.Pid) error = Libc.EPERM;
        else if ((h.flags & Wire.HelloNewSession) != 0) session = _server.CreateSession(hello.token, _peer.Pid, out error);
        else session = _server.JoinSession(hello.token, _peer.Pid, out error);

        var reply = new WireHelloReply { error = error, version = Wire.Version };
        reply.hdr = Header(MsgType.HelloReply, sizeof(WireHelloReply));
        Send(ref reply);
        if (error != 0 || session is null)
        {
            Log.Warning("shim connection of {Pid}: HELLO refused, errno {Errno}", _peer.Pid, error);
            Abort();
            return;
        }
        _session = session;
    }

    private void OpenDevice(int n)
    {
        if (n != sizeof(WireOpenDevice)) { Bad(Libc.EINVAL, "OPEN_DEVICE of {Bytes} bytes", n); return; }
        var system = _server.SystemFactory(_session!.Owner);
        uint handle = _session.Add(system);
        _server.OnCreated(null, system, _session.Owner);
        var reply = new WireOpenReply { handle = handle };
        reply.hdr = Header(MsgType.OpenReply, sizeof(WireOpenReply));
        Send(ref reply);
        Log.Debug("VMM {Pid} opened the KVM device: handle {Handle}", _session.Pid, handle);
    }

    private void Kick(int n)
    {
        if (n != sizeof(WireKick)) { BadNoReply(Libc.EINVAL, "KICK of {Bytes} bytes", n); return; }
        var k = MemoryMarshal.Read<WireKick>(_rx);
        var obj = _session!.Get(k.handle);
        if (obj is null) { BadNoReply(Libc.EBADF, "KICK for unknown handle {Handle}", k.handle); return; }
        obj.Kick();
    }

    private void CloseObject(int n)
    {
        if (n != sizeof(WireClose)) { BadNoReply(Libc.EINVAL, "CLOSE of {Bytes} bytes", n); return; }
        var c = MemoryMarshal.Read<WireClose>(_rx);
        var obj = _session!.Remove(c.handle);
        if (obj is null) { BadNoReply(Libc.EBADF, "CLOSE for unknown handle {Handle}", c.handle); return; }
        try { obj.Release(); }
        catch (Exception e) { Log.Error(e, "VMM {Pid}: releasing {Kind} {Id} failed", _session.Pid, obj.Kind, obj.Id); }
        _server.OnReleased(obj);
    }

    private void Ioctl(int n)
    {
        if (n < sizeof(WireIoctl)) { Bad(Libc.EINVAL, "IOCTL of {Bytes} bytes", n); return; }
        var q = MemoryMarshal.Read<WireIoctl>(_rx);
        if (q.data_len != (uint)(n - sizeof(WireIoctl))) { Bad(Libc.EINVAL, "IOCTL data_len {Len} but {Bytes} bytes follow", q.data_len, n - sizeof(WireIoctl)); return; }
        uint dir = q.cmd >> 30, size = (q.cmd >> 16) & 0x3fff;
        bool write = (dir & 1) != 0, read = (dir & 2) != 0;
        if (q.data_len != (write ? size : 0)) { Bad(Libc.EINVAL, "IOCTL {Cmd:x8} carries {Len} bytes, its _IOC size says {Size}", q.cmd, q.data_len, write ? size : 0); return; }
        var obj = _session!.Get(q.handle);
        if (obj is null) { Bad(Libc.EBADF, "IOCTL {Cmd:x8} on unknown handle {Handle}", q.cmd, q.handle); return; }

        var data = dir != 0 ? new byte[size] : [];
        if (write) _rx.AsSpan(sizeof(WireIoctl), (int)size).CopyTo(data);
        byte[] dataIn = write && KvmTrace.Enabled ? (byte[])data.Clone() : [];

        var call = new IoctlCall(q.cmd, q.arg, data, this);
        _copies = KvmTrace.Enabled ? [] : null;
        var clock = Stopwatch.StartNew();
        IoctlResult result;
        _ioctlThread = Environment.CurrentManagedThreadId;
        Running = obj;
        bool watched = q.cmd == KVM_RUN && _server.WatchHangup(this);
        try
        {
            result = obj.Ioctl(call);
        }
        catch (Exception e)
        {
            Log.Error(e, "{Kind} {Id}: ioctl {Cmd:x8} threw; answering EINVAL", obj.Kind, obj.Id, q.cmd);
            result = IoctlResult.Error(Libc.EINVAL);
        }
        finally
        {
            if (watched) _server.UnwatchHangup(this);
            Running = null;
            _ioctlThread = 0;
        }
        long micros = clock.ElapsedTicks * 1_000_000 / Stopwatch.Frequency;

        long value = result.Value;
        ushort flags = 0;
        uint newHandle = 0;
        int attach = -1;
        var newObject = result.IsError ? null : result.NewObject;
        if (newObject is not null)
        {
            newHandle = _session.Add(newObject);
            flags = Wire.ReplyNewObject;
            if (newObject.BackingFd is int backing && backing >= 0)
            {
                attach = backing;
                flags |= Wire.ReplyFdAttached;
            }
        }
        bool copyOut = read && !result.IsError;
        int outLen = copyOut ? data.Length : 0;
        if (_broken)
        {
            // The VMM vanished during the call: nobody will get the new fd.
            Discard(newHandle, newObject);
            return;
        }
        var reply = new WireIoctlReply
        {
            result = value,
            new_handle = newHandle,
            new_fd_offset = result.NewFdOffset,
            data_len = (uint)outLen,
        };
        reply.hdr = Header(MsgType.IoctlReply, sizeof(WireIoctlReply) + outLen, flags);
        MemoryMarshal.Write(_tx, in reply);
        if (outLen > 0) data.AsSpan(0, outLen).CopyTo(_tx.AsSpan(sizeof(WireIoctlReply)));
        if (SeqPacket.Send(_fd, _tx.AsSpan(0, sizeof(WireIoctlReply) + outLen), attach) < 0)
        {
            Discard(newHandle, newObject);
            Abort();
            return;
        }

        if (newObject is not null)
        {
            // The shim answers with the fd number the VMM got (or why it could not make one).
            if (!ReceiveReply(MsgType.UserStatus, sizeof(WireUserStatus), out _))
            {
                Discard(newHandle, newObject);
                return;
            }
            var ack = MemoryMarshal.Read<WireUserStatus>(_rx);
            if (ack.error != 0)
            {
                Discard(newHandle, newObject);
                value = -ack.error;
            }
            else
            {
                _server.OnCreated(obj, newObject, _session.Owner);
                if (result.NewFdOffset < 0) value = (long)ack.value;
                else if (result.NewFdOffset + 4 <= data.Length) BitConverter.TryWriteBytes(data.AsSpan(result.NewFdOffset), (int)ack.value);
            }
        }

        if (KvmTrace.Enabled)
        {
            KvmTrace.Publish(new IoctlTraceEvent
            {
                Time = DateTimeOffset.UtcNow,
                Pid = _session.Pid,
                ObjectKind = obj.Kind,
                ObjectId = obj.Id,
                Command = q.cmd,
                Argument = q.arg,
                DataIn = dataIn,
                DataOut = copyOut && value >= 0 ? data : [],
                UserCopies = _copies ?? [],
                Result = value,
                Run = q.cmd == KVM_RUN ? SafeRunState(obj) : null,
                DurationMicros = micros,
            });
        }
        _copies = null;
    }

    private static byte[]? SafeRunState(KvmObject obj)
    {
        try { return obj.TraceRunState(); }
        catch (Exception e) { Log.Debug(e, "{Kind} {Id}: TraceRunState failed", obj.Kind, obj.Id); return null; }
    }

    private void Discard(uint handle, KvmObject? obj)
    {
        if (obj is null) return;
        _session!.Remove(handle);
        try { obj.Release(); }
        catch (Exception e) { Log.Error(e, "releasing an undelivered {Kind} failed", obj.Kind); }
    }

    // ---- callbacks into the VMM (IUserAccess) ---------------------------------------------

    private bool InCall => _ioctlThread == Environment.CurrentManagedThreadId && !_broken;

    public int CopyFromUser(ulong address, Span<byte> destination)
    {
        if (!InCall) return -Libc.EFAULT;
        int done = 0;
        while (done < destination.Length)
        {
            int chunk = Math.Min(Wire.MaxData, destination.Length - done);
            var q = new WireCopyFromUser { addr = address + (ulong)done, len = (ulong)chunk };
            q.hdr = Header(MsgType.CopyFromUser, sizeof(WireCopyFromUser));
            if (!Send(ref q) || !ReceiveReply(MsgType.UserData, sizeof(WireUserData), out int n)) return -Libc.EFAULT;
            var r = MemoryMarshal.Read<WireUserData>(_rx);
            if (r.error != 0) return -Libc.EFAULT;
            if (r.len != (uint)chunk || n != sizeof(WireUserData) + chunk)
            {
                BadNoReply(Libc.EPROTO, "USER_DATA of {Len} bytes for a {Chunk}-byte copy", r.len, chunk);
                Abort();
                return -Libc.EFAULT;
            }
            _rx.AsSpan(sizeof(WireUserData), chunk).CopyTo(destination[done..]);
            done += chunk;
        }
        _copies?.Add(new UserCopy(address, true, destination.ToArray()));
        return 0;
    }

    public int CopyToUser(ulong address, ReadOnlySpan<byte> source)
    {
        if (!InCall) return -Libc.EFAULT;
        int done = 0;
        while (done < source.Length || (source.Length == 0 && done == 0))
        {
            int chunk = Math.Min(Wire.MaxData, source.Length - done);
            var q = new WireCopyToUser { addr = address + (ulong)done, len = (ulong)chunk };
            q.hdr = Header(MsgType.CopyToUser, sizeof(WireCopyToUser) + chunk);
            MemoryMarshal.Write(_tx, in q);
            source.Slice(done, chunk).CopyTo(_tx.AsSpan(sizeof(WireCopyToUser)));
            if (SeqPacket.Send(_fd, _tx.AsSpan(0, sizeof(WireCopyToUser) + chunk)) < 0) { Abort(); return -Libc.EFAULT; }
            if (!ReceiveReply(MsgType.UserStatus, sizeof(WireUserStatus), out _)) return -Libc.EFAULT;
            if (MemoryMarshal.Read<WireUserStatus>(_rx).error != 0) return -Libc.EFAULT;
            done += chunk;
            if (source.Length == 0) break;
        }
        _copies?.Add(new UserCopy(address, false, source.ToArray()));
        return 0;
    }

    public int GetFile(int vmmFd)
    {
        if (!InCall) return -Libc.EBADF;
        var q = new WireGetFile { fd = vmmFd };
        q.hdr = Header(MsgType.GetFile, sizeof(WireGetFile));
        if (!Send(ref q) || !ReceiveReply(MsgType.UserStatus, sizeof(WireUserStatus), out _, out int fd)) return -Libc.EBADF;
        var r = MemoryMarshal.Read<WireUserStatus>(_rx);
        if (r.error != 0 || fd < 0)
        {
            if (fd >= 0) Libc.close(fd);
            return -(r.error != 0 ? r.error : Libc.EBADF);
        }
        return fd;
    }

    public int ShareMemory(ulong address, ulong size, out SharedMemory? memory)
    {
        memory = null;
        if (!InCall) return -Libc.EFAULT;
        if (size == 0 || (address & 0xfff) != 0 || (size & 0xfff) != 0 || address + size < address) return -Libc.EINVAL;
        var q = new WireShareMemory { addr = address, size = size };
        q.hdr = Header(MsgType.ShareMemory, sizeof(WireShareMemory));
        if (!Send(ref q) || !ReceiveReply(MsgType.UserStatus, sizeof(WireUserStatus), out _, out int fd)) return -Libc.EFAULT;
        var r = MemoryMarshal.Read<WireUserStatus>(_rx);
        if (r.error != 0)
        {
            if (fd >= 0) Libc.close(fd);
            return -r.error;
        }
        if (fd < 0)
        {
            // The shim sent its memfd but none arrived: the kernel drops SCM_RIGHTS fds when the
            // receiver is at its fd limit. The region is unusable for us; never fatal.
            Log.Warning("VMM {Pid}: guest memory {Address:x}+{Size:x}: the memfd did not arrive (daemon out of fds?)", _session!.Pid, address, size);
            return -Libc.ENOMEM;
        }
        // Map, then close at once: the mapping keeps the memory, and a daemon holding one fd per
        // memslot would run out of fds long before KVM's 32767 slots.
        nint p = Libc.mmap(0, (nuint)size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, (long)r.value);
        int mapErrno = p == -1 ? Libc.Errno : 0;
        Libc.close(fd);
        if (p == -1)
        {
            Log.Warning("VMM {Pid}: mapping shared memory {Address:x}+{Size:x} failed, errno {Errno}", _session!.Pid, address, size, mapErrno);
            return -mapErrno;
        }
        var session = _session!;
        memory = new SharedMemory(-1, p, size, m =>
        {
            Libc.munmap(m.HostPointer, (nuint)m.Size);
            session.UntrackMemory(m);
        });
        if (!session.TrackMemory(memory))
        {
            memory.Dispose();
            memory = null;
            return -Libc.EFAULT;
        }
        Log.Debug("VMM {Pid}: guest memory {Address:x}+{Size:x} shared", session.Pid, address, size);
        return 0;
    }

    // ---- frames --------------------------------------------------------------------------

    private static WireHeader Header(MsgType type, int size, ushort flags = 0) =>
        new() { magic = Wire.Magic, type = (ushort)type, flags = flags, size = (uint)size };

    private bool Send<T>(ref T frame) where T : unmanaged
    {
        if (SeqPacket.Send(_fd, MemoryMarshal.AsBytes(new Span<T>(ref frame))) == 0) return true;
        Abort();
        return false;
    }

    private bool ReceiveReply(MsgType expected, int minimum, out int n) => ReceiveReply(expected, minimum, out n, out _, keepFd: false);

    private bool ReceiveReply(MsgType expected, int minimum, out int n, out int fd) => ReceiveReply(expected, minimum, out n, out fd, keepFd: true);

    /// <summary>Waits for the shim's answer to a callback. Anything else breaks the connection:
    /// the shim is strictly request/reply, so a stray frame means we no longer agree on the state.</summary>
    private bool ReceiveReply(MsgType expected, int minimum, out int n, out int fd, bool keepFd)
    {
        n = SeqPacket.Receive(_fd, _rx, out fd, out bool truncated);
        if (!keepFd && fd >= 0) { Libc.close(fd); fd = -1; }
        if (n <= 0) { Abort(); return false; }
        var h = n >= sizeof(WireHeader) ? MemoryMarshal.Read<WireHeader>(_rx) : default;
        if (truncated || n < minimum || h.magic != Wire.Magic || h.type != (ushort)expected || h.size != (uint)n)
        {
            if (fd >= 0) { Libc.close(fd); fd = -1; }
            BadNoReply(Libc.EPROTO, "expected {Expected}, got {Bytes} bytes of type {Type}", expected, n, (MsgType)h.type);
            Abort();
            return false;
        }
        return true;
    }

    /// <summary>A frame we cannot accept: a log line, an ERROR_REPLY when the frame expects an answer,
    /// and the connection closed if the client keeps doing it.</summary>
    private void Bad(int errno, string why, params object?[] args) => ProtocolError(errno, true, why, args);

    /// <summary>The same for one-way frames (KICK, CLOSE) and broken callbacks: no reply.</summary>
    private void BadNoReply(int errno, string why, params object?[] args) => ProtocolError(errno, false, why, args);

    private void ProtocolError(int errno, bool reply, string why, object?[] args)
    {
        Log.ForContext("Pid", _peer.Pid).ForContext("Errno", errno)
           .Warning("shim connection of {Pid}: " + why, [_peer.Pid, .. args]);
        if (reply && !_broken)
        {
            var r = new WireErrorReply { error = errno };
            r.hdr = Header(MsgType.ErrorReply, sizeof(WireErrorReply));
            Send(ref r);
        }
        if (++_protocolErrors > MaxProtocolErrors)
        {
            Log.Warning("shim connection of {Pid}: too many bad frames, closing it", _peer.Pid);
            Abort();
        }
    }

}
