using Kvmfs.Kvm;
using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse.View;

/// <summary>
/// The view over the daemon's registry of live VMs (<see cref="KvmHost"/>): every VM of this
/// process, whichever front end created it (the preload shim's socket or the file system's own kvm
/// node), with its real memslots, vGIC, registers and stats rendered by <see cref="VmText"/>.
/// The object model keeps the registry itself, so Created/Released have nothing to record.
/// </summary>
public sealed class HostKvmView : IKvmView
{
    public KvmObject OpenSystem(VmOwner owner) => new KvmSystem(owner);

    public IReadOnlyList<IVmView> Vms
    {
        get
        {
            var list = new List<IVmView>();
            foreach (var vm in KvmHost.Vms)
                if (!vm.Destroyed) list.Add(new VmView(vm));
            list.Sort((a, b) => a.Id.CompareTo(b.Id));
            return list;
        }
    }

    public void Created(KvmObject parent, KvmObject created, VmOwner owner) { }

    public void Released(KvmObject obj) { }

    // Stage 2 is the emulator's: the translation tables are built as guests touch memory, which
    // needs guest execution behind KVM_RUN. Say so rather than show an empty table.
    private const string Stage2NotBuilt =
        "not built yet: stage-2 translation is built once guests run, and guest execution is not wired\n" +
        "into KVM_RUN yet. Until then guest physical memory is exactly the memslots (see memslots).\n";

    private sealed class VmView(Vm vm) : IVmView
    {
        public int Id => vm.Id;
        public KvmObject Object => vm;
        public int? OwnerPid => vm.Owner.Pid;
        public string Info() => VmText.Info(vm);
        public string Memslots() => VmText.Memslots(vm);
        public string Stage2() => Stage2NotBuilt;
        public string Vgic() => VmText.Vgic(vm);

        public IReadOnlyList<IVcpuView> Vcpus
        {
            get
            {
                var list = new List<IVcpuView>();
                foreach (var v in vm.VcpuSnapshot) list.Add(new VcpuView(v));
                list.Sort((a, b) => a.Id.CompareTo(b.Id));
                return list;
            }
        }

        public IReadOnlyList<KvmObject> Devices
        {
            get
            {
                // Devices and Its are plain lists guarded by the VM lock (kvm->lock).
                var list = new List<KvmObject>();
                lock (vm.Lock)
                {
                    list.AddRange(vm.Devices);
                    list.AddRange(vm.Its);
                }
                list.Sort((a, b) => a.Id.CompareTo(b.Id));
                return list;
            }
        }
    }

    private sealed class VcpuView(Vcpu vcpu) : IVcpuView
    {
        public int Id => vcpu.VcpuId;
        public KvmObject Object => vcpu;
        public string Regs() => VmText.Regs(vcpu);
        public string Sysregs() => VmText.Sysregs(vcpu);
        public string Stats() => VmText.Stats(vcpu);
    }
}
