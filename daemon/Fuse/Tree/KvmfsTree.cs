using Kvmfs.Fuse.View;
using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse.Tree;

/// <summary>
/// The shape of the kvmfs file system, as one declarative table per directory:
/// <code>
/// kvm                         the KVM device (system ioctls)
/// trace                       the live ioctl and exit trace
/// vms/&lt;id&gt;/info, memslots, stage2, vgic, vm, devices/&lt;n&gt;
/// vms/&lt;id&gt;/vcpus/&lt;n&gt;/regs, sysregs, stats, vcpu
/// </code>
/// Each text file's first line is its headline below: what the reader looks at, in KVM terms.
/// </summary>
public static class KvmfsTree
{
    public const string TraceHeadline =
        "ioctl and exit trace: every KVM ioctl a VMM makes and every exit KVM_RUN returns, decoded (recorded while this file is open)";

    public static DirectoryEntry Root(IKvmView view, Func<VmOwner, KvmObject> openSystem) =>
        new("", () =>
        [
            new IoctlEntry("kvm", owner => openSystem(owner), ownsObject: true),
            new TraceEntry("trace"),
            new DirectoryEntry("vms", () => Vms(view)),
        ]);

    private static IReadOnlyList<Entry> Vms(IKvmView view)
    {
        var list = new List<Entry>();
        foreach (var vm in view.Vms) list.Add(Vm(vm));
        return list;
    }

    private static DirectoryEntry Vm(IVmView vm) =>
        new(vm.Id.ToString(), () =>
        [
            new TextEntry("info",
                $"VM {vm.Id}: the VM that KVM_CREATE_VM made (struct kvm) - its owner, IPA size, vCPUs and devices",
                vm.Info),
            new TextEntry("memslots",
                "memslots: guest physical ranges the VMM registered with KVM_SET_USER_MEMORY_REGION, and the host memory behind each",
                vm.Memslots),
            new TextEntry("stage2",
                "stage-2 translation: guest physical -> host memory, built from memslots as the guest touches them (empty until guests run: guest execution is not wired into KVM_RUN yet)",
                vm.Stage2),
            new TextEntry("vgic",
                "vGIC: the virtual interrupt controller - model, distributor / redistributor / ITS addresses, each vCPU's redistributor and CPU interface, and every enabled, pending or active interrupt",
                vm.Vgic),
            new IoctlEntry("vm", _ => vm.Object, ownsObject: false, vm.OwnerPid),
            new DirectoryEntry("vcpus", () => Vcpus(vm)),
            new DirectoryEntry("devices", () => Devices(vm)),
        ]);

    private static IReadOnlyList<Entry> Vcpus(IVmView vm)
    {
        var list = new List<Entry>();
        foreach (var vcpu in vm.Vcpus) list.Add(Vcpu(vcpu, vm.OwnerPid));
        return list;
    }

    private static IReadOnlyList<Entry> Devices(IVmView vm)
    {
        var list = new List<Entry>();
        foreach (var device in vm.Devices)
        {
            var d = device;
            list.Add(new IoctlEntry(d.Id.ToString(), _ => d, ownsObject: false, vm.OwnerPid));
        }
        return list;
    }

    private static DirectoryEntry Vcpu(IVcpuView vcpu, int? ownerPid) =>
        new(vcpu.Id.ToString(), () =>
        [
            new TextEntry("regs",
                $"vCPU {vcpu.Id} registers: X0-X30, SP, PC, PSTATE decoded, SP_EL1, ELR/SPSR/ESR/FAR of EL1, FPSR/FPCR (struct kvm_regs and ONE_REG) as KVM holds them between runs",
                vcpu.Regs),
            new TextEntry("sysregs",
                $"vCPU {vcpu.Id} system registers: the guest's EL1 state that KVM saves and restores on every world switch, by name",
                vcpu.Sysregs),
            new TextEntry("stats",
                $"vCPU {vcpu.Id} state and statistics: id, MPIDR, KVM_ARM_VCPU_INIT target and features, MP state, KVM_RUN calls and exits",
                vcpu.Stats),
            new IoctlEntry("vcpu", _ => vcpu.Object, ownsObject: false, ownerPid),
        ]);
}
