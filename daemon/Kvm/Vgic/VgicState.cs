using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm.Vgic;

/// <summary>
/// A GICv3 redistributor region: index, base, how many redistributors it holds (0: the legacy
/// single region, sized by the vCPU count), and how many are handed out to vCPUs so far.
/// </summary>
public sealed class RedistRegion(int index, ulong baseAddr, uint count)
{
    public int Index { get; } = index;
    public ulong Base { get; } = baseAddr;
    public uint Count { get; } = count;
    public int FreeIndex { get; internal set; }
    public bool Full => Count != 0 && FreeIndex >= Count;
}

/// <summary>
/// The in-kernel irqchip of one VM (struct vgic_dist's configuration): which GIC model, where
/// the guest sees it, how many interrupts, whether it is initialized, and the distributor.
/// Everything here changes under the VM lock.
/// </summary>
public sealed class VgicState(Vm vm, uint model)
{
    public const ulong AddrUndef = ulong.MaxValue;

    public Vm Vm { get; } = vm;
    public uint Model { get; } = model;
    public bool IsV3 => Model == KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3;
    public ulong DistBase = AddrUndef;
    public ulong CpuBase = AddrUndef;
    public List<RedistRegion> RedistRegions { get; } = [];
    /// <summary>SPIs requested through NR_IRQS (0: not set yet).</summary>
    public int NrSpis;
    public bool Initialized => Distributor is not null;
    public Distributor? Distributor { get; private set; }
    public int VcpuCount => Vm.VcpuCount;
    /// <summary>A vITS exists: LPIs are supported (GICD_TYPER.LPIS, GICR_TYPER.PLPIS).</summary>
    public bool HasIts => Vm.Its.Count != 0;

    /// <summary>vgic_init: freezes the interrupt count and gives private interrupts their model defaults.</summary>
    public int Init()
    {
        if (Initialized) return 0;
        if (Vm.CreatingVcpus) return -Errno.EBUSY;
        if (NrSpis == 0) NrSpis = Distributor.NrIrqsLegacy - Distributor.NrPrivateIrqs;
        var dist = new Distributor(NrSpis) { ImplementationRev = 3 };
        foreach (var vcpu in Vm.VcpuSnapshot)
        {
            foreach (var irq in vcpu.Gic.Private)
            {
                irq.Group = IsV3; // GICv3 guests use group 1, GICv2 guests group 0
                if (!IsV3) irq.Targets = (byte)(1 << (vcpu.Index & 7));
            }
        }
        Distributor = dist;
        Vm.RoutingSetDefault(NrSpis);
        return 0;
    }

    /// <summary>vgic_check_iorange: where a GIC frame may be placed.</summary>
    public int CheckIoRange(ulong current, ulong addr, ulong alignment, ulong size)
    {
        if (current != AddrUndef) return -Errno.EEXIST;
        if ((addr & (alignment - 1)) != 0 || (size & (alignment - 1)) != 0) return -Errno.EINVAL;
        if (addr + size < addr) return -Errno.EINVAL;
        ulong ipaSize = 1ul << Vm.IpaBits;
        if (addr >= ipaSize || addr + size > ipaSize) return -Errno.E2BIG;
        return 0;
    }

    /// <summary>vgic_v3_rd_region_size: a legacy region holds one redistributor per vCPU.</summary>
    public ulong RegionSize(RedistRegion r) => (r.Count != 0 ? r.Count : (ulong)VcpuCount) * KvmVgic.KVM_VGIC_V3_REDIST_SIZE;

    private bool RedistOverlap(ulong baseAddr, ulong size)
    {
        foreach (var r in RedistRegions)
            if (baseAddr + size > r.Base && baseAddr < r.Base + RegionSize(r)) return true;
        return false;
    }

