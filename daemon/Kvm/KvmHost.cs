namespace Kvmfs.Kvm;

/// <summary>
/// Every live VM in this daemon, for readers outside the ioctl path (the FUSE view, stats).
/// Thread safe: <see cref="Vms"/> is a snapshot; events fire after the change, outside locks
/// that ioctls hold, and a failing handler never affects a VM.
/// </summary>
public static class KvmHost
{
    private static readonly object Gate = new();
    private static Vm[] _vms = [];

    /// <summary>The live VMs, oldest first. Never mutated.</summary>
    public static IReadOnlyList<Vm> Vms => Volatile.Read(ref _vms);

    /// <summary>A VM was created (KVM_CREATE_VM).</summary>
    public static event Action<Vm>? VmAdded;
    /// <summary>A VM was torn down (its last fd closed or its VMM died).</summary>
    public static event Action<Vm>? VmRemoved;
    /// <summary>A VM's configuration changed: memslots, vCPUs, devices.</summary>
    public static event Action<Vm>? VmChanged;

    public static Vm? Find(int id) => Array.Find(Volatile.Read(ref _vms), v => v.Id == id);

    internal static void Add(Vm vm)
    {
        lock (Gate) _vms = [.. _vms, vm];
        Raise(VmAdded, vm);
    }

    internal static void Remove(Vm vm)
    {
        lock (Gate) _vms = Array.FindAll(_vms, v => v != vm);
        Raise(VmRemoved, vm);
    }

    internal static void NotifyChanged(Vm vm) => Raise(VmChanged, vm);

    private static void Raise(Action<Vm>? handler, Vm vm)
    {
        if (handler is null) return;
        foreach (Action<Vm> h in handler.GetInvocationList())
        {
            try { h(vm); }
            catch (Exception e) { Serilog.Log.Warning(e, "KvmHost event handler failed for VM {Vm}", vm.Id); }
        }
    }
}
