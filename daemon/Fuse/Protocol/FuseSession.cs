using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Kvmfs.Fuse.Native;
using Serilog;

namespace Kvmfs.Fuse.Protocol;

/// <summary>What a file system built on <see cref="FuseSession"/> implements: every request except
/// INIT, INTERRUPT and DESTROY reaches <see cref="Handle"/>, which answers it now or later.</summary>
public interface IFuseHandler
{
    /// <summary>Answers (or arranges to answer) <paramref name="request"/>. FORGET and BATCH_FORGET
    /// take no answer. Unknown opcodes: ENOSYS. Runs on a worker thread: must not block.</summary>
    void Handle(FuseRequest request);

    /// <summary>The kernel let go of the file system (DESTROY, or the connection ended).</summary>
    void Destroyed();
}

/// <summary>
/// The kernel side of one FUSE mount: the /dev/fuse descriptor, the mount itself, and a few worker
/// threads that read requests and hand them to an <see cref="IFuseHandler"/>. Implements the parts
/// of the protocol that are not about files: INIT and version negotiation, INTERRUPT, DESTROY,
/// replies and poll notifications.
/// </summary>
public sealed unsafe class FuseSession : IDisposable
{
    private const int BufferSize = 256 * 1024;

    private readonly IFuseHandler _handler;
    private readonly int _fuseFd;
    private readonly int _stopFd;
    private readonly Thread[] _workers;
    private readonly ConcurrentDictionary<ulong, FuseRequest> _interruptible = new();
    private int _stopped;
    private int _destroyed;
    private readonly ManualResetEventSlim _initialized = new();
    // Replies may come from any thread (a stream read answered when data arrives); closing the
    // descriptor waits for writes in flight so a reply never lands on a reused fd number.
    private readonly ReaderWriterLockSlim _fdGate = new();
    private bool _closed;

    /// <summary>The directory this session is mounted on.</summary>
    public string MountPoint { get; }

    /// <summary>The protocol version both sides agreed on at INIT (7.x), 0 before INIT.</summary>
    public uint NegotiatedMinor { get; private set; }

    /// <summary>The kernel's own version, as it announced at INIT.</summary>
    public (uint Major, uint Minor) KernelVersion { get; private set; }

    private FuseSession(IFuseHandler handler, string mountPoint, int fuseFd, int stopFd, int workerCount)
    {
        _handler = handler;
        MountPoint = mountPoint;
        _fuseFd = fuseFd;
        _stopFd = stopFd;
        _workers = new Thread[workerCount];
    }

    /// <summary>
    /// Mounts a FUSE file system of type "fuse.<paramref name="subtype"/>" on
    /// <paramref name="mountPoint"/> and starts serving it. A stale mount left there by a crashed
    /// server (stat fails with ENOTCONN) is detached first. Throws <see cref="IOException"/> with
    /// the errno text if /dev/fuse or mount(2) fails.
    /// </summary>
    public static FuseSession Mount(IFuseHandler handler, string mountPoint, string subtype, int workerCount = 4)
    {
        mountPoint = Path.GetFullPath(mountPoint);
        CleanStaleMount(mountPoint);
        Directory.CreateDirectory(mountPoint);

        int fd = LibC.Open("/dev/fuse", LibC.O_RDWR | LibC.O_CLOEXEC | LibC.O_NONBLOCK);
        if (fd < 0) throw Error("open /dev/fuse", LibC.Errno);
        int stopFd = LibC.EventFd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK);
        if (stopFd < 0) { int e = LibC.Errno; LibC.Close(fd); throw Error("eventfd", e); }

        // rootmode is the root's file type in octal; allow_other lets every user look (as /dev/kvm
        // is world-usable); default_permissions makes the kernel check our mode bits itself.
        string data = $"fd={fd},rootmode=40000,user_id={LibC.GetUid()},group_id={LibC.GetGid()},allow_other,default_permissions";
        if (LibC.Mount(subtype, mountPoint, "fuse." + subtype, LibC.MS_NOSUID | LibC.MS_NODEV, data) != 0)
        {
            int e = LibC.Errno;
            LibC.Close(fd); LibC.Close(stopFd);
            throw Error($"mount {mountPoint}", e);
        }

