using Kvmfs.Kvm;
using Kvmfs.Kvm.OneReg;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

/// <summary>The PMUv3 vCPU feature: attributes (pmu-emul.c), registers (sys_regs.c PMU rows), first-run check.</summary>
public class PmuTests
{
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    private readonly ulong _arg;

    public PmuTests()
    {
        _vm = NewVm(_u);
        _arg = _u.Alloc(4096);
    }

    private long Attr(Vcpu v, uint cmd, ulong attr, uint? value = null)
    {
        if (value is { } x) _u.SetU32(_arg, x);
        return With(v, _u, cmd, new KvmDeviceAttr { group = KvmArm.KVM_ARM_VCPU_PMU_V3_CTRL, attr = attr, addr = _arg });
    }

    private long Filter(Vcpu v, ushort first, ushort count, byte action)
    {
        _u.SetU64(_arg, first | ((ulong)count << 16) | ((ulong)action << 32));
        return With(v, _u, KVM_SET_DEVICE_ATTR, new KvmDeviceAttr { group = KvmArm.KVM_ARM_VCPU_PMU_V3_CTRL, attr = KvmArm.KVM_ARM_VCPU_PMU_V3_FILTER, addr = _arg });
    }

    [Fact]
    public void WithoutFeature_HasEnxio_SetEnodev_NoRegisters()
    {
        var v = InitVcpu(_vm, _u, 0);
        Assert.Equal(-ENXIO, Attr(v, KVM_HAS_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT));
        Assert.Equal(-ENODEV, Attr(v, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT));
        Assert.Equal(-ENOENT, GetReg(v, _u, Sys(3, 3, 9, 12, 0), out _)); // PMCR_EL0 hidden
        Assert.DoesNotContain(Sys(3, 3, 14, 15, 7), v.RegisterIds());
        Assert.Equal(0, GetReg(v, _u, Sys(3, 0, 0, 5, 0), out ulong dfr0));
        Assert.Equal(0ul, (dfr0 >> 8) & 0xf);
    }

    [Fact]
    public void WithFeature_AllFourAttributesExist()
    {
        var v = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        foreach (var a in new[] { KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT, KvmArm.KVM_ARM_VCPU_PMU_V3_FILTER, KvmArm.KVM_ARM_VCPU_PMU_V3_SET_PMU })
            Assert.Equal(0, Attr(v, KVM_HAS_DEVICE_ATTR, a));
        Assert.Equal(-ENXIO, Attr(v, KVM_HAS_DEVICE_ATTR, 4));
    }

    [Fact]
    public void RegisterList_HasThePmuSublistOf61()
    {
        var v = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        var plain = InitVcpu(_vm, _u, 1);
        var extra = v.RegisterIds().Except(plain.RegisterIds()).ToList();
        var expected = new List<ulong>
        {
            Sys(3, 0, 9, 14, 1), Sys(3, 0, 9, 14, 2), Sys(3, 3, 9, 12, 0), Sys(3, 3, 9, 12, 1), Sys(3, 3, 9, 12, 2), Sys(3, 3, 9, 12, 3),
            Sys(3, 3, 9, 12, 4), Sys(3, 3, 9, 12, 5), Sys(3, 3, 9, 13, 0), Sys(3, 3, 9, 14, 0), Sys(3, 3, 9, 14, 3),
        };
        for (int crm = 8; crm < 16; crm++)
            for (int op2 = 0; op2 < 8; op2++)
                if (!(crm == 11 && op2 == 7)) expected.Add(Sys(3, 3, 14, crm, op2));
        Assert.Equal(expected, extra);
        // Every listed register reads and takes its own value back (get-reg-list's check).
        foreach (var id in v.RegisterIds().Where(i => (i & KvmReg.KVM_REG_ARM_COPROC_MASK) == KvmReg.KVM_REG_ARM64_SYSREG))
        {
            Assert.Equal(0, GetReg(v, _u, id, out ulong val));
            Assert.Equal(0, SetReg(v, _u, id, val));
        }
    }

    [Fact]
    public void Registers_ResetValues_SharedSetClr_RazWiSwinc()
    {
        var v = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        Assert.Equal(0, GetReg(v, _u, Sys(3, 3, 9, 12, 0), out ulong pmcr));
        Assert.Equal(0ul, pmcr & 1);                      // E resets to 0
        Assert.Equal(1ul << 6, pmcr & (1ul << 6));        // LC: no AArch32 EL0
        Assert.Equal((ulong)SystemRegisterTable.PmuCounters, (pmcr >> 11) & 0x1f);
        Assert.Equal(0, GetReg(v, _u, Sys(3, 3, 14, 15, 7), out ulong ccfiltr));
        Assert.Equal(0ul, ccfiltr);
        Assert.Equal(0, SetReg(v, _u, Sys(3, 0, 9, 14, 2), 0x80000003)); // PMINTENCLR writes PMINTENSET's storage
        Assert.Equal(0, GetReg(v, _u, Sys(3, 0, 9, 14, 1), out ulong inten));
        Assert.Equal(0x80000003ul, inten);
        Assert.Equal(0, SetReg(v, _u, Sys(3, 3, 9, 12, 4), 0xff));       // PMSWINC: write ignored, reads 0
        Assert.Equal(0, GetReg(v, _u, Sys(3, 3, 9, 12, 4), out ulong swinc));
        Assert.Equal(0ul, swinc);
        Assert.Equal(0, GetReg(v, _u, Sys(3, 0, 0, 5, 0), out ulong dfr0));
        Assert.Equal(1ul, (dfr0 >> 8) & 0xf);                             // PMUVer = PMUv3
    }

