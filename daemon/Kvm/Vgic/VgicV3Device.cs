using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmVgic;

namespace Kvmfs.Kvm.Vgic;

/// <summary>KVM_DEV_TYPE_ARM_VGIC_V3 ("kvm-arm-vgic-v3"): distributor, redistributors, ICC system registers.</summary>
public sealed class VgicV3Device(Vm vm, VgicState gic, int id) : VgicDevice(vm, gic, id)
{
    public override string Name => "kvm-arm-vgic-v3";

    /// <summary>Priority bits of the virtual CPU interface (ICH_VTR_EL2.PRIbits + 1), as common GICv3 hosts.</summary>
    public const int PriorityBits = 5;
    /// <summary>Interrupt id bits: 16 (ICC_CTLR_EL1.IDbits = 0).</summary>
    private const int IdBitsField = 0;

    protected override int SetAttr(IoctlCall call, in KvmDeviceAttr attr) => IsRegGroup(attr.group) ? RegsAccess(call, attr, true) : SetCommon(call, attr);
    protected override int GetAttr(IoctlCall call, in KvmDeviceAttr attr) => IsRegGroup(attr.group) ? RegsAccess(call, attr, false) : GetCommon(call, attr);

    private static bool IsRegGroup(uint g) => g is KVM_DEV_ARM_VGIC_GRP_DIST_REGS or KVM_DEV_ARM_VGIC_GRP_REDIST_REGS
        or KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS or KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO;

    protected override int HasAttr(in KvmDeviceAttr attr)
    {
        switch (attr.group)
        {
            case KVM_DEV_ARM_VGIC_GRP_ADDR:
                return attr.attr is KVM_VGIC_V3_ADDR_TYPE_DIST or KVM_VGIC_V3_ADDR_TYPE_REDIST or KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION ? 0 : -Errno.ENXIO;
            case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
            case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
            {
                if (ParseVcpu(attr) is null) return -Errno.EINVAL;
                var map = attr.group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS ? VgicRegisters.V3Dist : VgicRegisters.V3Redist;
                return VgicRegisters.Find(map, attr.attr & KVM_DEV_ARM_VGIC_OFFSET_MASK) is null ? -Errno.ENXIO : 0;
            }
            case KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS:
                if (ParseVcpu(attr) is null) return -Errno.EINVAL;
                return FindIcc(attr.attr & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK) is null ? -Errno.ENXIO : 0;
            case KVM_DEV_ARM_VGIC_GRP_NR_IRQS:
                return 0;
            case KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO:
                return ((attr.attr & KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK) >> KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT) == VGIC_LEVEL_INFO_LINE_LEVEL ? 0 : -Errno.ENXIO;
            case KVM_DEV_ARM_VGIC_GRP_CTRL:
                return attr.attr is KVM_DEV_ARM_VGIC_CTRL_INIT or KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES ? 0 : -Errno.ENXIO;
            default:
                return -Errno.ENXIO;
        }
    }

    /// <summary>vgic_v3_parse_attr: DIST_REGS go through vCPU 0; the others name a vCPU by MPIDR affinity.</summary>
    private Vcpu? ParseVcpu(in KvmDeviceAttr attr)
    {
        if (attr.group == KVM_DEV_ARM_VGIC_GRP_DIST_REGS) return Vm.VcpuByIndex(0);
        ulong v = (attr.attr & KVM_DEV_ARM_VGIC_V3_MPIDR_MASK) >> KVM_DEV_ARM_VGIC_V3_MPIDR_SHIFT;
        // VGIC_TO_MPIDR: Aff3 sits in bits 31:24 of the attribute, 39:32 of MPIDR.
        ulong mpidr = (v & 0xffffff) | ((v >> 24 & 0xff) << 32);
        return Vm.VcpuByMpidr(mpidr);
    }

    private int RegsAccess(IoctlCall call, KvmDeviceAttr attr, bool write)
    {
        var vcpu = ParseVcpu(attr);
        if (vcpu is null) return -Errno.EINVAL;
        ulong offset = attr.attr & KVM_DEV_ARM_VGIC_OFFSET_MASK;

        if (attr.group == KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS)
        {
            ulong value = 0;
            if (write && CopyU64FromUser(call, attr.addr, out value) < 0) return -Errno.EFAULT;
            int r = Vm.WithAllVcpusLocked(() => Gic.Initialized ? AccessIcc(vcpu.Gic, attr.attr & KVM_DEV_ARM_VGIC_SYSREG_INSTR_MASK, write, ref value) : -Errno.EBUSY);
            return r == 0 && !write ? CopyU64ToUser(call, attr.addr, value) : r;
        }

        return UserAccess32(call, attr, write, val => (Vm.WithAllVcpusLocked(() =>
        {
            if (!Gic.Initialized) return -Errno.EBUSY; // a GICv3 must be initialized by CTRL_INIT first
            var ctx = new VgicRegisters.Context(Gic, vcpu, false);
            switch (attr.group)
            {
                case KVM_DEV_ARM_VGIC_GRP_DIST_REGS:
                    return VgicRegisters.Access(VgicRegisters.V3Dist, ctx, offset, write, ref val) == -Errno.ENXIO ? -Errno.ENXIO : 0;
                case KVM_DEV_ARM_VGIC_GRP_REDIST_REGS:
                    return VgicRegisters.Access(VgicRegisters.V3Redist, ctx, offset, write, ref val);
                default:
                    return LevelInfo(vcpu, attr.attr, write, ref val);
            }
        }), val));
    }

