using System.Runtime.InteropServices;
using Kvmfs.Kvm.Core;
using Kvmfs.Kvm.Vgic;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>
/// The PMUv3 of a vCPU as KVM configures it (arch/arm64/kvm/pmu-emul.c of Linux 6.1): the
/// KVM_ARM_VCPU_PMU_V3 feature, then the vCPU attributes KVM_ARM_VCPU_PMU_V3_CTRL (IRQ, FILTER,
/// SET_PMU, INIT) and the check at the first KVM_RUN. The registers are rows of the system
/// register table visible only with the feature; counting events is the CPU emulator's part.
/// </summary>
public static class Pmu
{
    /// <summary>
    /// The perf type id of the one host PMU this KVM offers (KVM_ARM_VCPU_PMU_V3_SET_PMU takes
    /// arm_pmu->pmu.type). Dynamic perf PMU types start after PERF_TYPE_MAX (6); an arm64 host's
    /// armv8_pmuv3 commonly gets 8, and ours answers to that number only.
    /// </summary>
    public const int HostPmuType = 8;
    /// <summary>kvm_pmu_event_mask for PMUv3 (ID_AA64DFR0_EL1.PMUVer = 1): 10-bit event numbers.</summary>
    public const int EventCount = 1 << 10;
    private const int NrSgis = 16, MaxSpi = 1019;

    private static bool IsPpi(int irq) => irq >= NrSgis && irq < Distributor.NrPrivateIrqs;
    private static bool IsSpi(int irq) => irq >= Distributor.NrPrivateIrqs && irq <= MaxSpi;

    /// <summary>kvm_arm_pmu_v3_{has,get,set}_attr. Returns 0 or -errno.</summary>
    public static int Attr(Vcpu vcpu, uint command, in KvmDeviceAttr attr, IUserAccess user)
    {
        var vm = vcpu.Vm;
        if (command == KvmIoctls.KVM_HAS_DEVICE_ATTR)
        {
            bool known = attr.attr is KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ or KvmArm.KVM_ARM_VCPU_PMU_V3_INIT
                or KvmArm.KVM_ARM_VCPU_PMU_V3_FILTER or KvmArm.KVM_ARM_VCPU_PMU_V3_SET_PMU;
            return known && vcpu.HasPmu ? 0 : -Errno.ENXIO;
        }
        Span<byte> b = stackalloc byte[8];
        if (command == KvmIoctls.KVM_GET_DEVICE_ATTR)
        {
            if (attr.attr != KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ) return -Errno.ENXIO;
            if (vm.Vgic is null) return -Errno.EINVAL;
            if (!vcpu.HasPmu) return -Errno.ENODEV;
            if (vcpu.PmuIrq < NrSgis) return -Errno.ENXIO;
            MemoryMarshal.Write(b, vcpu.PmuIrq);
            return user.CopyToUser(attr.addr, b[..4]) == 0 ? 0 : -Errno.EFAULT;
        }

        // KVM_SET_DEVICE_ATTR, under kvm->arch.config_lock.
        lock (vm.Lock)
        {
            if (!vcpu.HasPmu) return -Errno.ENODEV;
            if (vcpu.PmuCreated) return -Errno.EBUSY;
            switch (attr.attr)
            {
                case KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ:
                {
                    if (vm.Vgic is null) return -Errno.EINVAL;
                    if (user.CopyFromUser(attr.addr, b[..4]) != 0) return -Errno.EFAULT;
                    int irq = MemoryMarshal.Read<int>(b);
                    if (!IsPpi(irq) && !IsSpi(irq)) return -Errno.EINVAL;
                    if (!IrqIsValid(vm, irq)) return -Errno.EINVAL;
                    if (vcpu.PmuIrq >= NrSgis) return -Errno.EBUSY;
                    vcpu.PmuIrq = irq;
                    return 0;
                }
                case KvmArm.KVM_ARM_VCPU_PMU_V3_FILTER:
                {
                    if (user.CopyFromUser(attr.addr, b[..Marshal.SizeOf<KvmPmuEventFilter>()]) != 0) return -Errno.EFAULT;
                    var f = MemoryMarshal.Read<KvmPmuEventFilter>(b);
                    if (f.base_event + f.nevents > EventCount) return -Errno.EINVAL;
                    if (f.action != KvmArm.KVM_PMU_EVENT_ALLOW && f.action != KvmArm.KVM_PMU_EVENT_DENY) return -Errno.EINVAL;
                    if (vm.HasRanOnce) return -Errno.EBUSY;
                    // The first filter sets the default: allowing some events denies the rest, and the reverse.
                    vm.PmuFilter ??= NewFilter(allowAll: f.action == KvmArm.KVM_PMU_EVENT_DENY);
                    for (int e = f.base_event; e < f.base_event + f.nevents; e++)
                    {
                        if (f.action == KvmArm.KVM_PMU_EVENT_ALLOW) vm.PmuFilter[e / 64] |= 1ul << (e % 64);
                        else vm.PmuFilter[e / 64] &= ~(1ul << (e % 64));
                    }
                    return 0;
                }
                case KvmArm.KVM_ARM_VCPU_PMU_V3_SET_PMU:
                {
                    if (user.CopyFromUser(attr.addr, b[..4]) != 0) return -Errno.EFAULT;
                    int id = MemoryMarshal.Read<int>(b);
                    if (id != HostPmuType) return -Errno.ENXIO;
                    // Our one PMU is also the default, so a filter never conflicts with it.
                    if (vm.HasRanOnce) return -Errno.EBUSY;
                    return 0;
                }
                case KvmArm.KVM_ARM_VCPU_PMU_V3_INIT:
                    if (vm.Vgic is not null)
                    {
                        if (!vm.Vgic.Initialized) return -Errno.ENODEV;
                        if (vcpu.PmuIrq < NrSgis) return -Errno.ENXIO;
                    }
                    vcpu.PmuCreated = true;
                    return 0;
                default:
                    return -Errno.ENXIO;
            }
        }
    }

