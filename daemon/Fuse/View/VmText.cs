using System.Text;
using Kvmfs.Kvm;
using Kvmfs.Kvm.OneReg;
using Kvmfs.Kvm.Vgic;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Fuse.View;

/// <summary>
/// The bodies of the kvmfs text files for one VM of the object model (the headlines are the
/// tree's). Written for readers: KVM names, aligned columns, units. They read live state without
/// stopping the VM (a value may be a moment old) and never change anything.
/// </summary>
public static class VmText
{
    public static string Info(Vm vm)
    {
        var sb = new StringBuilder();
        var vcpus = vm.VcpuSnapshot;
        Row(sb, "vm", vm.Id.ToString());
        Row(sb, "owner pid", vm.Owner.Pid.ToString());
        Row(sb, "command line", CommandLine(vm.Owner));
        Row(sb, "created", vm.Created.ToString("O"));
        Row(sb, "ipa size", $"{vm.IpaBits} bits (guest physical addresses below 0x{1UL << vm.IpaBits:x})");
        var ids = new StringBuilder();
        foreach (var v in vcpus) ids.Append(' ').Append(v.VcpuId);
        Row(sb, "vcpus", $"{vcpus.Length} (ids{(vcpus.Length == 0 ? " none" : ids.ToString())}; max {vm.MaxVcpus})");
        var slots = vm.Memslots.Snapshot;
        ulong total = vm.Memslots.TotalBytes;
        Row(sb, "memslots", $"{slots.Length}, 0x{total:x} bytes ({total / 1048576.0:0.###} MiB) of guest memory in all (see memslots)");
        Row(sb, "irqchip", vm.Vgic is null ? "none (no in-kernel vGIC)" : vm.Vgic.IsV3 ? "GICv3" : "GICv2");
        var devices = new List<string>();
        lock (vm.Lock)
        {
            foreach (var d in vm.Devices) devices.Add($"{d.Id} {d.Name}");
            foreach (var its in vm.Its) devices.Add($"{its.Id} kvm-arm-vgic-its");
        }
        Row(sb, "devices", devices.Count == 0 ? "none" : string.Join(", ", devices) + " (KVM_CREATE_DEVICE; nodes in devices/)");
        Row(sb, "irqfds", $"{vm.Irqfds.Snapshot.Length}, ioeventfds {vm.Ioeventfds.Snapshot.Length}, gsi routes {vm.Routing.Snapshot.Length}");
        Row(sb, "psci version", $"{vm.PsciVersion >> 16}.{vm.PsciVersion & 0xffff}");
        Row(sb, "has run", vm.HasRanOnce ? "yes (a vCPU has entered KVM_RUN)" : "no (no vCPU has entered KVM_RUN yet)");
        return sb.ToString();
    }

    public static string Memslots(Vm vm)
    {
        var sb = new StringBuilder();
        sb.Append("slot  guest_phys_addr     size                         flags            userspace_addr\n");
        var slots = vm.Memslots.Snapshot;
        // In guest address order: the holes between slots are where the VMM emulates devices (MMIO).
        Array.Sort(slots, (a, b) => a.GuestPhysAddr.CompareTo(b.GuestPhysAddr));
        foreach (var s in slots)
        {
            string flags = (s.ReadOnly ? "READONLY " : "") + (s.LogDirtyPages ? "LOG_DIRTY_PAGES" : "");
            sb.Append($"{s.Slot,-5} 0x{s.GuestPhysAddr:x16}  0x{s.Size:x16} {"(" + Size(s.Size) + ")",-10} {(flags.Length == 0 ? "-" : flags.Trim()),-16} 0x{s.UserspaceAddr:x}\n");
        }
        return sb.ToString();
    }

