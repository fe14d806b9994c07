using Kvmfs.Daemon.Native;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Wire;
using Serilog;

namespace Kvmfs.Daemon.Shim;

/// <summary>
/// The daemon's end of the preload shim: a SOCK_SEQPACKET Unix socket, one thread per
/// connection, one <see cref="ShimSession"/> per VMM process. Peers must have our uid or be root
/// (SO_PEERCRED, checked on every connection). See docs/shim.md.
/// </summary>
public sealed unsafe class ShimServer : IDisposable
{
    private readonly object _gate = new();
    private readonly Dictionary<ulong, ShimSession> _sessions = new();
    private readonly HashSet<ShimConnection> _connections = new();
    private readonly List<ShimConnection> _watched = new();
    private readonly uint _uid = Libc.geteuid();
    private int _listen = -1;
    private Thread? _acceptThread, _hangupThread;
    private volatile bool _stopping;

    /// <param name="socketPath">Where to listen.</param>
    /// <param name="systemFactory">The object behind each open of the KVM device; the real
    /// <see cref="Kvmfs.Kvm.KvmSystem"/> unless a test substitutes its own.</param>
    public ShimServer(string socketPath, Func<VmOwner, KvmObject>? systemFactory = null)
    {
        SocketPath = socketPath;
        SystemFactory = systemFactory ?? (owner => new Kvmfs.Kvm.KvmSystem(owner));
    }

    public string SocketPath { get; }

    internal Func<VmOwner, KvmObject> SystemFactory { get; }

    /// <summary>A VM, vCPU or device was created (parent null for a system object); for the FUSE view.</summary>
    public Action<KvmObject?, KvmObject, VmOwner>? ObjectCreated { get; set; }

    /// <summary>An object was released (last fd closed); for the FUSE view.</summary>
    public Action<KvmObject>? ObjectReleased { get; set; }

    /// <summary>The VMM processes connected now.</summary>
    public IReadOnlyList<ShimSession> Sessions
    {
        get { lock (_gate) return _sessions.Values.Where(s => !s.IsClosed).ToArray(); }
    }

    /// <summary>The socket's default path: $KVMFS_SOCKET, else /run/kvmfs/kvmfs.sock.</summary>
    public static string DefaultSocketPath =>
        Environment.GetEnvironmentVariable("KVMFS_SOCKET") is { Length: > 0 } s ? s : Wire.DefaultSocket;

    /// <summary>Whether a daemon answers on <paramref name="path"/>.</summary>
    public static bool IsAnswering(string path)
    {
        int s = SeqPacket.Connect(path);
        if (s < 0) return false;
        SeqPacket.Close(s);
        return true;
    }

