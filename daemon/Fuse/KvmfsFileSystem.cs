using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Kvmfs.Fuse.Native;
using Kvmfs.Fuse.Protocol;
using Kvmfs.Fuse.Trace;
using Kvmfs.Fuse.Tree;
using Kvmfs.Fuse.View;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Trace;
using Serilog;

namespace Kvmfs.Fuse;

/// <summary>Choices for <see cref="KvmfsFileSystem.Mount"/>.</summary>
public sealed record KvmfsOptions
{
    /// <summary>Threads reading /dev/fuse. Waiting reads and KVM_RUN do not occupy them.</summary>
    public int WorkerThreads { get; init; } = 4;

    /// <summary>Unmount when the process gets SIGTERM or exits normally.</summary>
    public bool UnmountOnExit { get; init; } = true;

    /// <summary>How trace events are rendered in the trace file (one line each, newline included); default: TraceFormatter.FormatText, the format of docs/trace-format.md.</summary>
    public Func<IoctlTraceEvent, string>? TraceFormat { get; init; }
}

/// <summary>
/// The kvmfs file system: a FUSE server (on /dev/fuse, no libfuse) showing the KVM device node,
/// every VM and vCPU, and the live trace. Start it with <see cref="Mount"/>; dispose to unmount.
/// </summary>
public sealed class KvmfsFileSystem : IFuseHandler, IDisposable
{
    public const string DefaultMountPoint = "/run/kvmfs/fs";

    private const ulong AttrTimeoutSeconds = 1;
    private const uint KVM_RUN = 0xAE80;

    private readonly IKvmView _view;
    private readonly DirectoryEntry _root;
    private readonly TraceStream _trace;
    private readonly Inodes _inodes = new();
    private readonly ConcurrentDictionary<ulong, OpenFile> _files = new();
    private readonly Dictionary<KvmObject, int> _held = new(ReferenceEqualityComparer.Instance);
    private readonly DateTimeOffset _mountTime = DateTimeOffset.UtcNow;
    private readonly uint _uid = LibC.GetUid(), _gid = LibC.GetGid();
    private long _nextFh;
    private FuseSession? _session;
    private PosixSignalRegistration? _sigterm;
    private int _disposed;
    private readonly ManualResetEventSlim _disposeDone = new();

    private KvmfsFileSystem(IKvmView view, KvmfsOptions options)
    {
        _view = view;
        _root = KvmfsTree.Root(view, view.OpenSystem);
        _trace = new TraceStream(KvmfsTree.TraceHeadline, options.TraceFormat ?? (e => TraceFormatter.FormatText(e) + "\n"), kh => _session?.NotifyPoll(kh));
    }

    /// <summary>Where it is mounted.</summary>
    public string MountPoint => _session!.MountPoint;

    /// <summary>The FUSE protocol version agreed with the kernel (7.x), once the kernel sent INIT.</summary>
    public uint ProtocolMinor => _session!.NegotiatedMinor;

