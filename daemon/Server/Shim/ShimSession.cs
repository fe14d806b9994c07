using Kvmfs.Kvm.Core;
using Serilog;

namespace Kvmfs.Daemon.Shim;

/// <summary>
/// One VMM process as the daemon sees it: the KVM objects its fds name (by handle), the guest
/// memory it shared, and its connections (one per VMM thread plus the shim's control
/// connection). When the last connection closes the process is gone (exit, crash, kill -9):
/// every object is released and every mapping undone, as the kernel does when the fds of a
/// dead process are closed. Other sessions never see these handles.
/// </summary>
public sealed class ShimSession
{
    private readonly object _gate = new();
    private readonly Dictionary<uint, KvmObject> _objects = new();
    private readonly HashSet<SharedMemory> _memory = new(); // a set: 32767 slots make List.Remove quadratic
    private uint _nextHandle = 1;
    private int _connections;
    private bool _closed;

    private readonly Action<KvmObject>? _released;

    /// <param name="released">Told about every object the teardown releases (the FUSE view).</param>
    public ShimSession(ulong token, VmOwner owner, Action<KvmObject>? released = null)
    {
        Token = token;
        Owner = owner;
        _released = released;
    }

    public ulong Token { get; }
    public VmOwner Owner { get; }
    public int Pid => Owner.Pid;

    public bool IsClosed { get { lock (_gate) return _closed; } }

    public int ObjectCount { get { lock (_gate) return _objects.Count; } }

    /// <summary>Counts one more connection. False when the session already ended.</summary>
    public bool Attach()
    {
        lock (_gate)
        {
            if (_closed) return false;
            _connections++;
            return true;
        }
    }

    /// <summary>One connection closed; the last one tears the session down.</summary>
    public void Detach()
    {
        KvmObject[] objects;
        lock (_gate)
        {
            if (--_connections > 0 || _closed) return;
            _closed = true;
            // Newest first: vCPUs and devices before their VM, the VM before /dev/kvm.
            objects = _objects.OrderByDescending(kv => kv.Key).Select(kv => kv.Value).ToArray();
            _objects.Clear();
        }
        foreach (var o in objects)
        {
            try { o.Release(); }
            catch (Exception e) { Log.Error(e, "VMM {Pid}: releasing {Kind} {Id} failed", Pid, o.Kind, o.Id); }
            _released?.Invoke(o);
        }
        // Releasing the VMs unmapped their memslots; whatever is still mapped goes now.
        SharedMemory[] leftover;
        lock (_gate)
        {
            leftover = _memory.ToArray();
            _memory.Clear();
        }
        foreach (var m in leftover) m.Dispose();
        Log.Information("VMM {Pid} gone: released {Objects} objects, unmapped {Leftover} memory regions they had left mapped",
            Pid, objects.Length, leftover.Length);
    }

    public uint Add(KvmObject obj)
    {
        lock (_gate)
        {
            uint h = _nextHandle++;
            if (_nextHandle == 0) _nextHandle = 1;
            _objects[h] = obj;
            return h;
        }
    }

    public KvmObject? Get(uint handle)
    {
        lock (_gate) return _objects.GetValueOrDefault(handle);
    }

    /// <summary>The last fd for <paramref name="handle"/> closed: takes it out and returns it (null if unknown).</summary>
    public KvmObject? Remove(uint handle)
    {
        lock (_gate)
        {
            return _objects.Remove(handle, out var o) ? o : null;
        }
    }

    /// <summary>Remembers guest memory shared by this VMM so teardown unmaps it even if no object did.</summary>
    public bool TrackMemory(SharedMemory memory)
    {
        lock (_gate)
        {
            if (_closed) return false;
            _memory.Add(memory);
            return true;
        }
    }

    /// <summary>The mapping was disposed (memslot deleted or teardown).</summary>
    public void UntrackMemory(SharedMemory memory)
    {
        lock (_gate) _memory.Remove(memory);
    }

    /// <summary>Guest memory regions of this VMM mapped in the daemon now.</summary>
    public int MappedRegions { get { lock (_gate) return _memory.Count; } }
}