    /// <summary>Binds the socket (making its directory) and starts accepting.</summary>
    public void Start()
    {
        string? dir = Path.GetDirectoryName(SocketPath);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        if (Path.Exists(SocketPath))
        {
            if (IsAnswering(SocketPath)) throw new IOException($"another kvmfs daemon answers on {SocketPath}");
            File.Delete(SocketPath);   // left behind by a daemon that died
        }
        int s = Libc.socket(Libc.AF_UNIX, Libc.SOCK_SEQPACKET | Libc.SOCK_CLOEXEC, 0);
        if (s < 0) throw new IOException($"socket: errno {Libc.Errno}");
        var a = Libc.Address(SocketPath, out uint len);
        if (Libc.bind(s, &a, len) < 0 || Libc.listen(s, 64) < 0)
        {
            int e = Libc.Errno;
            Libc.close(s);
            throw new IOException($"cannot listen on {SocketPath}: errno {e}");
        }
        // Anyone may connect; the credential check decides who is served.
        Libc.chmod(SocketPath, 0x1b6 /* 0666 */);
        _listen = s;
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "kvmfs-accept" };
        _acceptThread.Start();
        _hangupThread = new Thread(HangupLoop) { IsBackground = true, Name = "kvmfs-hangup" };
        _hangupThread.Start();
        Log.Information("kvmfs daemon listening on {Socket}", SocketPath);
    }

    private void AcceptLoop()
    {
        while (!_stopping)
        {
            int c = Libc.accept4(_listen, null, null, Libc.SOCK_CLOEXEC);
            if (c < 0)
            {
                int e = Libc.Errno;
                if (_stopping) break;
                if (e == Libc.EINTR) continue;
                Log.Warning("accept on {Socket} failed, errno {Errno}", SocketPath, e);
                Thread.Sleep(50);
                continue;
            }
            Libc.UCred cred;
            uint clen = (uint)sizeof(Libc.UCred);
            if (Libc.getsockopt(c, Libc.SOL_SOCKET, Libc.SO_PEERCRED, &cred, &clen) < 0)
            {
                Log.Warning("shim connection without peer credentials, errno {Errno}: refused", Libc.Errno);
                Libc.close(c);
                continue;
            }
            if (cred.Uid != _uid && cred.Uid != 0)
            {
                Log.Warning("shim connection from pid {Pid} uid {Uid} refused: the daemon serves uid {Own} and root", cred.Pid, cred.Uid, _uid);
                Libc.close(c);
                continue;
            }
            var conn = new ShimConnection(this, c, cred);
            lock (_gate)
            {
                if (_stopping) { Libc.close(c); break; }
                _connections.Add(conn);
            }
            new Thread(conn.Run) { IsBackground = true, Name = $"kvmfs-shim-{cred.Pid}" }.Start();
        }
    }

    internal void Forget(ShimConnection conn)
    {
        lock (_gate) _connections.Remove(conn);
    }

    internal ShimSession? CreateSession(ulong token, int pid, out int error)
    {
        lock (_gate)
        {
            foreach (var (t, s) in _sessions.ToArray())
                if (s.IsClosed) _sessions.Remove(t);
            if (_sessions.ContainsKey(token)) { error = Libc.EEXIST; return null; }
            var session = new ShimSession(token, VmOwner.OfProcess(pid), OnReleased);
            session.Attach();
            _sessions[token] = session;
            error = 0;
            string shown = session.Owner.CommandLine;
            Log.Information("VMM {Pid} connected: {CommandLine}", pid, shown.Length > 300 ? shown[..300] + "..." : shown.Length == 0 ? "(unknown)" : shown);
            return session;
        }
    }

    internal ShimSession? JoinSession(ulong token, int pid, out int error)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(token, out var s) || !s.Attach()) { error = Libc.ESRCH; return null; }
            if (s.Pid != pid) { s.Detach(); error = Libc.EPERM; return null; }
            error = 0;
            return s;
        }
    }

    internal void OnCreated(KvmObject? parent, KvmObject created, VmOwner owner)
    {
        if (parent is null) return;
        try { ObjectCreated?.Invoke(parent, created, owner); }
        catch (Exception e) { Log.Warning(e, "object observer failed"); }
    }

    internal void OnReleased(KvmObject obj)
    {
        try { ObjectReleased?.Invoke(obj); }
        catch (Exception e) { Log.Warning(e, "object observer failed"); }
    }

    // ---- a VMM that dies inside KVM_RUN --------------------------------------------------
    // The connection's thread is inside the vCPU's KVM_RUN and does not read the socket, so it
    // cannot see the hangup itself. This thread polls the sockets of running calls and kicks the
    // vCPU when its VMM is gone; KVM_RUN returns, the connection closes, the session ends.

    internal bool WatchHangup(ShimConnection conn)
    {
        lock (_watched) _watched.Add(conn);
        return true;
    }

    internal void UnwatchHangup(ShimConnection conn)
    {
        lock (_watched) _watched.Remove(conn);
    }

    private void HangupLoop()
    {
        var fds = new Libc.PollFd[64];
        var conns = new ShimConnection[64];
        while (!_stopping)
        {
            int n;
            lock (_watched)
            {
                n = Math.Min(_watched.Count, fds.Length);
                for (int i = 0; i < n; i++)
                {
                    conns[i] = _watched[i];
                    fds[i] = new Libc.PollFd { Fd = conns[i].Fd, Events = Libc.POLLRDHUP };
                }
            }
            if (n == 0) { Thread.Sleep(100); continue; }
            int r;
            fixed (Libc.PollFd* p = fds) r = Libc.poll(p, (nuint)n, 100);
            if (r <= 0) continue;
            for (int i = 0; i < n; i++)
            {
                if ((fds[i].Revents & (Libc.POLLRDHUP | Libc.POLLHUP | Libc.POLLERR)) == 0) continue;
                var running = conns[i].Running;
                UnwatchHangup(conns[i]);
                Log.Information("VMM {Pid} hung up inside {Kind} {Id}'s KVM_RUN: kicking it", conns[i].PeerPid, running?.Kind, running?.Id);
                conns[i].Abort();
                running?.Kick();
            }
            Thread.Sleep(10);
        }
    }

    public void Dispose()
    {
        ShimConnection[] conns;
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            conns = _connections.ToArray();
        }
        if (_listen >= 0)
        {
            Libc.shutdown(_listen, Libc.SHUT_RDWR);
            Libc.close(_listen);
        }
        foreach (var c in conns)
        {
            c.Abort();
            c.Running?.Kick();
        }
        try { File.Delete(SocketPath); } catch { }
        Log.Information("kvmfs daemon on {Socket} stopped", SocketPath);
    }
}
