using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmVgic;

namespace Kvmfs.Kvm.Vgic;

/// <summary>KVM_DEV_TYPE_ARM_VGIC_V2 ("kvm-arm-vgic-v2"): a GICv2 distributor and CPU interface.</summary>
public sealed class VgicV2Device(Vm vm, VgicState gic, int id) : VgicDevice(vm, gic, id)
{
    public override string Name => "kvm-arm-vgic-v2";

    protected override int SetAttr(IoctlCall call, in KvmDeviceAttr attr) => attr.group switch
    {
        KVM_DEV_ARM_VGIC_GRP_DIST_REGS or KVM_DEV_ARM_VGIC_GRP_CPU_REGS => RegsAccess(call, attr, true),
        _ => SetCommon(call, attr),
    };

    protected override int GetAttr(IoctlCall call, in KvmDeviceAttr attr) => attr.group switch
    {
        KVM_DEV_ARM_VGIC_GRP_DIST_REGS or KVM_DEV_ARM_VGIC_GRP_CPU_REGS => RegsAccess(call, attr, false),
        _ => GetCommon(call, attr),
    };

    protected override int HasAttr(in KvmDeviceAttr attr)
    {
        switch (attr.group)
        {
            case KVM_DEV_ARM_VGIC_GRP_ADDR:
                return attr.attr is KVM_VGIC_V2_ADDR_TYPE_DIST or KVM_VGIC_V2_ADDR_TYPE_CPU ? 0 : -Errno.ENXIO;
            case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
            case KVM_DEV_ARM_VGIC_GRP_CPU_REGS:
            {
                if (ParseVcpu(attr) is null) return -Errno.EINVAL;
                var map = attr.group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS ? VgicRegisters.V2Dist : VgicRegisters.V2Cpu;
                return VgicRegisters.Find(map, attr.attr & KVM_DEV_ARM_VGIC_OFFSET_MASK) is null ? -Errno.ENXIO : 0;
            }
            case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
                return 0;
            case KVM_DEV_ARM_VGIC_GRP_CTRL:
                return attr.attr == KVM_DEV_ARM_VGIC_CTRL_INIT ? 0 : -Errno.ENXIO;
            default:
                return -Errno.ENXIO;
        }
    }

    /// <summary>vgic_v2_parse_attr: the CPU id field names a vCPU by its id.</summary>
    private Vcpu? ParseVcpu(in KvmDeviceAttr attr) =>
        Vm.VcpuById((int)((attr.attr & KVM_DEV_ARM_VGIC_CPUID_MASK) >> KVM_DEV_ARM_VGIC_CPUID_SHIFT));

    private int RegsAccess(IoctlCall call, KvmDeviceAttr attr, bool write)
    {
        var vcpu = ParseVcpu(attr);
        if (vcpu is null) return -Errno.EINVAL;
        ulong offset = attr.attr & KVM_DEV_ARM_VGIC_OFFSET_MASK;
        var map = attr.group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS ? VgicRegisters.V2Dist : VgicRegisters.V2Cpu;
        return UserAccess32(call, attr, write, val => (Vm.WithAllVcpusLocked(() =>
        {
            // A GICv2 initializes itself on the first register access (vgic_v2_attr_regs_access).
            int r = Gic.Init();
            if (r < 0) return r;
            return VgicRegisters.Access(map, new VgicRegisters.Context(Gic, vcpu, true), offset, write, ref val);
        }), val));
    }
}
