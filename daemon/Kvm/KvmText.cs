using System.Text;
using Kvmfs.Kvm.OneReg;
using Kvmfs.Kvm.Vgic;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>
/// Plain-text renderings of the object model for readers (the FUSE view, logs): one function per
/// thing a learner looks at. They read live state without stopping the VM, so a value may be a
/// moment old; nothing here changes any state.
/// </summary>
public static class KvmText
{
    public static string VmInfo(Vm vm)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"vm {vm.Id}");
        sb.AppendLine($"owner pid {vm.Owner.Pid}: {vm.Owner.CommandLine}");
        sb.AppendLine($"created {vm.Created:O}");
        sb.AppendLine($"ipa_bits {vm.IpaBits}");
        sb.AppendLine($"vcpus {vm.VcpuCount} (max {vm.MaxVcpus})");
        sb.AppendLine($"guest_ram_bytes {vm.Memslots.TotalBytes}");
        sb.AppendLine($"irqchip {(vm.Vgic is null ? "none" : vm.Vgic.IsV3 ? "GICv3" : "GICv2")}, its {vm.Its.Count}");
        sb.AppendLine($"irqfds {vm.Irqfds.Snapshot.Length}, ioeventfds {vm.Ioeventfds.Snapshot.Length}, gsi_routes {vm.Routing.Snapshot.Length}");
        sb.AppendLine($"psci_version {vm.PsciVersion >> 16}.{vm.PsciVersion & 0xffff}");
        return sb.ToString();
    }

    public static string Memslots(Vm vm)
    {
        var sb = new StringBuilder();
        sb.AppendLine("slot  guest_phys_addr     size                flags              userspace_addr");
        foreach (var s in vm.Memslots.Snapshot)
        {
            string flags = (s.ReadOnly ? "READONLY " : "") + (s.LogDirtyPages ? "LOG_DIRTY_PAGES" : "");
            sb.AppendLine($"{s.Slot,-5} 0x{s.GuestPhysAddr:x16}  0x{s.Size:x16}  {(flags.Length == 0 ? "-" : flags.Trim()),-18} 0x{s.UserspaceAddr:x}");
        }
        return sb.ToString();
    }

    public static string Vgic(Vm vm)
    {
        var gic = vm.Vgic;
        if (gic is null) return "no in-kernel irqchip\n";
        var sb = new StringBuilder();
        static string A(ulong a) => a == VgicState.AddrUndef ? "unset" : $"0x{a:x}";
        sb.AppendLine($"model {(gic.IsV3 ? "GICv3" : "GICv2")}, initialized {gic.Initialized}");
        sb.AppendLine($"distributor {A(gic.DistBase)}");
        if (gic.IsV3)
            foreach (var r in gic.RedistRegions)
                sb.AppendLine($"redistributor region {r.Index}: base 0x{r.Base:x}, count {(r.Count == 0 ? "legacy" : r.Count.ToString())}, used {r.FreeIndex}");
        else
            sb.AppendLine($"cpu interface {A(gic.CpuBase)}");
        foreach (var its in vm.Its) sb.AppendLine($"its {A(its.Base)}, enabled {its.Enabled}");
        var dist = gic.Distributor;
        if (dist is null) { sb.AppendLine($"nr_irqs {(gic.NrSpis == 0 ? "default" : (gic.NrSpis + 32).ToString())}"); return sb.ToString(); }
        sb.AppendLine($"nr_irqs {dist.NrIrqs}, enabled {dist.Enabled}");
        sb.AppendLine("intid  en pend act  prio  cfg    group  route");
        foreach (var irq in dist.Spis)
            if (irq.Enabled || irq.Pending || irq.Active)
                sb.AppendLine(IrqLine(irq, gic.IsV3 ? $"0x{irq.Router:x}" : $"0x{irq.Targets:x2}"));
        foreach (var v in vm.VcpuSnapshot)
            foreach (var irq in v.Gic.Private)
                if (irq.Enabled || irq.Pending || irq.Active)
                    sb.AppendLine(IrqLine(irq, $"vcpu {v.VcpuId}"));
        return sb.ToString();
    }

    private static string IrqLine(VgicIrq irq, string route) =>
        $"{irq.Intid,-6} {B(irq.Enabled)}  {B(irq.Pending)}    {B(irq.Active)}   0x{irq.Priority:x2}  {(irq.Edge ? "edge " : "level")}  {(irq.Group ? 1 : 0)}      {route}";

    private static char B(bool b) => b ? '1' : '0';

    public static string VcpuRegs(Vcpu vcpu)
    {
        var c = vcpu.Core;
        var sb = new StringBuilder();
        for (int i = 0; i < 31; i++) sb.AppendLine($"x{i,-2} 0x{c.X(i):x16}");
        sb.AppendLine($"sp  0x{c.Sp:x16}");
        sb.AppendLine($"pc  0x{c.Pc:x16}");
        sb.AppendLine($"pstate 0x{c.Pstate:x8} ({PstateMode(c.Pstate)})");
        sb.AppendLine($"sp_el1 0x{c.SpEl1:x16}");
        sb.AppendLine($"elr_el1 0x{c.ElrEl1:x16}");
        sb.AppendLine($"spsr_el1 0x{c.Spsr(0):x16}");
        sb.AppendLine($"fpsr 0x{c.Fpsr:x8} fpcr 0x{c.Fpcr:x8}");
        return sb.ToString();
    }

    private static string PstateMode(ulong p) => (p & 0x1f) switch
    {
        0x0 => "EL0t", 0x4 => "EL1t", 0x5 => "EL1h", 0x8 => "EL2t", 0x9 => "EL2h", _ => "other",
    } + ((p & 0x3c0) == 0x3c0 ? ", DAIF masked" : "");

    public static string VcpuSysregs(Vcpu vcpu)
    {
        var sb = new StringBuilder();
        foreach (var r in SystemRegisterTable.Invariants) sb.AppendLine($"{r.Name,-20} 0x{vcpu.ReadSysReg(r):x16}");
        foreach (var r in SystemRegisterTable.Table) if (vcpu.Visible(r)) sb.AppendLine($"{r.Name,-20} 0x{vcpu.ReadSysReg(r):x16}");
        sb.AppendLine($"{"CNTV_CTL_EL0",-20} 0x{vcpu.CntvCtl:x16}");
        sb.AppendLine($"{"CNTV_CVAL_EL0",-20} 0x{vcpu.CntvCval:x16}");
        return sb.ToString();
    }

    public static string VcpuStats(Vcpu vcpu)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"vcpu_id {vcpu.VcpuId}, index {vcpu.Index}, mpidr 0x{vcpu.Mpidr:x}");
        sb.AppendLine($"initialized {vcpu.Initialized}, features 0x{vcpu.Features:x}");
        sb.AppendLine($"mp_state {KvmMpStates.Name(vcpu.MpState) ?? vcpu.MpState.ToString()}");
        sb.AppendLine($"kvm_run_calls {Interlocked.Read(ref vcpu.RunCount)}");
        sb.AppendLine($"exits {Interlocked.Read(ref vcpu.ExitCount)}");
        // The binary stats (KVM_GET_STATS_FD), by their KVM names; histograms summed.
        int word = 0;
        foreach (var d in vcpu.Stats.Schema)
        {
            ulong v = 0;
            for (int i = 0; i < d.Size; i++) v += vcpu.Stats.Get(word + i);
            sb.AppendLine($"stat.{d.Name} {v}");
            word += d.Size;
        }
        return sb.ToString();
    }
}