    public static string Vgic(Vm vm)
    {
        var gic = vm.Vgic;
        if (gic is null) return "no in-kernel irqchip: the VMM created no vGIC device\n";
        var sb = new StringBuilder();
        sb.Append($"model        {(gic.IsV3 ? "GICv3 (KVM_DEV_TYPE_ARM_VGIC_V3)" : "GICv2 (KVM_DEV_TYPE_ARM_VGIC_V2)")}\n");
        sb.Append($"initialized  {(gic.Initialized ? "yes (KVM_DEV_ARM_VGIC_CTRL_INIT)" : "no")}\n");
        var dist = gic.Distributor;
        sb.Append($"distributor  {Addr(gic.DistBase)}{(dist is null ? "" : dist.Enabled ? ", enabled (GICD_CTLR)" : ", disabled (GICD_CTLR enables no group yet)")}\n");
        if (gic.IsV3)
        {
            foreach (var r in gic.RedistRegions)
                sb.Append($"redistributor region {r.Index}: base 0x{r.Base:x}, {(r.Count == 0 ? "legacy (one frame per vCPU)" : $"{r.Count} frames")}, {r.FreeIndex} in use\n");
            if (gic.RedistRegions.Count == 0) sb.Append("redistributor unset\n");
        }
        else
            sb.Append($"cpu interface {Addr(gic.CpuBase)}\n");
        List<VgicItsDevice> itsList;
        lock (vm.Lock) itsList = [.. vm.Its];
        foreach (var its in itsList) sb.Append($"its          {Addr(its.Base)}, {(its.Enabled ? "enabled" : "disabled")}\n");

        if (dist is null)
        {
            sb.Append($"nr_irqs      {(gic.NrSpis == 0 ? "default" : (gic.NrSpis + Distributor.NrPrivateIrqs).ToString())} (distributor state exists after KVM_DEV_ARM_VGIC_CTRL_INIT)\n");
            return sb.ToString();
        }
        sb.Append($"nr_irqs      {dist.NrIrqs} (SGIs 0-15, PPIs 16-31 per vCPU, SPIs 32-{dist.NrIrqs - 1})\n");

        sb.Append("\nper vCPU:\n");
        foreach (var v in vm.VcpuSnapshot)
        {
            var c = v.Gic;
            if (gic.IsV3)
                sb.Append($"  vcpu {v.VcpuId}: redistributor {Addr(c.RdBase)}, LPIs {(c.LpisEnabled ? "enabled" : "disabled")}, " +
                          $"ICC_PMR_EL1 0x{c.IccPmr:x2}, ICC_IGRPEN0/1_EL1 {B(c.IccIgrpen0)}/{B(c.IccIgrpen1)}\n");
            else
                sb.Append($"  vcpu {v.VcpuId}: GICC_CTLR 0x{c.GiccCtlr:x}, GICC_PMR 0x{c.GiccPmr:x2}\n");
        }
        // The list registers (ICH_LR<n>_EL2) are loaded by the hypervisor when it enters a guest
        // with interrupts to deliver; no vCPU enters a guest yet.
        sb.Append("  list registers: empty (loaded on guest entry; guest execution is not wired into KVM_RUN yet)\n");

        sb.Append("\nenabled, pending or active interrupts:\n");
        sb.Append("intid  en pend act  prio  cfg    group  route\n");
        int shown = 0;
        foreach (var irq in dist.Spis)
            if (irq.Enabled || irq.Pending || irq.Active) { sb.Append(IrqLine(irq, gic.IsV3 ? $"affinity 0x{irq.Router:x}" : $"targets 0x{irq.Targets:x2}")); shown++; }
        foreach (var v in vm.VcpuSnapshot)
            foreach (var irq in v.Gic.Private)
                if (irq.Enabled || irq.Pending || irq.Active) { sb.Append(IrqLine(irq, $"vcpu {v.VcpuId}")); shown++; }
        if (shown == 0) sb.Append("(none)\n");
        return sb.ToString();
    }

