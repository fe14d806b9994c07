using System.Text;
using Kvmfs.Kvm;
using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse.View;

/// <summary>
/// A view that knows only what the file system itself saw: the VMs, vCPUs and devices created by
/// ioctls on its own nodes, and who created them. It has no window into the object model's state
/// (memslots, registers, vGIC), and says so in those files. Used by tests that drive probe objects;
/// the default view is <see cref="HostKvmView"/>, over the daemon's registry of live VMs.
/// </summary>
public sealed class FrontEndKvmView(Func<VmOwner, KvmObject>? systemFactory = null) : IKvmView
{
    private readonly Func<VmOwner, KvmObject> _systemFactory = systemFactory ?? (owner => new KvmSystem(owner));
    private readonly object _gate = new();
    private readonly List<Vm> _vms = [];

    public KvmObject OpenSystem(VmOwner owner) => _systemFactory(owner);

    public IReadOnlyList<IVmView> Vms
    {
        get { lock (_gate) return [.. _vms]; }
    }

    public void Created(KvmObject parent, KvmObject created, VmOwner owner)
    {
        lock (_gate)
        {
            switch (created.Kind)
            {
                case "vm":
                    _vms.Add(new Vm(created, owner));
                    _vms.Sort((a, b) => a.Id.CompareTo(b.Id));
                    break;
                case "vcpu":
                    _vms.Find(v => v.Object == parent)?.AddVcpu(created);
                    break;
                default:
                    _vms.Find(v => v.Object == parent)?.AddDevice(created);
                    break;
            }
        }
    }

    public void Released(KvmObject obj)
    {
        lock (_gate)
        {
            _vms.RemoveAll(v => v.Object == obj);
            foreach (var vm in _vms) vm.Remove(obj);
        }
    }

    private const string NoModel =
        "not available yet: this daemon's file system was mounted without a view of the KVM object model,\n" +
        "so only what the file system saw itself (the objects its nodes created) is shown.\n";

    private sealed class Vm(KvmObject obj, VmOwner owner) : IVmView
    {
        private readonly List<Vcpu> _vcpus = [];
        private readonly List<KvmObject> _devices = [];

        public int Id => obj.Id;
        public int? OwnerPid => owner.Pid;
        public KvmObject Object => obj;

        public IReadOnlyList<IVcpuView> Vcpus { get { lock (_vcpus) return [.. _vcpus]; } }
        public IReadOnlyList<KvmObject> Devices { get { lock (_vcpus) return [.. _devices]; } }

        public void AddVcpu(KvmObject vcpu) { lock (_vcpus) { _vcpus.Add(new Vcpu(vcpu)); _vcpus.Sort((a, b) => a.Id.CompareTo(b.Id)); } }
        public void AddDevice(KvmObject device) { lock (_vcpus) _devices.Add(device); }
        public void Remove(KvmObject o) { lock (_vcpus) { _vcpus.RemoveAll(v => v.Object == o); _devices.Remove(o); } }

        public string Info()
        {
            var sb = new StringBuilder();
            sb.Append($"vm            {Id}\n");
            sb.Append($"owner pid     {owner.Pid}\n");
            sb.Append($"command line  {owner.CommandLine}\n");
            sb.Append($"created by    an ioctl on this file system's kvm node\n");
            lock (_vcpus)
            {
                sb.Append($"vcpus         {_vcpus.Count}");
                foreach (var v in _vcpus) sb.Append($" {v.Id}");
                sb.Append('\n');
                sb.Append($"devices       {_devices.Count}");
                foreach (var d in _devices) sb.Append($" {d.Kind}#{d.Id}");
                sb.Append('\n');
            }
            sb.Append("ipa size      ").Append(NoModel);
            return sb.ToString();
        }

        public string Memslots() => NoModel;
        public string Stage2() => NoModel;
        public string Vgic() => NoModel;
    }

    private sealed class Vcpu(KvmObject obj) : IVcpuView
    {
        public int Id => obj.Id;
        public KvmObject Object => obj;
        public string Regs() => NoModel;
        public string Sysregs() => NoModel;
        public string Stats() => NoModel;
    }
}