    /// <summary>vgic_v3_set_redist_base: adds a redistributor region (count 0: the legacy single region), then hands redistributors to the vCPUs.</summary>
    public int AddRedistRegion(int index, ulong baseAddr, uint count)
    {
        ulong size = (count != 0 ? count : (ulong)VcpuCount) * KvmVgic.KVM_VGIC_V3_REDIST_SIZE;
        if (baseAddr + size < baseAddr) return -Errno.EINVAL;
        if (RedistRegions.Count == 0)
        {
            if (index != 0) return -Errno.EINVAL;
        }
        else
        {
            var last = RedistRegions[^1];
            if (count == 0 && last.Count != 0) return -Errno.EINVAL; // do not mix the two styles
            if (count == 0) return -Errno.EEXIST;
            if (index != last.Index + 1) return -Errno.EINVAL;
        }
        if (count == 0 && DistBase != AddrUndef && baseAddr < DistBase + KvmVgic.KVM_VGIC_V3_DIST_SIZE && DistBase < baseAddr + size)
            return -Errno.EINVAL;
        if (RedistOverlap(baseAddr, size)) return -Errno.EINVAL;
        int ret = CheckIoRange(AddrUndef, baseAddr, 0x10000, size);
        if (ret < 0) return ret;
        var region = new RedistRegion(index, baseAddr, count);
        RedistRegions.Add(region);
        foreach (var v in Vm.VcpuSnapshot)
        {
            ret = RegisterRedistributor(v);
            if (ret < 0)
            {
                // As vgic_v3_set_redist_base does: a region whose redistributors cannot be handed out
                // (e.g. it collides with the distributor) is freed again, so it does not block the
                // next index. vCPUs placed in it (none: CheckBase fails before the first) go back.
                RedistRegions.Remove(region);
                foreach (var w in Vm.VcpuSnapshot)
                    if (w.Gic.RdRegion == region) { w.Gic.RdRegion = null; w.Gic.RdIndex = 0; }
                return ret;
            }
        }
        return 0;
    }

    /// <summary>vgic_register_redist_iodev: gives the vCPU the next free redistributor, if any region has one.</summary>
    public int RegisterRedistributor(Vcpu vcpu)
    {
        var cpu = vcpu.Gic;
        if (cpu.RdRegion is not null) return 0;
        var region = RedistRegions.Find(r => !r.Full);
        if (region is null) return 0; // placed later, when a region arrives
        if (!CheckBase()) return -Errno.EINVAL;
        cpu.RdRegion = region;
        cpu.RdIndex = region.FreeIndex++;
        return 0;
    }

    /// <summary>vgic_v3_check_base: every region inside the IPA space, the distributor clear of them.</summary>
    public bool CheckBase()
    {
        if (DistBase != AddrUndef && DistBase + KvmVgic.KVM_VGIC_V3_DIST_SIZE < DistBase) return false;
        foreach (var r in RedistRegions)
            if (CheckIoRange(AddrUndef, r.Base, 0x10000, RegionSize(r)) < 0) return false;
        if (DistBase == AddrUndef) return true;
        return !RedistOverlap(DistBase, KvmVgic.KVM_VGIC_V3_DIST_SIZE);
    }

    /// <summary>
    /// GICR_TYPER.Last (vgic_mmio_vcpu_rdist_is_last): the vCPU holds the last redistributor
    /// handed out in its region, and no populated region continues right after a full one.
    /// </summary>
    public bool IsLastRedistributor(Vcpu vcpu)
    {
        var r = vcpu.Gic.RdRegion;
        if (r is null) return false;
        int idx = vcpu.Gic.RdIndex;
        if (idx < r.FreeIndex - 1) return false;
        if (r.Count != 0 && idx == r.Count - 1)
        {
            ulong end = r.Base + r.Count * KvmVgic.KVM_VGIC_V3_REDIST_SIZE;
            foreach (var other in RedistRegions)
                if (other.Base == end && other.FreeIndex > 0) return false;
        }
        return true;
    }

    /// <summary>kvm_vgic_inject_irq for KVM_IRQ_LINE and irqfds: records the line level or latches an edge.</summary>
    public int InjectIrq(Vcpu? vcpu, int intid, bool level)
    {
        if (!Initialized)
        {
            // vgic_lazy_init: a GICv2 initializes on first use, a GICv3 must be initialized by user space.
            if (IsV3) return -Errno.EBUSY;
            int r = Init();
            if (r < 0) return r;
        }
        VgicIrq? irq = intid < Distributor.NrPrivateIrqs ? vcpu?.Gic.Private[intid] : Distributor!.Spi(intid);
        if (irq is null) return -Errno.EINVAL;
        lock (irq)
        {
            if (irq.Edge) { if (level) irq.PendingLatch = true; }
            else irq.LineLevel = level;
        }
        return 0;
    }
}