    private static string IrqLine(VgicIrq irq, string route) =>
        $"{irq.Intid,-6} {B(irq.Enabled)}  {B(irq.Pending)}    {B(irq.Active)}   0x{irq.Priority:x2}  {(irq.Edge ? "edge " : "level")}  {(irq.Group ? 1 : 0)}      {route}\n";

    public static string Regs(Vcpu vcpu)
    {
        var c = vcpu.Core;
        var sb = new StringBuilder();
        for (int i = 0; i < 31; i++) sb.Append($"x{i,-7} 0x{c.X(i):x16}\n");
        sb.Append($"{"sp",-8} 0x{c.Sp:x16}   (SP_EL0)\n");
        sb.Append($"{"pc",-8} 0x{c.Pc:x16}\n");
        sb.Append($"{"pstate",-8} 0x{c.Pstate:x16}   ({Pstate(c.Pstate)})\n");
        sb.Append($"{"sp_el1",-8} 0x{c.SpEl1:x16}\n");
        sb.Append($"{"elr_el1",-8} 0x{c.ElrEl1:x16}\n");
        sb.Append($"{"spsr_el1",-8} 0x{c.Spsr(0):x16}\n");
        sb.Append($"{"esr_el1",-8} {Value(SysReg(vcpu, "ESR_EL1"))}\n");
        sb.Append($"{"far_el1",-8} {Value(SysReg(vcpu, "FAR_EL1"))}\n");
        sb.Append($"{"fpsr",-8} 0x{c.Fpsr:x8}\n{"fpcr",-8} 0x{c.Fpcr:x8}\n");
        // EL2 is KVM's own level: the guest has no EL2 state (no nested virtualization). What the
        // hypervisor saw at the last exit (ESR_EL2, FAR_EL2, HPFAR_EL2) exists once guests run.
        sb.Append("el2      no exit taken to EL2 yet (ESR_EL2/FAR_EL2/HPFAR_EL2 of the last exit appear once guests run)\n");
        return sb.ToString();
    }

    /// <summary>PSTATE (SPSR layout, as KVM_GET_ONE_REG returns it) in words: mode, flags, masks.</summary>
    public static string Pstate(ulong p)
    {
        string mode = (p & 0x1f) switch
        {
            0x0 => "EL0t", 0x4 => "EL1t", 0x5 => "EL1h", 0x8 => "EL2t", 0x9 => "EL2h",
            _ => (p & 0x10) != 0 ? "AArch32" : "reserved mode",
        };
        var flags = new StringBuilder();
        if ((p & (1UL << 31)) != 0) flags.Append('N');
        if ((p & (1UL << 30)) != 0) flags.Append('Z');
        if ((p & (1UL << 29)) != 0) flags.Append('C');
        if ((p & (1UL << 28)) != 0) flags.Append('V');
        var masks = new StringBuilder();
        if ((p & 0x200) != 0) masks.Append('D');
        if ((p & 0x100) != 0) masks.Append('A');
        if ((p & 0x80) != 0) masks.Append('I');
        if ((p & 0x40) != 0) masks.Append('F');
        string daif = masks.Length == 4 ? "DAIF masked" : masks.Length == 0 ? "no exceptions masked" : masks + " masked";
        return $"{mode}, {daif}, NZCV {(flags.Length == 0 ? "clear" : flags.ToString())}";
    }

    public static string Sysregs(Vcpu vcpu)
    {
        var sb = new StringBuilder();
        foreach (var r in SystemRegisterTable.Invariants) sb.Append($"{r.Name,-20} {Value(vcpu.ReadSysReg(r))}\n");
        foreach (var r in SystemRegisterTable.Table) if (vcpu.Visible(r)) sb.Append($"{r.Name,-20} {Value(vcpu.ReadSysReg(r))}\n");
        sb.Append($"{"CNTV_CTL_EL0",-20} 0x{vcpu.CntvCtl:x16}\n");
        sb.Append($"{"CNTV_CVAL_EL0",-20} 0x{vcpu.CntvCval:x16}\n");
        return sb.ToString();
    }