    /// <summary>
    /// Mounts kvmfs on <paramref name="directory"/> (created if missing; a stale mount left by a
    /// crashed daemon is detached first) and serves it until disposed. <paramref name="view"/> is
    /// where VMs come from; without one, every live VM of the daemon (<see cref="HostKvmView"/>).
    /// Needs root (mount(2)) and /dev/fuse; throws <see cref="IOException"/> otherwise.
    /// </summary>
    public static KvmfsFileSystem Mount(string directory, IKvmView? view = null, KvmfsOptions? options = null)
    {
        options ??= new KvmfsOptions();
        var fs = new KvmfsFileSystem(view ?? new HostKvmView(), options);
        fs._session = FuseSession.Mount(fs, directory, "kvmfs", options.WorkerThreads);
        if (options.UnmountOnExit)
        {
            // Not cancelled: after unmounting, SIGTERM goes on to end the process as usual.
            fs._sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => fs.Dispose());
            AppDomain.CurrentDomain.ProcessExit += fs.OnProcessExit;
        }
        fs._session.WaitInitialized(TimeSpan.FromSeconds(5));
        return fs;
    }

    private void OnProcessExit(object? sender, EventArgs e) => Dispose();

    public void Dispose()
    {
        // SIGTERM reaches both our handler and the host program's, which then disposes too and
        // exits: the second caller waits until the first has unmounted and closed everything.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            _disposeDone.Wait(TimeSpan.FromSeconds(15));
            return;
        }
        try { DisposeOnce(); }
        finally { _disposeDone.Set(); }
    }

    private void DisposeOnce()
    {
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        _sigterm?.Dispose();
        _trace.Dispose();
        _session?.Dispose();
        // Whatever the kernel did not release (the connection ended first) is released here.
        foreach (var fh in _files.Keys) CloseFile(fh);
    }

    void IFuseHandler.Destroyed() => _trace.Dispose();

    // ---------------------------------------------------------------- requests

    void IFuseHandler.Handle(FuseRequest r)
    {
        switch (r.Opcode)
        {
            case FuseOpcode.Lookup: Lookup(r); break;
            case FuseOpcode.Forget: _inodes.Forget(r.NodeId, r.Read<FuseForgetIn>().Nlookup); break;
            case FuseOpcode.BatchForget: BatchForget(r); break;
            case FuseOpcode.Getattr: Getattr(r); break;
            case FuseOpcode.Open: Open(r); break;
            case FuseOpcode.Read: Read(r); break;
            case FuseOpcode.Flush: r.ReplyEmpty(); break;
            case FuseOpcode.Release: Release(r); break;
            case FuseOpcode.Opendir: Opendir(r); break;
            case FuseOpcode.Readdir: Readdir(r); break;
            case FuseOpcode.Releasedir: Release(r); break;
            case FuseOpcode.Ioctl: Ioctl(r); break;
            case FuseOpcode.Poll: Poll(r); break;
            case FuseOpcode.Statfs: Statfs(r); break;
            default: r.ReplyError(LibC.ENOSYS); break;
        }
    }

    private void Lookup(FuseRequest r)
    {
        string? parent = _inodes.PathOf(r.NodeId);
        string name = r.ReadName();
        if (parent == null) { r.ReplyError(LibC.ENOENT); return; }
        string path = parent.Length == 0 ? name : parent + "/" + name;
        var entry = Resolve(path);
        if (entry == null) { r.ReplyError(LibC.ENOENT); return; }
        ulong id = _inodes.Lookup(path);
        var reply = new FuseEntryOut
        {
            NodeId = id,
            EntryValid = AttrTimeoutSeconds,
            AttrValid = entry is TextEntry or TraceEntry ? 0 : AttrTimeoutSeconds,
            Attr = Attributes(id, entry),
        };
        r.Reply(in reply);
    }

    private void BatchForget(FuseRequest r)
    {
        var head = r.Read<FuseBatchForgetIn>();
        int size = Marshal.SizeOf<FuseForgetOne>();
        for (int i = 0; i < head.Count; i++)
        {
            int at = Marshal.SizeOf<FuseBatchForgetIn>() + i * size;
            if (at + size > r.Body.Length) break;
            var one = r.Read<FuseForgetOne>(at);
            _inodes.Forget(one.NodeId, one.Nlookup);
        }
    }

    private void Getattr(FuseRequest r)
    {
        var entry = ResolveNode(r.NodeId);
        if (entry == null) { r.ReplyError(LibC.ENOENT); return; }
        var reply = new FuseAttrOut
        {
            AttrValid = entry is TextEntry or TraceEntry ? 0 : AttrTimeoutSeconds,
            Attr = Attributes(r.NodeId, entry),
        };
        r.Reply(in reply);
    }

    private FuseAttr Attributes(ulong ino, Entry entry)
    {
        long now = _mountTime.ToUnixTimeSeconds();
        var a = new FuseAttr
        {
            Ino = ino, Nlink = 1, Uid = _uid, Gid = _gid, BlkSize = 4096,
            Atime = (ulong)now, Mtime = (ulong)now, Ctime = (ulong)now,
        };
        switch (entry)
        {
            case DirectoryEntry:
                a.Mode = FuseConst.S_IFDIR | 0x16D; // 0555
                a.Nlink = 2;
                break;
            case TextEntry text:
                a.Mode = FuseConst.S_IFREG | 0x124; // 0444
                a.Size = (ulong)Encoding.UTF8.GetByteCount(text.Render());
                break;
            case TraceEntry:
                a.Mode = FuseConst.S_IFREG | 0x124;
                a.Size = (ulong)_trace.Length;
                // tail -f on FUSE polls: it reads again when size or mtime moved.
                a.Mtime = (ulong)_trace.LastWrite.ToUnixTimeSeconds();
                a.MtimeNsec = (uint)(_trace.LastWrite.Ticks % TimeSpan.TicksPerSecond * 100);
                break;
            case IoctlEntry:
                a.Mode = FuseConst.S_IFREG | 0x1B6; // 0666, as udev makes /dev/kvm
                break;
        }
        a.Blocks = (a.Size + 511) / 512;
        return a;
    }

    private void Open(FuseRequest r)
    {
        var entry = ResolveNode(r.NodeId);
        if (entry == null) { r.ReplyError(LibC.ENOENT); return; }
        uint flags = r.Read<FuseOpenIn>().Flags;
        bool writes = (flags & 3) != LibC.O_RDONLY;
        OpenFile file;
        switch (entry)
        {
            case TextEntry text:
                if (writes) { r.ReplyError(13 /* EACCES */); return; }
                file = new TextFile(Encoding.UTF8.GetBytes(text.Render()));
                break;
            case TraceEntry:
                if (writes) { r.ReplyError(13); return; }
                file = new TraceFile(_trace.Open());
                break;
            case IoctlEntry node:
                var owner = Owner(r.Header.Pid);
                var obj = node.Open(owner);
                if (obj == null) { r.ReplyError(LibC.ENOENT); return; }
                if (!node.OwnsObject && !Hold(obj)) { /* not created through kvmfs: nothing to hold */ }
                file = new IoctlFile(obj, node.OwnsObject, owner, node.OwnerPid);
                break;
            default:
                r.ReplyError(LibC.EISDIR);
                return;
        }
        ulong fh = (ulong)Interlocked.Increment(ref _nextFh);
        _files[fh] = file;
        // Direct I/O: every read comes to us (the contents are live), sizes are only a hint.
        var reply = new FuseOpenOut { Fh = fh, OpenFlags = FuseConst.FopenDirectIo };
        r.Reply(in reply);
    }

    private void Read(FuseRequest r)
    {
        var read = r.Read<FuseReadIn>();
        if (!_files.TryGetValue(read.Fh, out var file)) { r.ReplyError(LibC.EBADF); return; }
        switch (file)
        {
            case TextFile text:
                long off = (long)Math.Min(read.Offset, (ulong)text.Content.Length);
                int n = (int)Math.Min(read.Size, text.Content.Length - off);
                r.Reply(text.Content.AsSpan((int)off, n));
                break;
            case TraceFile trace:
                _trace.Read(r, trace.Reader, (long)Math.Min(read.Offset, long.MaxValue), (int)Math.Min(read.Size, 1u << 20),
                    (read.Flags & LibC.O_NONBLOCK) != 0);
                break;
            default:
                r.ReplyError(LibC.EINVAL); // as read(2) on /dev/kvm
                break;
        }
    }

    private void Release(FuseRequest r)
    {
        CloseFile(r.Read<FuseReleaseIn>().Fh);
        r.ReplyEmpty();
    }

    private void CloseFile(ulong fh)
    {
        if (!_files.TryRemove(fh, out var file)) return;
        switch (file)
        {
            case TraceFile trace:
                _trace.Close(trace.Reader);
                break;
            case IoctlFile io:
                List<KvmObject> created;
                lock (io.Created) { created = [.. io.Created]; io.Created.Clear(); }
                foreach (var c in created) Unhold(c);
                if (io.Owns) ReleaseObject(io.Object);
                else Unhold(io.Object);
                break;
        }
    }

    private void Opendir(FuseRequest r)
    {
        string? path = _inodes.PathOf(r.NodeId);
        if (path == null || Resolve(path) is not DirectoryEntry dir) { r.ReplyError(LibC.ENOTDIR); return; }
        var entries = new List<(string Name, ulong Ino, uint Type)>
        {
            (".", r.NodeId, FuseConst.DT_DIR),
            ("..", path.Length == 0 ? FuseConst.RootId : _inodes.IdOf(ParentPath(path)), FuseConst.DT_DIR),
        };
        foreach (var e in dir.Children())
        {
            string childPath = path.Length == 0 ? e.Name : path + "/" + e.Name;
            entries.Add((e.Name, _inodes.IdOf(childPath), e is DirectoryEntry ? FuseConst.DT_DIR : FuseConst.DT_REG));
        }
        ulong fh = (ulong)Interlocked.Increment(ref _nextFh);
        _files[fh] = new DirFile(entries);
        var reply = new FuseOpenOut { Fh = fh };
        r.Reply(in reply);
    }

    private void Readdir(FuseRequest r)
    {
        var read = r.Read<FuseReadIn>();
        if (!_files.TryGetValue(read.Fh, out var f) || f is not DirFile dir) { r.ReplyError(LibC.EBADF); return; }
        var buffer = new byte[read.Size];
        int used = 0;
        int headerSize = Marshal.SizeOf<FuseDirent>();
        for (int i = (int)Math.Min(read.Offset, (ulong)dir.Entries.Count); i < dir.Entries.Count; i++)
        {
            var (name, ino, type) = dir.Entries[i];
            byte[] nameBytes = Encoding.UTF8.GetBytes(name);
            int record = (headerSize + nameBytes.Length + 7) & ~7;
            if (used + record > buffer.Length) break;
            var d = new FuseDirent { Ino = ino, Off = (ulong)(i + 1), NameLen = (uint)nameBytes.Length, Type = type };
            MemoryMarshal.Write(buffer.AsSpan(used), in d);
            nameBytes.CopyTo(buffer.AsSpan(used + headerSize));
            used += record;
        }
        r.Reply(buffer.AsSpan(0, used));
    }

    private void Statfs(FuseRequest r)
    {
        var st = new FuseKstatfs { Bsize = 4096, Frsize = 4096, NameLen = 255 };
        r.Reply(in st);
    }

    private void Poll(FuseRequest r)
    {
        var poll = r.Read<FusePollIn>();
        uint revents = (uint)(LibC.POLLIN | LibC.POLLRDNORM | LibC.POLLOUT | LibC.POLLWRNORM);
        if (_files.TryGetValue(poll.Fh, out var file) && file is TraceFile trace)
            revents = _trace.Poll(trace.Reader, poll.Kh, (poll.Flags & FuseConst.PollScheduleNotify) != 0);
        var reply = new FusePollOut { Revents = revents & (poll.Events | (uint)(LibC.POLLERR | LibC.POLLHUP)) };
        r.Reply(in reply);
    }

    // ---------------------------------------------------------------- ioctl

    private void Ioctl(FuseRequest r)
    {
        var io = r.Read<FuseIoctlIn>();
        if (!_files.TryGetValue(io.Fh, out var f) || f is not IoctlFile file)
        {
            r.ReplyError(LibC.ENOTTY);
            return;
        }
        if ((io.Flags & FuseConst.IoctlUnrestricted) != 0) { r.ReplyError(LibC.ENOTTY); return; }

        // The kernel copied _IOC_SIZE bytes in for _IOW/_IOWR and will copy out_size bytes back.
        var data = new byte[IoctlBits.Dir(io.Cmd) == 0 ? 0 : IoctlBits.Size(io.Cmd)];
        int inBytes = Math.Min(data.Length, Math.Min((int)io.InSize, r.Body.Length - Marshal.SizeOf<FuseIoctlIn>()));
        if (inBytes > 0) r.Body.AsSpan(Marshal.SizeOf<FuseIoctlIn>(), inBytes).CopyTo(data);
        byte[] dataIn = IoctlBits.CopiesIn(io.Cmd) ? (byte[])data.Clone() : [];

        // The calling process, for nodes of a VM (only its owner may use them).
        int caller = file.VmOwnerPid is null ? 0 : ThreadGroup(r.Header.Pid);
        if (io.Cmd == KVM_RUN && caller == (file.VmOwnerPid ?? 0))
        {
            // KVM_RUN runs the guest for as long as it likes: its own thread, and a signal to the
            // caller kicks the vCPU out (KVM_RUN then returns -EINTR, as in the kernel).
            r.OnInterrupt(file.Object.Kick);
            var t = new Thread(() => RunIoctl(r, file, io, data, dataIn, caller)) { IsBackground = true, Name = "fuse-kvm-run" };
            t.Start();
            return;
        }
        RunIoctl(r, file, io, data, dataIn, caller);
    }

    private void RunIoctl(FuseRequest r, IoctlFile file, FuseIoctlIn io, byte[] data, byte[] dataIn, int caller)
    {
        var watch = Stopwatch.StartNew();
        var call = new IoctlCall(io.Cmd, io.Arg, data, new FuseUserAccess(io.Arg, data));
        IoctlResult result;
        try
        {
            if (file.VmOwnerPid is int vmOwner && caller != vmOwner)
            {
                // KVM serves a VM's fds only inside the VMM's address space (kvm->mm must be
                // current->mm): another process, even one handed the fd, gets EIO. The file
                // system is a window onto other VMMs' VMs, not a way to change them.
                Log.Information("fuse: pid {Pid} is not the owner ({Owner}) of {Kind} {Id}: {Ioctl} = EIO, as KVM",
                    caller, vmOwner, file.Object.Kind, file.Object.Id, IoctlBits.Describe(io.Cmd));
                result = IoctlResult.Error(LibC.EIO);
            }
            else
                result = file.Object.Ioctl(call);
        }
        catch (Exception e)
        {
            // The object model must not throw; if it does, the caller gets EIO and the daemon lives on.
            Log.Error(e, "fuse: {Kind} {Id}: ioctl {Ioctl} threw", file.Object.Kind, file.Object.Id, IoctlBits.Describe(io.Cmd));
            result = IoctlResult.Error(LibC.EIO);
        }

        long value = result.Value;
        if (!result.IsError && result.NewObject is KvmObject created)
        {
            // No fd can travel back through FUSE: the caller gets the new object's id and opens
            // its node by path (vms/<id>/vm, vms/<vm>/vcpus/<n>/vcpu, vms/<vm>/devices/<n>).
            lock (_held) _held[created] = 1;
            lock (file.Created) file.Created.Add(created);
            _view.Created(file.Object, created, file.Owner);
            if (result.NewFdOffset >= 0 && result.NewFdOffset + 4 <= data.Length)
                BitConverter.TryWriteBytes(data.AsSpan(result.NewFdOffset), created.Id);
            else
                value = created.Id;
            Log.Information("fuse: {Kind} {Id} created {NewKind} {NewId} for pid {Pid}",
                file.Object.Kind, file.Object.Id, created.Kind, created.Id, file.Owner.Pid);
        }

        bool copiesOut = IoctlBits.CopiesOut(io.Cmd) && !result.IsError;
        if (KvmTrace.Enabled)
        {
            KvmTrace.Publish(new IoctlTraceEvent
            {
                Time = DateTimeOffset.UtcNow,
                Pid = caller != 0 ? caller : file.Owner.Pid,
                ObjectKind = file.Object.Kind,
                ObjectId = file.Object.Id,
                Command = io.Cmd,
                Argument = io.Arg,
                DataIn = dataIn,
                DataOut = copiesOut ? (byte[])data.Clone() : [],
                Result = value,
                Run = io.Cmd == KVM_RUN ? file.Object.TraceRunState() : null,
                DurationMicros = watch.ElapsedTicks * 1_000_000 / Stopwatch.Frequency,
            });
        }

        if (result.IsError)
        {
            r.ReplyError((int)-value);
            return;
        }
        var reply = new FuseIoctlOut { Result = (int)value };
        int outBytes = copiesOut ? (int)Math.Min(io.OutSize, (uint)data.Length) : 0;
        r.Reply(in reply, data.AsSpan(0, outBytes));
    }

    // ---------------------------------------------------------------- objects held by kvmfs fds

    private bool Hold(KvmObject obj)
    {
        lock (_held)
        {
            if (!_held.TryGetValue(obj, out int n)) return false;
            _held[obj] = n + 1;
            return true;
        }
    }

    private void Unhold(KvmObject obj)
    {
        lock (_held)
        {
            if (!_held.TryGetValue(obj, out int n)) return;
            if (n > 1) { _held[obj] = n - 1; return; }
            _held.Remove(obj);
        }
        ReleaseObject(obj);
        _view.Released(obj);
    }

    private static void ReleaseObject(KvmObject obj)
    {
        try { obj.Release(); }
        catch (Exception e) { Log.Error(e, "fuse: releasing {Kind} {Id} failed", obj.Kind, obj.Id); }
    }

    // ---------------------------------------------------------------- paths

    private Entry? ResolveNode(ulong nodeId)
    {
        string? path = _inodes.PathOf(nodeId);
        return path == null ? null : Resolve(path);
    }

    private Entry? Resolve(string path)
    {
        Entry current = _root;
        if (path.Length == 0) return current;
        foreach (var part in path.Split('/'))
        {
            if (current is not DirectoryEntry dir) return null;
            var next = dir.Child(part);
            if (next == null) return null;
            current = next;
        }
        return current;
    }

    private static string ParentPath(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash < 0 ? "" : path[..slash];
    }

    /// <summary>The process of a calling thread: FUSE gives the thread's id, the process is its thread group.</summary>
    private static int ThreadGroup(uint tid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{tid}/status"))
                if (line.StartsWith("Tgid:", StringComparison.Ordinal)) return int.Parse(line.AsSpan(5).Trim());
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        catch (FormatException) { }
        return (int)tid;
    }

    /// <summary>The VMM behind a request: its process id and command line.</summary>
    private static VmOwner Owner(uint tid) => VmOwner.OfProcess(ThreadGroup(tid));

    // ---------------------------------------------------------------- open files

    private abstract class OpenFile;

    private sealed class TextFile(byte[] content) : OpenFile
    {
        public byte[] Content { get; } = content;
    }

    private sealed class TraceFile(TraceStream.Reader reader) : OpenFile
    {
        public TraceStream.Reader Reader { get; } = reader;
    }

    private sealed class DirFile(List<(string Name, ulong Ino, uint Type)> entries) : OpenFile
    {
        public List<(string Name, ulong Ino, uint Type)> Entries { get; } = entries;
    }

    private sealed class IoctlFile(KvmObject obj, bool owns, VmOwner owner, int? vmOwnerPid) : OpenFile
    {
        public KvmObject Object { get; } = obj;
        public bool Owns { get; } = owns;
        public VmOwner Owner { get; } = owner;
        /// <summary>The process the VM belongs to; ioctls from any other get EIO (null: anyone).</summary>
        public int? VmOwnerPid { get; } = vmOwnerPid;
        /// <summary>Objects this file's ioctls created: it holds them as the fd it could not return.</summary>
        public List<KvmObject> Created { get; } = [];
    }

    /// <summary>Node ids by path. The kernel counts its references (LOOKUP adds one, FORGET takes
    /// some away); ids are never reused, so a generation number is not needed.</summary>
    private sealed class Inodes
    {
        private readonly object _gate = new();
        private readonly Dictionary<string, Node> _byPath = new() { [""] = new Node(FuseConst.RootId, "") };
        private readonly Dictionary<ulong, Node> _byId = [];
        private ulong _next = FuseConst.RootId + 1;

        public Inodes() => _byId[FuseConst.RootId] = _byPath[""];

        private sealed class Node(ulong id, string path)
        {
            public ulong Id = id;
            public string Path = path;
            public ulong Lookups;
        }

        public string? PathOf(ulong id)
        {
            lock (_gate) return _byId.TryGetValue(id, out var n) ? n.Path : null;
        }

        /// <summary>The id for a path without counting a kernel reference (readdir's d_ino).</summary>
        public ulong IdOf(string path)
        {
            lock (_gate) return Get(path).Id;
        }

        public ulong Lookup(string path)
        {
            lock (_gate)
            {
                var n = Get(path);
                n.Lookups++;
                return n.Id;
            }
        }

        public void Forget(ulong id, ulong count)
        {
            lock (_gate)
            {
                if (id == FuseConst.RootId || !_byId.TryGetValue(id, out var n)) return;
                n.Lookups = n.Lookups > count ? n.Lookups - count : 0;
                if (n.Lookups == 0) { _byId.Remove(id); _byPath.Remove(n.Path); }
            }
        }

        private Node Get(string path)
        {
            if (!_byPath.TryGetValue(path, out var n))
            {
                n = new Node(_next++, path);
                _byPath[path] = n;
                _byId[n.Id] = n;
            }
            return n;
        }
    }
}