        var session = new FuseSession(handler, mountPoint, fd, stopFd, Math.Max(1, workerCount));
        session.Start();
        Log.Information("fuse: mounted fuse.{Subtype} on {MountPoint}", subtype, mountPoint);
        return session;
    }

    /// <summary>Detaches a mount on <paramref name="mountPoint"/> whose server is gone (ENOTCONN).</summary>
    public static bool CleanStaleMount(string mountPoint)
    {
        int rc = LibC.Stat(mountPoint);
        if (rc != -LibC.ENOTCONN) return false;
        Log.Warning("fuse: {MountPoint} is a stale FUSE mount (its server died); detaching it", mountPoint);
        if (LibC.Umount2(mountPoint, LibC.MNT_DETACH) != 0)
            throw Error($"umount2 {mountPoint}", LibC.Errno);
        return true;
    }

    /// <summary>Waits until the kernel's INIT has been answered (for tests and start-up logs).</summary>
    public bool WaitInitialized(TimeSpan timeout) => _initialized.Wait(timeout);

    private void Start()
    {
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"fuse-worker-{i}" };
            _workers[i].Start();
        }
    }

    private void WorkerLoop()
    {
        // Pinned so read(2) can fill it directly.
        byte[] buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var fds = stackalloc LibC.PollFd[2];
        while (Volatile.Read(ref _stopped) == 0)
        {
            fds[0] = new LibC.PollFd { Fd = _fuseFd, Events = LibC.POLLIN };
            fds[1] = new LibC.PollFd { Fd = _stopFd, Events = LibC.POLLIN };
            if (LibC.Poll(fds, 2, -1) < 0)
            {
                if (LibC.Errno == LibC.EINTR) continue;
                Log.Error("fuse: poll failed: {Error}", LibC.StrError(LibC.Errno));
                break;
            }
            if (fds[1].Revents != 0) break;

            nint n;
            fixed (byte* p = buffer) n = LibC.Read(_fuseFd, p, (nuint)buffer.Length);
            if (n < 0)
            {
                int errno = LibC.Errno;
                if (errno == LibC.EAGAIN || errno == LibC.EINTR || errno == LibC.ENOENT) continue;
                if (errno == LibC.ENODEV || errno == LibC.ECONNABORTED)
                {
                    // The file system was unmounted and released, or the connection was aborted.
                    EndSession();
                    break;
                }
                Log.Error("fuse: read /dev/fuse failed: {Error}", LibC.StrError(errno));
                EndSession();
                break;
            }
            if (n < sizeof(FuseInHeader)) continue;
            try
            {
                Dispatch(buffer.AsSpan(0, (int)n));
            }
            catch (Exception e)
            {
                // A bug in one handler must not take the file system down.
                Log.Error(e, "fuse: request handler failed");
            }
        }
    }

    private void Dispatch(ReadOnlySpan<byte> message)
    {
        var header = MemoryMarshal.Read<FuseInHeader>(message);
        int bodyEnd = (int)Math.Min(header.Len, (uint)message.Length);
        int extLen = header.TotalExtLen * 8;
        int bodyLen = Math.Max(0, bodyEnd - sizeof(FuseInHeader) - extLen);
        var request = new FuseRequest(this, header, message.Slice(sizeof(FuseInHeader), bodyLen).ToArray());

        switch (request.Opcode)
        {
            case FuseOpcode.Init:
                HandleInit(request);
                return;
            case FuseOpcode.Interrupt:
                HandleInterrupt(request);
                return;
            case FuseOpcode.Destroy:
                request.ReplyEmpty();
                EndSession();
                return;
        }
        _handler.Handle(request);
    }

    private void HandleInit(FuseRequest request)
    {
        var init = request.Read<FuseInitIn>();
        KernelVersion = (init.Major, init.Minor);
        if (init.Major < FuseConst.KernelVersion)
        {
            Log.Error("fuse: kernel speaks FUSE {Major}.{Minor}, too old", init.Major, init.Minor);
            request.ReplyError(LibC.EPROTO);
            return;
        }
        if (init.Major > FuseConst.KernelVersion)
        {
            // A newer major: answer with ours only; the kernel then sends INIT again in our major.
            var only = new FuseInitOut { Major = FuseConst.KernelVersion, Minor = FuseConst.KernelMinorVersion };
            request.Reply(MemoryMarshal.AsBytes(new ReadOnlySpan<FuseInitOut>(in only))[..8]);
            return;
        }

        uint minor = Math.Min(init.Minor, FuseConst.KernelMinorVersion);
        // Only what we use: parallel reads and lookups. No READDIRPLUS: entries are cheap to look up.
        uint wanted = FuseConst.AsyncRead | FuseConst.ParallelDirops | FuseConst.MaxPages;
        var reply = new FuseInitOut
        {
            Major = FuseConst.KernelVersion,
            Minor = minor,
            MaxReadahead = init.MaxReadahead,
            Flags = init.Flags & wanted,
            MaxBackground = 16,
            CongestionThreshold = 12,
            MaxWrite = 4096,
            TimeGran = 1,
            MaxPages = 32,
        };
        var bytes = MemoryMarshal.AsBytes(new ReadOnlySpan<FuseInitOut>(in reply));
        request.Reply(minor < FuseConst.MinorWithFullInitOut ? bytes[..FuseConst.CompatInitOutSize] : bytes);
        NegotiatedMinor = minor;
        Log.Information("fuse: INIT kernel {Major}.{KernelMinor}, speaking 7.{Minor}, flags {Flags:x}",
            init.Major, init.Minor, minor, reply.Flags);
        _initialized.Set();
    }

    private void HandleInterrupt(FuseRequest request)
    {
        ulong target = request.Read<FuseInterruptIn>().Unique;
        if (_interruptible.TryGetValue(target, out var original) && original.RunInterrupt())
            return; // the original answers (EINTR); an INTERRUPT itself takes no answer
        if (_interruptible.ContainsKey(target)) return;
        // Not (yet) known here: another worker may not have registered it. EAGAIN makes the kernel
        // queue the interrupt again, unless the original has been answered meanwhile.
        WriteReply(request.Unique | FuseConst.IntReqBit, -LibC.EAGAIN, []);
    }

    internal void RegisterInterruptible(FuseRequest request) => _interruptible[request.Unique] = request;

    internal void UnregisterInterruptible(FuseRequest request) => _interruptible.TryRemove(request.Unique, out _);

    /// <summary>Tells the kernel that the file behind poll handle <paramref name="kh"/> is ready,
    /// so it polls again (FUSE_NOTIFY_POLL).</summary>
    public void NotifyPoll(ulong kh)
    {
        var wake = new FuseNotifyPollWakeupOut { Kh = kh };
        WriteReply(0, (int)FuseNotifyCode.Poll, MemoryMarshal.AsBytes(new ReadOnlySpan<FuseNotifyPollWakeupOut>(in wake)));
    }

    internal void WriteReply(ulong unique, int error, ReadOnlySpan<byte> payload)
    {
        _fdGate.EnterReadLock();
        try
        {
            if (!_closed) WriteLocked(unique, error, payload);
        }
        finally { _fdGate.ExitReadLock(); }
    }

    private void WriteLocked(ulong unique, int error, ReadOnlySpan<byte> payload)
    {
        int total = sizeof(FuseOutHeader) + payload.Length;
        byte[]? rented = total > 4096 ? System.Buffers.ArrayPool<byte>.Shared.Rent(total) : null;
        Span<byte> message = rented ?? stackalloc byte[total];
        var header = new FuseOutHeader { Len = (uint)total, Error = error, Unique = unique };
        MemoryMarshal.Write(message, in header);
        payload.CopyTo(message[sizeof(FuseOutHeader)..]);
        nint n;
        fixed (byte* p = message) n = LibC.Write(_fuseFd, p, (nuint)total);
        if (rented != null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        if (n < 0)
        {
            int errno = LibC.Errno;
            // ENOENT: the request was interrupted and finished meanwhile; ENODEV: unmounted. Both normal.
            if (errno != LibC.ENOENT && errno != LibC.ENODEV)
                Log.Warning("fuse: reply to {Unique} failed: {Error}", unique, LibC.StrError(errno));
        }
    }

    private void EndSession()
    {
        if (Interlocked.Exchange(ref _destroyed, 1) != 0) return;
        WakeWorkers();
        try { _handler.Destroyed(); } catch (Exception e) { Log.Error(e, "fuse: destroy handler failed"); }
    }

    private void WakeWorkers()
    {
        Volatile.Write(ref _stopped, 1);
        ulong one = 1;
        LibC.Write(_stopFd, (byte*)&one, 8);
    }

    /// <summary>
    /// Unmounts (lazily, MNT_DETACH: files still open elsewhere keep working until closed, then
    /// fail), stops the workers and closes /dev/fuse, which aborts whatever the kernel still waits for.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _stopped, 2) == 2) return;
        if (LibC.Umount2(MountPoint, LibC.MNT_DETACH) != 0)
        {
            int errno = LibC.Errno;
            if (errno != LibC.EINVAL && errno != LibC.ENOENT)
                Log.Warning("fuse: umount {MountPoint} failed: {Error}", MountPoint, LibC.StrError(errno));
        }
        ulong one = 1;
        LibC.Write(_stopFd, (byte*)&one, 8);
        foreach (var t in _workers)
            if (t != null && t != Thread.CurrentThread) t.Join(TimeSpan.FromSeconds(5));
        EndSession();
        _fdGate.EnterWriteLock();
        _closed = true;
        _fdGate.ExitWriteLock();
        LibC.Close(_fuseFd);
        LibC.Close(_stopFd);
        Log.Information("fuse: unmounted {MountPoint}", MountPoint);
    }

    private static IOException Error(string what, int errno) =>
        new($"{what}: {LibC.StrError(errno)} (errno {errno})");
}