    public static string Stats(Vcpu vcpu)
    {
        var sb = new StringBuilder();
        Row(sb, "vcpu id", $"{vcpu.VcpuId} (index {vcpu.Index})");
        Row(sb, "mpidr", $"0x{vcpu.Mpidr:x}");
        Row(sb, "initialized", vcpu.Initialized ? $"yes (KVM_ARM_VCPU_INIT target {KvmArm.TargetName((uint)vcpu.Target) ?? vcpu.Target.ToString()})" : "no (KVM_ARM_VCPU_INIT not called yet)");
        Row(sb, "features", $"0x{vcpu.Features:x}{Features(vcpu.Features)}");
        Row(sb, "mp state", KvmMpStates.Name(vcpu.MpState) ?? vcpu.MpState.ToString());
        Row(sb, "KVM_RUN calls", Interlocked.Read(ref vcpu.RunCount).ToString());
        Row(sb, "exits", Interlocked.Read(ref vcpu.ExitCount).ToString());
        // Counting by exit reason, ESR class, MMIO address, instructions and time needs the
        // emulator behind KVM_RUN; say so instead of printing zeros that look measured.
        Row(sb, "by reason", "not counted yet (exits by reason, ESR_EL2 class, MMIO address, instructions and time in guest/hyp/VMM need guest execution)");
        // KVM's own counters, the ones KVM_GET_STATS_FD hands out, under the kernel's names.
        sb.Append("\nKVM_GET_STATS_FD counters (the binary stats file of this vCPU):\n");
        var stats = vcpu.Stats;
        int word = 0;
        foreach (var d in stats.Schema)
        {
            if (d.Size == 1) sb.Append($"  {d.Name,-28} {stats.Get(word)}\n");
            else
            {
                ulong sum = 0;
                for (int i = 0; i < d.Size; i++) sum += stats.Get(word + i);
                sb.Append($"  {d.Name,-28} histogram of {d.Size} buckets, {sum} samples\n");
            }
            word += d.Size;
        }
        return sb.ToString();
    }

    private static string Features(uint f)
    {
        var list = new List<string>();
        for (int i = 0; i < 32; i++)
            if ((f & (1u << i)) != 0) list.Add(KvmArm.FeatureName(i) ?? $"bit {i}");
        return list.Count == 0 ? "" : " (" + string.Join(", ", list) + ")";
    }

    /// <summary>A register value; KVM's marker for "UNKNOWN after reset" is named as such.</summary>
    private static string Value(ulong v) =>
        v == SystemRegisterTable.ResetUnknown ? $"0x{v:x16}   (UNKNOWN: reset value not defined, the guest must write it)" : $"0x{v:x16}";

    private static ulong SysReg(Vcpu vcpu, string name)
    {
        foreach (var r in SystemRegisterTable.Table)
            if (r.Name == name) return vcpu.ReadSysReg(r);
        return 0;
    }

    /// <summary>The owner's command line as the front end recorded it at KVM_CREATE_VM.</summary>
    private static string CommandLine(Kvm.Core.VmOwner owner) => owner.CommandLine.Length == 0 ? "(unknown)" : owner.CommandLine;

    private static void Row(StringBuilder sb, string name, string value) => sb.Append($"{name,-14} {value}\n");

    private static string Addr(ulong a) => a == VgicState.AddrUndef ? "unset" : $"0x{a:x}";

    private static char B(bool b) => b ? '1' : '0';

    private static string Size(ulong bytes) =>
        bytes >= 1UL << 30 && bytes % (1UL << 30) == 0 ? $"{bytes >> 30} GiB"
        : bytes >= 1UL << 20 && bytes % (1UL << 20) == 0 ? $"{bytes >> 20} MiB"
        : bytes >= 1UL << 10 && bytes % (1UL << 10) == 0 ? $"{bytes >> 10} KiB"
        : $"{bytes} B";
}
