using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmVgic;

namespace Kvmfs.Kvm.Vgic;

/// <summary>
/// The fd KVM_CREATE_DEVICE returns for a vGIC: device attributes for placement, sizing,
/// initialization and the register state user space saves and restores.
/// </summary>
public abstract class VgicDevice : KvmFile
{
    protected VgicDevice(Vm vm, VgicState gic, int id) { Vm = vm; Gic = gic; Id = id; }

    public Vm Vm { get; }
    public VgicState Gic { get; }
    public override string Kind => "device";
    public override int Id { get; }
    protected override KvmFd FdKind => KvmFd.Device;
    public abstract string Name { get; }

    public override IoctlResult Ioctl(IoctlCall call)
    {
        var attr = Read<KvmDeviceAttr>(call);
        int r;
        switch (call.Command)
        {
            case KvmIoctls.KVM_SET_DEVICE_ATTR: r = SetAttr(call, attr); break;
            case KvmIoctls.KVM_GET_DEVICE_ATTR: r = GetAttr(call, attr); break;
            case KvmIoctls.KVM_HAS_DEVICE_ATTR: r = HasAttr(attr); break;
            default: return Fail(call, Errno.ENOTTY, "unknown device ioctl");
        }
        return r < 0 ? Fail(call, -r, $"group {KvmVgic.GroupName(attr.group) ?? attr.group.ToString()} attr 0x{attr.attr:x}") : IoctlResult.Ok(r);
    }

    public override void Release() => Vm.Put();

    protected abstract int SetAttr(IoctlCall call, in KvmDeviceAttr attr);
    protected abstract int GetAttr(IoctlCall call, in KvmDeviceAttr attr);
    protected abstract int HasAttr(in KvmDeviceAttr attr);

    /// <summary>kvm_vgic_addr: GRP_ADDR reads and writes. Errors as KVM (ENODEV becomes ENXIO).</summary>
    protected int AccessAddr(IoctlCall call, in KvmDeviceAttr attr, bool write)
    {
        ulong addr = 0;
        if (write || attr.attr == KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION)
            if (CopyU64FromUser(call, attr.addr, out addr) < 0) return -Errno.EFAULT;
        lock (Vm.Lock)
        {
            switch (attr.attr)
            {
                case KVM_VGIC_V2_ADDR_TYPE_DIST when !Gic.IsV3:
                    return AddrField(call, attr, write, ref Gic.DistBase, addr, 0x1000, KVM_VGIC_V2_DIST_SIZE);
                case KVM_VGIC_V2_ADDR_TYPE_CPU when !Gic.IsV3:
                    return AddrField(call, attr, write, ref Gic.CpuBase, addr, 0x1000, KVM_VGIC_V2_CPU_SIZE);
                case KVM_VGIC_V3_ADDR_TYPE_DIST when Gic.IsV3:
                    return AddrField(call, attr, write, ref Gic.DistBase, addr, 0x10000, KVM_VGIC_V3_DIST_SIZE);
                case KVM_VGIC_V3_ADDR_TYPE_REDIST when Gic.IsV3:
                    if (write) return Gic.AddRedistRegion(0, addr, 0);
                    return CopyU64ToUser(call, attr.addr, Gic.RedistRegions.Count == 0 ? VgicState.AddrUndef : Gic.RedistRegions[0].Base);
                case KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION when Gic.IsV3:
                {
                    int index = (int)(addr & KvmVgic.KVM_VGIC_V3_RDIST_INDEX_MASK);
                    if (write)
                    {
                        uint count = (uint)(addr >> KvmVgic.KVM_VGIC_V3_RDIST_COUNT_SHIFT);
                        ulong flags = (addr & KvmVgic.KVM_VGIC_V3_RDIST_FLAGS_MASK) >> 12;
                        if (count == 0 || flags != 0) return -Errno.EINVAL;
                        return Gic.AddRedistRegion(index, addr & KvmVgic.KVM_VGIC_V3_RDIST_BASE_MASK, count);
                    }
                    var region = Gic.RedistRegions.Find(r => r.Index == index);
                    if (region is null) return -Errno.ENOENT;
                    return CopyU64ToUser(call, attr.addr, (ulong)(uint)index | region.Base | ((ulong)region.Count << KvmVgic.KVM_VGIC_V3_RDIST_COUNT_SHIFT));
                }
                default:
                    return -Errno.ENXIO;
            }
        }
    }

    private int AddrField(IoctlCall call, in KvmDeviceAttr attr, bool write, ref ulong field, ulong addr, ulong align, ulong size)
    {
        if (!write) return CopyU64ToUser(call, attr.addr, field);
        int r = Gic.CheckIoRange(field, addr, align, size);
        if (r == 0) field = addr;
        return r;
    }

    /// <summary>The attributes both GIC models share: ADDR, NR_IRQS, CTRL_INIT.</summary>
    protected int SetCommon(IoctlCall call, in KvmDeviceAttr attr)
    {
        switch (attr.group)
        {
            case KVM_DEV_ARM_VGIC_GRP_ADDR:
                return AccessAddr(call, attr, true);
            case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
            {
                if (CopyU32FromUser(call, attr.addr, out uint val) < 0) return -Errno.EFAULT;
                if (val < Distributor.NrPrivateIrqs + 32 || val > Distributor.MaxReserved || (val & 31) != 0) return -Errno.EINVAL;
                lock (Vm.Lock)
                {
                    if (Gic.Initialized || Gic.NrSpis != 0) return -Errno.EBUSY;
                    Gic.NrSpis = (int)val - Distributor.NrPrivateIrqs;
                }
                return 0;
            }
            case KVM_DEV_ARM_VGIC_GRP_CTRL:
                if (attr.attr == KVM_DEV_ARM_VGIC_CTRL_INIT) { lock (Vm.Lock) return Gic.Init(); }
                if (attr.attr == KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES && Gic.IsV3)
                    return 0; // no LPIs, so there are no pending tables to write
                return -Errno.ENXIO;
            default:
                return -Errno.ENXIO;
        }
    }

    protected int GetCommon(IoctlCall call, in KvmDeviceAttr attr)
    {
        switch (attr.group)
        {
            case KVM_DEV_ARM_VGIC_GRP_ADDR:
                return AccessAddr(call, attr, false);
            case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
                return CopyU32ToUser(call, attr.addr, (uint)(Gic.NrSpis + Distributor.NrPrivateIrqs));
            default:
                return -Errno.ENXIO;
        }
    }

    protected int UserAccess32(IoctlCall call, in KvmDeviceAttr attr, bool write, Func<uint, (int Ret, uint Value)> access)
    {
        uint val = 0;
        if (write && CopyU32FromUser(call, attr.addr, out val) < 0) return -Errno.EFAULT;
        var (ret, outVal) = access(val);
        if (ret == 0 && !write) return CopyU32ToUser(call, attr.addr, outVal);
        return ret;
    }
}
