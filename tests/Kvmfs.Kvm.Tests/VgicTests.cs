using Kvmfs.Kvm;
using Kvmfs.Kvm.Core;
using Kvmfs.Kvm.Vgic;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;
using static Kvmfs.Protocol.Uapi.KvmVgic;

namespace Kvmfs.Kvm.Tests;

public class VgicTests
{
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    private readonly ulong _buf;

    public VgicTests()
    {
        _vm = NewVm(_u);
        _buf = _u.Alloc(4096);
    }

    private (IoctlResult Result, KvmCreateDevice Dev) Create(uint type, uint flags = 0)
    {
        var (r, data) = Call(_vm, _u, KVM_CREATE_DEVICE, 0, Bytes(new KvmCreateDevice { type = type, flags = flags }));
        return (r, From<KvmCreateDevice>(data));
    }

    private VgicDevice NewGic(uint type)
    {
        var (r, _) = Create(type);
        Assert.Equal(0, r.Value);
        Assert.Equal(KvmCreateDevice.FdOffset, r.NewFdOffset);
        return Assert.IsAssignableFrom<VgicDevice>(r.NewObject);
    }

    private long Attr(KvmObject dev, uint cmd, uint group, ulong attr, ulong? value = null, bool u32 = false)
    {
        if (value is { } v) { if (u32) _u.SetU32(_buf, (uint)v); else _u.SetU64(_buf, v); }
        return With(dev, _u, cmd, new KvmDeviceAttr { group = group, attr = attr, addr = _buf });
    }

    [Fact] public void CreateDevice_Test_CreatesNothing() { Assert.Equal(0, Create(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3, KvmDevType.KVM_CREATE_DEVICE_TEST).Result.Value); Assert.Null(_vm.Vgic); }
    [Fact] public void CreateDevice_PvTime_Enodev() => Assert.Equal(-ENODEV, Create(KvmDevType.KVM_DEV_TYPE_ARM_PV_TIME).Result.Value);
    [Fact] public void CreateDevice_Unknown_Enodev() => Assert.Equal(-ENODEV, Create(77).Result.Value);

    [Fact]
    public void CreateDevice_Twice_Eexist()
    {
        NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(-EEXIST, Create(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2).Result.Value);
        Assert.Equal(-EEXIST, Io(_vm, _u, KVM_CREATE_IRQCHIP));
    }

    [Fact]
    public void GicV2_WithNineVcpus_E2big()
    {
        for (int i = 0; i < 9; i++) NewVcpu(_vm, _u, i);
        Assert.Equal(-E2BIG, Create(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2).Result.Value);
    }