    /// <summary>LEVEL_INFO: the input line levels of 32 level-triggered interrupts from a multiple of 32.</summary>
    private int LevelInfo(Vcpu vcpu, ulong a, bool write, ref uint val)
    {
        ulong info = (a & KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_MASK) >> KVM_DEV_ARM_VGIC_LINE_LEVEL_INFO_SHIFT;
        if (info != VGIC_LEVEL_INFO_LINE_LEVEL) return -Errno.EINVAL;
        int intid = (int)(a & KVM_DEV_ARM_VGIC_LINE_LEVEL_INTID_MASK);
        if (intid % 32 != 0) return -Errno.EINVAL;
        uint result = 0;
        for (int i = 0; i < 32; i++)
        {
            int id = intid + i;
            VgicIrq? irq = id < Distributor.NrPrivateIrqs ? (id >= Distributor.NrSgis ? vcpu.Gic.Private[id] : null) : Gic.Distributor!.Spi(id);
            if (irq is null || irq.Edge) continue;
            if (write) irq.LineLevel = (val >> i & 1) != 0;
            else if (irq.LineLevel) result |= 1u << i;
        }
        if (!write) val = result;
        return 0;
    }

    private enum Icc { Pmr, Bpr0, Ap0r, Ap1r, Bpr1, Ctlr, Sre, Igrpen0, Igrpen1 }

    /// <summary>The ICC_*_EL1 registers user space saves (vgic-sys-reg-v3.c), by op0:op1:CRn:CRm:op2.</summary>
    private static readonly (ulong Encoding, Icc Reg, int Index)[] IccTable =
    [
        (OneRegId.SysRegIndex(3, 0, 4, 6, 0), Icc.Pmr, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 8, 3), Icc.Bpr0, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 8, 4), Icc.Ap0r, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 8, 5), Icc.Ap0r, 1),
        (OneRegId.SysRegIndex(3, 0, 12, 8, 6), Icc.Ap0r, 2),
        (OneRegId.SysRegIndex(3, 0, 12, 8, 7), Icc.Ap0r, 3),
        (OneRegId.SysRegIndex(3, 0, 12, 9, 0), Icc.Ap1r, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 9, 1), Icc.Ap1r, 1),
        (OneRegId.SysRegIndex(3, 0, 12, 9, 2), Icc.Ap1r, 2),
        (OneRegId.SysRegIndex(3, 0, 12, 9, 3), Icc.Ap1r, 3),
        (OneRegId.SysRegIndex(3, 0, 12, 12, 3), Icc.Bpr1, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 12, 4), Icc.Ctlr, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 12, 5), Icc.Sre, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 12, 6), Icc.Igrpen0, 0),
        (OneRegId.SysRegIndex(3, 0, 12, 12, 7), Icc.Igrpen1, 0),
    ];

    private static (ulong Encoding, Icc Reg, int Index)? FindIcc(ulong encoding)
    {
        foreach (var e in IccTable) if (e.Encoding == encoding) return e;
        return null;
    }

    /// <summary>With five priority bits only AP0R0/AP1R0 exist (vgic_v3_max_apr_idx).</summary>
    private const int MaxAprIndex = 0;

    private static int AccessIcc(VgicCpu cpu, ulong encoding, bool write, ref ulong value)
    {
        var e = FindIcc(encoding);
        if (e is null) return -Errno.ENXIO;
        var (_, reg, index) = e.Value;
        switch (reg)
        {
            case Icc.Pmr: if (write) cpu.IccPmr = value & 0xF8; else value = cpu.IccPmr; return 0;
            case Icc.Bpr0: if (write) cpu.IccBpr0 = value & 7; else value = cpu.IccBpr0; return 0;
            case Icc.Bpr1: if (write) cpu.IccBpr1 = value & 7; else value = cpu.IccBpr1; return 0;
            case Icc.Igrpen0: if (write) cpu.IccIgrpen0 = (value & 1) != 0; else value = cpu.IccIgrpen0 ? 1ul : 0; return 0;
            case Icc.Igrpen1: if (write) cpu.IccIgrpen1 = (value & 1) != 0; else value = cpu.IccIgrpen1 ? 1ul : 0; return 0;
            case Icc.Ap0r:
            case Icc.Ap1r:
            {
                if (index > MaxAprIndex) return -Errno.EINVAL;
                var regs = reg == Icc.Ap0r ? cpu.IccAp0r : cpu.IccAp1r;
                if (write) regs[index] = value & 0xffffffff; else value = regs[index];
                return 0;
            }
            case Icc.Sre:
                // SRE, DFB and DIB are fixed to one: the guest must use the system register interface.
                if (write) return (value & 1) == 0 ? -Errno.EINVAL : 0;
                value = 7;
                return 0;
            case Icc.Ctlr:
            {
                const ulong a3v = 1ul << 15;
                ulong fixedBits = ((ulong)(PriorityBits - 1) << 8) | ((ulong)IdBitsField << 11) | a3v;
                if (!write) { value = fixedBits | (cpu.IccCbpr ? 1ul : 0) | (cpu.IccEoiMode ? 2ul : 0); return 0; }
                // set_gic_ctlr: PRIbits and IDbits may not exceed ours, SEIS and A3V must match.
                if (((value >> 8) & 7) + 1 > PriorityBits) return -Errno.EINVAL;
                if (((value >> 11) & 7) > IdBitsField) return -Errno.EINVAL;
                if ((value & (1ul << 14)) != 0) return -Errno.EINVAL;
                if ((value & a3v) == 0) return -Errno.EINVAL;
                cpu.IccCbpr = (value & 1) != 0;
                cpu.IccEoiMode = (value & 2) != 0;
                return 0;
            }
        }
        return -Errno.ENXIO;
    }
}