    /// <summary>pmu_irq_is_valid: a PPI must be the same on every vCPU, an SPI different on each.</summary>
    private static bool IrqIsValid(Vm vm, int irq)
    {
        foreach (var v in vm.VcpuSnapshot)
        {
            if (v.PmuIrq < NrSgis) continue;
            if (IsPpi(irq) ? v.PmuIrq != irq : v.PmuIrq == irq) return false;
        }
        return true;
    }

    private static ulong[] NewFilter(bool allowAll)
    {
        var f = new ulong[EventCount / 64];
        if (allowAll) Array.Fill(f, ulong.MaxValue);
        return f;
    }

    /// <summary>Whether the VM's event filter lets the guest count <paramref name="eventNumber"/> (no filter: all).</summary>
    public static bool EventAllowed(Vm vm, int eventNumber)
    {
        var f = vm.PmuFilter;
        if (f is null) return true;
        eventNumber &= EventCount - 1;
        return (f[eventNumber / 64] & (1ul << (eventNumber % 64))) != 0;
    }

    /// <summary>kvm_arm_pmu_v3_enable at the first KVM_RUN. Returns 0 or -errno.</summary>
    public static int Enable(Vcpu vcpu, out string why)
    {
        why = "";
        if (!vcpu.HasPmu) return 0;
        if (!vcpu.PmuCreated) { why = "PMUv3 feature without KVM_ARM_VCPU_PMU_V3_INIT"; return -Errno.EINVAL; }
        var gic = vcpu.Vm.Vgic;
        if (gic is not null)
        {
            int irq = vcpu.PmuIrq;
            if (!IsPpi(irq) && !(IsSpi(irq) && irq < Distributor.NrPrivateIrqs + gic.NrSpis))
            { why = $"PMU interrupt {irq} is neither a PPI nor an SPI of the vGIC"; return -Errno.EINVAL; }
        }
        else if (vcpu.PmuIrq >= NrSgis) { why = "PMU interrupt set without an in-kernel irqchip"; return -Errno.EINVAL; }
        return 0;
    }
}