    [Fact]
    public void GicV2_LimitsVcpusTo8()
    {
        NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2);
        Assert.Equal(8, Io(_vm, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_MAX_VCPUS));
        Assert.Equal(-EINVAL, Call(_vm, _u, KVM_CREATE_VCPU, 8).Result.Value);
    }

    [Fact]
    public void Addr_SetGet_TwiceEexist_AlignmentEinval_BeyondIpaE2big_WrongModelEnxio()
    {
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x8001000));
        Assert.Equal(-E2BIG, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 1ul << 40));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x8000000));
        Assert.Equal(-EEXIST, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x9000000));
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST));
        Assert.Equal(0x8000000ul, _u.U64At(_buf));
        Assert.Equal(-ENXIO, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, 0x8010000));
        Assert.Equal(-ENXIO, Attr(d, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU));
    }

    [Fact]
    public void RedistRegion_Rules()
    {
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        ulong Region(ulong index, ulong baseAddr, ulong count) => index | baseAddr | (count << 52);
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, Region(0, 0x80a0000, 0)));
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, Region(1, 0x80a0000, 2)));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, Region(0, 0x80a0000, 2)));
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, Region(1, 0x80b0000, 2))); // overlaps
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, 0x9000000)); // mixing styles
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, Region(0, 0, 0)));
        Assert.Equal(Region(0, 0x80a0000, 2), _u.U64At(_buf));
        Assert.Equal(-ENOENT, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, Region(3, 0, 0)));
    }

    [Fact]
    public void NrIrqs_Rules()
    {
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, 32, true));
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, 100, true));
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, 1024, true));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, 288, true));
        Assert.Equal(-EBUSY, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, 320, true));
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0));
        Assert.Equal(288u, _u.U32At(_buf));
    }

    [Fact]
    public void V3_RegsBeforeInit_Ebusy_AfterInit_Work_AndNoMoreVcpus()
    {
        var v = InitVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(-EBUSY, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT));
        Assert.Equal(-EBUSY, Call(_vm, _u, KVM_CREATE_VCPU, 1).Result.Value);
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 4));
        Assert.Equal(7u, _u.U32At(_buf) & 0x1f); // 256 interrupts by default: ITLinesNumber 7
        // ID_AA64PFR0_EL1 does not depend on the VM's vGIC (QEMU copies it from a scratch VM without one).
        Assert.Equal(0, GetReg(v, _u, Sys(3, 0, 0, 4, 0), out var pfr0));
        Assert.Equal(0, SetReg(v, _u, Sys(3, 0, 0, 4, 0), pfr0));
        Assert.Equal(1ul, pfr0 >> 24 & 0xf);
    }

    [Fact]
    public void V3_DistRegisters_EnablePriorityRouter()
    {
        InitVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x104, 0x5, true)); // ISENABLER1: SPIs 32, 34
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x184, 0x1, true)); // ICENABLER1: SPI 32
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x104));
        Assert.Equal(0x4u, _u.U32At(_buf));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x420, 0xffffffff, true)); // IPRIORITYR8: SPIs 32..35
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x420));
        Assert.Equal(0xf8f8f8f8u, _u.U32At(_buf));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x6000 + 8 * 33, 0x0, true));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x6000 + 8 * 33 + 4, 0x0, true));
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x100)); // private interrupts: RAZ at the distributor
        Assert.Equal(0u, _u.U32At(_buf));
        Assert.Equal(-ENXIO, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x5000));
        Assert.Equal(-ENXIO, Attr(d, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x102));
        Assert.True(_vm.Vgic!.Distributor!.Spi(34)!.Enabled);
        Assert.Equal(0xf8, _vm.Vgic.Distributor.Spi(35)!.Priority);
    }

    [Fact]
    public void V3_RedistAndCpuSysregs()
    {
        var v = InitVcpu(_vm, _u, 0);
        InitVcpu(_vm, _u, 1);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        ulong cpu1 = 1ul << 32; // MPIDR affinity 0.0.0.1
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, cpu1 | 0xC));
        Assert.Equal(1u, _u.U32At(_buf)); // GICR_TYPER upper half: Aff0 = 1
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, cpu1 | 0x8));
        Assert.Equal(1u << 8, _u.U32At(_buf)); // processor number 1; no redistributor region yet, so not Last
        Assert.Equal(-EINVAL, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, (5ul << 32) | 0x8)); // no such MPIDR
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, 0x10100, 0xffff, true)); // ISENABLER0 SGIs
        Assert.True(v.Gic.Private[3].Enabled);

        ulong ctlr = 0xC664; // ICC_CTLR_EL1 (3,0,12,12,4)
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, ctlr));
        ulong c = _u.U64At(_buf);
        Assert.Equal(4ul, c >> 8 & 7); // five priority bits
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, ctlr, c | 2));
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, ctlr, c | (7ul << 8)));
        ulong sre = 0xC665;
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, sre, 0));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, sre, 7));
        ulong ap0r1 = 0xC645;
        Assert.Equal(0, Attr(d, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, ap0r1));
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, ap0r1, 0));
        Assert.Equal(-ENXIO, Attr(d, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, 0xC000));
    }

    [Fact]
    public void V3_LevelInfo()
    {
        InitVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, 32, 0x2, true));
        Assert.True(_vm.Vgic!.Distributor!.Spi(33)!.LineLevel);
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, 33, 0, true));
        Assert.Equal(-ENXIO, Attr(d, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, 1ul << 10));
    }

    [Fact]
    public void V2_RegsInitializeOnFirstUse_AndCpuInterface()
    {
        InitVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, 288, true));
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 4));
        Assert.Equal(8u, _u.U32At(_buf));
        Assert.True(_vm.Vgic!.Initialized);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_REGS, 0x04, 0xff, true));
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_REGS, 0x04));
        Assert.Equal(0xf8u, _u.U32At(_buf));
        Assert.Equal(-EINVAL, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CPU_REGS, (3ul << 32) | 0x04));
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0x800)); // ITARGETSR0: own CPU
        Assert.Equal(0x01010101u, _u.U32At(_buf));
        Assert.Equal(-ENXIO, Attr(d, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, 0));
        Assert.Equal(-ENOTTY, Io(d, _u, KVM_RUN));
    }

    [Fact]
    public void LegacyIrqchip_SetDeviceAddr()
    {
        Assert.Equal(0, Io(_vm, _u, KVM_CREATE_IRQCHIP));
        Assert.Equal(0, With(_vm, _u, KVM_ARM_SET_DEVICE_ADDR, new KvmArmDeviceAddr { id = KVM_VGIC_V2_ADDR_TYPE_DIST, addr = 0x8000000 }));
        Assert.Equal(-EEXIST, With(_vm, _u, KVM_ARM_SET_DEVICE_ADDR, new KvmArmDeviceAddr { id = KVM_VGIC_V2_ADDR_TYPE_DIST, addr = 0x9000000 }));
        Assert.Equal(-ENODEV, With(_vm, _u, KVM_ARM_SET_DEVICE_ADDR, new KvmArmDeviceAddr { id = 7, addr = 0x8010000 }));
        Assert.Equal(-ENODEV, With(_vm, _u, KVM_ARM_SET_DEVICE_ADDR, new KvmArmDeviceAddr { id = 1ul << 16, addr = 0x8010000 }));
    }

    [Fact]
    public void IrqLine_WithGic_RecordsLevels()
    {
        InitVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        long Line(uint type, uint vcpu, uint num, uint level) => With(_vm, _u, KVM_IRQ_LINE, new KvmIrqLevel { irq = KvmArm.IrqLine(type, vcpu, num), level = level });
        Assert.Equal(-EBUSY, Line(KvmArm.KVM_ARM_IRQ_TYPE_SPI, 0, 40, 1)); // GICv3 not initialized
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0, Line(KvmArm.KVM_ARM_IRQ_TYPE_SPI, 0, 40, 1));
        Assert.True(_vm.Vgic!.Distributor!.Spi(40)!.LineLevel);
        Assert.Equal(-EINVAL, Line(KvmArm.KVM_ARM_IRQ_TYPE_SPI, 0, 300, 1));
        Assert.Equal(-EINVAL, Line(KvmArm.KVM_ARM_IRQ_TYPE_SPI, 0, 20, 1));
        Assert.Equal(-EINVAL, Line(KvmArm.KVM_ARM_IRQ_TYPE_PPI, 0, 5, 1));
        Assert.Equal(0, Line(KvmArm.KVM_ARM_IRQ_TYPE_PPI, 0, 27, 1));
        Assert.Equal(-ENXIO, Line(KvmArm.KVM_ARM_IRQ_TYPE_CPU, 0, 0, 1));
    }

    [Fact]
    public void Run_RequiresGicPlacement()
    {
        var v = InitVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(-ENXIO, Io(v, _u, KVM_RUN));
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x8000000);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, 0x80a0000);
        Assert.Equal(-EBUSY, Io(v, _u, KVM_RUN));
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0, Io(v, _u, KVM_RUN));
    }

    [Fact]
    public void RegisterAccess_WhileVcpuRuns_Ebusy()
    {
        var v = InitVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        using var held = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var t = new Thread(() => { lock (v.Mutex) { held.Set(); release.Wait(); } });
        t.Start();
        held.Wait();
        Assert.Equal(-EBUSY, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0));
        release.Set();
        t.Join();
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 0));
    }

    private static ulong RegionAttr(ulong count, ulong baseAddr, ulong flags, ulong index) => (count << 52) | baseAddr | (flags << 12) | index;
    private uint Typer(VgicDevice d, int vcpuId)
    {
        Assert.Equal(0, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, ((ulong)vcpuId << 32) | 0x8));
        return _u.U32At(_buf);
    }

    [Fact]
    public void V3_TyperAccesses_AsSelftest()
    {
        NewVcpu(_vm, _u, 0);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        NewVcpu(_vm, _u, 3);
        Assert.Equal(-EINVAL, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, (1ul << 32) | 0x8));
        NewVcpu(_vm, _u, 1);
        Assert.Equal(-EBUSY, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, (1ul << 32) | 0x8));
        NewVcpu(_vm, _u, 2);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        for (int i = 0; i < 4; i++) Assert.Equal((uint)i * 0x100, Typer(d, i));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(2, 0x200000, 0, 0)));
        Assert.Equal(0x0u, Typer(d, 0));
        Assert.Equal(0x310u, Typer(d, 3));
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(10, 0x100000, 0, 1)));
        Assert.Equal(0x100u, Typer(d, 1));
        Assert.Equal(0x200u, Typer(d, 2));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(10, 0x20000, 0, 1)));
        Assert.Equal(0x100u, Typer(d, 1));
        Assert.Equal(0x210u, Typer(d, 2));
    }

    [Fact]
    public void V3_RedistRegion_RejectedForCollidingWithDistributor_DoesNotTakeItsIndex()
    {
        for (int id = 0; id < 4; id++) NewVcpu(_vm, _u, id);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(2, 0x200000, 0, 0)));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(1, 0x240000, 0, 1)));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x260000));
        // vgic_init's step 1: region 2 on top of the distributor is refused...
        Assert.Equal(-EINVAL, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(1, 0x260000, 0, 2)));
        Assert.Equal(-ENOENT, Attr(d, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(0, 0, 0, 2)));
        // ...and leaves index 2 free for a region clear of it (step 2/3 of the selftest).
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(1, 0x280000, 0, 2)));
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0x310u, Typer(d, 3));
    }

    [Fact]
    public void V3_LastBit_RedistRegions_AsSelftest()
    {
        foreach (var id in new[] { 0, 3, 5, 4, 1, 2 }) NewVcpu(_vm, _u, id);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(2, 0x100000, 0, 0)));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(2, 0x240000, 0, 1)));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(2, 0x200000, 0, 2)));
        Assert.Equal(new uint[] { 0x000, 0x100, 0x200, 0x310, 0x410, 0x500 }, new[] { 0, 1, 2, 3, 4, 5 }.Select(i => Typer(d, i)).ToArray());
    }

    [Fact]
    public void V3_LastBit_SingleRegion_AsSelftest()
    {
        foreach (var id in new[] { 0, 3, 5, 4, 1, 2 }) NewVcpu(_vm, _u, id);
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, 0x10000));
        Assert.Equal(new uint[] { 0x000, 0x100, 0x210, 0x300, 0x400, 0x500 }, new[] { 0, 1, 2, 3, 4, 5 }.Select(i => Typer(d, i)).ToArray());
    }

    [Fact]
    public void V3_Run_DistRedistOverlap_Einval_BeforeInitCheck()
    {
        var vcpus = Enumerable.Range(0, 4).Select(i => InitVcpu(_vm, _u, i)).ToArray();
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, 0));
        Assert.Equal(-EEXIST, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, 0xE0000));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x10000));
        Assert.Equal(-EINVAL, Io(vcpus[3], _u, KVM_RUN));
    }

    [Fact]
    public void V3_Run_NotEnoughRedistributors_Enxio()
    {
        var vcpus = Enumerable.Range(0, 4).Select(i => InitVcpu(_vm, _u, i)).ToArray();
        var d = NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(2, 0x100000, 0, 0)));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x0));
        Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(-ENXIO, Io(vcpus[3], _u, KVM_RUN));
        Assert.Equal(0, Attr(d, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, RegionAttr(2, 0x280000, 0, 1)));
        Assert.Equal(0, Io(vcpus[3], _u, KVM_RUN));
    }

    private VgicItsDevice NewIts()
    {
        NewGic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3);
        var (r, _) = Create(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_ITS);
        Assert.Equal(0, r.Value);
        Assert.Equal(KvmCreateDevice.FdOffset, r.NewFdOffset);
        return Assert.IsType<VgicItsDevice>(r.NewObject);
    }

    [Fact]
    public void Its_Address_Rules()
    {
        var its = NewIts();
        Assert.Equal(-EINVAL, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, 0x401000));
        Assert.Equal(-E2BIG, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, 1ul << 40));
        Assert.Equal(-E2BIG, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, (1ul << 40) - 0x10000));
        Assert.Equal(0, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, 0x400000));
        Assert.Equal(-EEXIST, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, 0x300000));
        Assert.Equal(-ENXIO, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, 0x300000));
    }

    [Fact]
    public void Its_Registers_ResetAndProbes_AsQemuUsesThem()
    {
        var its = NewIts();
        Assert.Equal(0, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT));
        Assert.Equal(0, Attr(its, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0));
        Assert.Equal(-ENXIO, Attr(its, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0)); // no base yet
        Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, 0x8080000);
        Assert.Equal(0, Attr(its, KVM_HAS_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_CTRL_RESET));
        Assert.Equal(0, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_CTRL_RESET));
        Assert.Equal(0, Attr(its, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0x8));
        Assert.Equal(VgicItsDevice.Typer, _u.U64At(_buf));
        Assert.Equal(0, Attr(its, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0x100));
        Assert.Equal(0x3907000000000600ul, _u.U64At(_buf)); // device table: RaWb, inner shareable, 64K pages, 8-byte entries
        Assert.Equal(-EINVAL, Attr(its, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0x84));
        Assert.Equal(-ENXIO, Attr(its, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0x200));
        Assert.Equal(-EINVAL, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0x4, 1ul << 12));
        // Enabling needs valid tables and command queue; without them the write is ignored.
        Assert.Equal(0, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, 0x0, 1));
        Assert.False(its.Enabled);
        Assert.Equal(0, Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_ITS_SAVE_TABLES));
    }

    [Fact]
    public void Its_AdvertisesLpis_InGicdAndGicrTyper()
    {
        NewVcpu(_vm, _u, 0);
        var its = NewIts();
        var gic = Assert.IsAssignableFrom<VgicDevice>(_vm.Devices[0]);
        Attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT);
        Assert.Equal(0, Attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_DIST_REGS, 4));
        Assert.Equal((15u << 19) | (1u << 17) | 7, _u.U32At(_buf));
        Assert.Equal(1u, Typer(gic, 0) & 1); // PLPIS
        Assert.Equal(0, Attr(gic, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, 0x0, 1, true));
        Assert.Equal(0, Attr(gic, KVM_GET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_REDIST_REGS, 0x0));
        Assert.Equal(1u, _u.U32At(_buf));
    }

    [Fact]
    public void SignalMsi_ThroughIts()
    {
        var its = NewIts();
        Attr(its, KVM_SET_DEVICE_ATTR, KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_ITS_ADDR_TYPE, 0x8080000);
        var msi = new KvmMsi { address_lo = 0x8080000 + 0x10040, data = 5, flags = KvmIrqRoutingType.KVM_MSI_VALID_DEVID, devid = 8 };
        Assert.Equal(-EBUSY, With(_vm, _u, KVM_SIGNAL_MSI, msi)); // ITS disabled
        Assert.Equal(-EINVAL, With(_vm, _u, KVM_SIGNAL_MSI, msi with { flags = 0 }));
        Assert.Equal(-EINVAL, With(_vm, _u, KVM_SIGNAL_MSI, msi with { address_lo = 0x1000 }));
    }
}