    [Fact]
    public void NoIrqchip_IrqEinval_InitThenBusy_RunsAfterInit()
    {
        var v = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        Assert.Equal(-EINVAL, Attr(v, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 23));
        Assert.Equal(-EINVAL, Attr(v, KVM_GET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ));
        Assert.Equal(-EINVAL, Io(v, _u, KVM_RUN)); // the feature without INIT: kvm_arm_pmu_v3_enable refuses
        Assert.Equal(0, Attr(v, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT));
        Assert.Equal(-EBUSY, Attr(v, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT));
        Assert.Equal(0, Io(v, _u, KVM_RUN));
    }

    [Fact]
    public void WithIrqchip_IrqRules_AndInitNeedsAnInitializedVgic()
    {
        var v0 = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        var v1 = InitVcpu(_vm, _u, 1, KvmArm.KVM_ARM_VCPU_PMU_V3);
        Assert.Equal(0, Io(_vm, _u, KVM_CREATE_IRQCHIP));
        Assert.Equal(-ENXIO, Attr(v0, KVM_GET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ)); // not set yet
        Assert.Equal(-EINVAL, Attr(v0, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 5));    // an SGI
        Assert.Equal(-EINVAL, Attr(v0, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 1020)); // past the SPIs
        Assert.Equal(0, Attr(v0, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 23));
        Assert.Equal(-EBUSY, Attr(v0, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 23));
        Assert.Equal(-EINVAL, Attr(v1, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 22)); // PPIs must match
        Assert.Equal(0, Attr(v1, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 23));
        Assert.Equal(0, Attr(v1, KVM_GET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ));
        Assert.Equal(23u, _u.U32At(_arg));
        Assert.Equal(-ENODEV, Attr(v0, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT)); // vGIC not initialized
    }

    [Fact]
    public void SpiMustDifferPerVcpu()
    {
        var v0 = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        var v1 = InitVcpu(_vm, _u, 1, KvmArm.KVM_ARM_VCPU_PMU_V3);
        Assert.Equal(0, Io(_vm, _u, KVM_CREATE_IRQCHIP));
        Assert.Equal(0, Attr(v0, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 40));
        Assert.Equal(-EINVAL, Attr(v1, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 40));
        Assert.Equal(0, Attr(v1, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_IRQ, 41));
    }

    [Fact]
    public void Filter_FirstActionSetsTheDefault_RangeChecked()
    {
        var v = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        Assert.True(Pmu.EventAllowed(_vm, 0x11));
        Assert.Equal(-EINVAL, Filter(v, 1000, 100, KvmArm.KVM_PMU_EVENT_ALLOW)); // past 1024 events
        Assert.Equal(-EINVAL, Filter(v, 0, 1, 7));
        Assert.Equal(0, Filter(v, 0x10, 2, KvmArm.KVM_PMU_EVENT_ALLOW));
        Assert.True(Pmu.EventAllowed(_vm, 0x11));
        Assert.False(Pmu.EventAllowed(_vm, 0x12)); // allowing first makes the rest denied
        Assert.Equal(0, Filter(v, 0x11, 1, KvmArm.KVM_PMU_EVENT_DENY));
        Assert.False(Pmu.EventAllowed(_vm, 0x11));
        Assert.True(Pmu.EventAllowed(_vm, 0x10));
    }

    [Fact]
    public void SetPmu_OnlyTheHostPmu()
    {
        var v = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PMU_V3);
        Assert.Equal(-ENXIO, Attr(v, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_SET_PMU, 3));
        Assert.Equal(0, Attr(v, KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_SET_PMU, Pmu.HostPmuType));
    }

    [Fact]
    public void SystemSuspend_EnableCap()
    {
        Assert.False(_vm.SystemSuspendEnabled);
        Assert.Equal(-EINVAL, With(_vm, _u, KVM_ENABLE_CAP, new KvmEnableCap { cap = KvmCaps.KVM_CAP_ARM_SYSTEM_SUSPEND, flags = 1 }));
        Assert.Equal(0, With(_vm, _u, KVM_ENABLE_CAP, new KvmEnableCap { cap = KvmCaps.KVM_CAP_ARM_SYSTEM_SUSPEND }));
        Assert.True(_vm.SystemSuspendEnabled);
        Assert.Equal(-EINVAL, With(_vm, _u, KVM_ENABLE_CAP, new KvmEnableCap { cap = KvmCaps.KVM_CAP_ARM_EL1_32BIT }));
    }
}
