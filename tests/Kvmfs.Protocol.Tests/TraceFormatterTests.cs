using System.Runtime.InteropServices;
using System.Text.Json;
using Kvmfs.Protocol.Trace;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Protocol.Tests;

/// <summary>One test per decoded ioctl family, named after the ioctl, on the documented text and JSON forms.</summary>
public class TraceFormatterTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 25, 12, 0, 1, TimeSpan.Zero);

    private static byte[] B<T>(T value) where T : unmanaged => MemoryMarshal.AsBytes(MemoryMarshal.CreateReadOnlySpan(ref value, 1)).ToArray();

    private static IoctlTraceEvent Ev(string kind, int id, uint cmd, ulong arg = 0, byte[]? dataIn = null, byte[]? dataOut = null,
        long result = 0, UserCopy[]? copies = null, byte[]? run = null) => new()
    {
        Time = Noon.AddTicks(1_234_560),
        Pid = 4242,
        ObjectKind = kind,
        ObjectId = id,
        Command = cmd,
        Argument = arg,
        DataIn = dataIn ?? [],
        DataOut = dataOut ?? [],
        Result = result,
        UserCopies = copies ?? [],
        Run = run,
        DurationMicros = 17,
    };

    [Fact]
    public void TextLineHasTimePidPrefix()
    {
        var e = Ev("kvm", 0, KvmIoctls.KVM_GET_API_VERSION, result: 12);
        Assert.Equal("12:00:01.123456 [4242] KVM_GET_API_VERSION(kvm) = 12", TraceFormatter.FormatText(e));
    }

    [Fact]
    public void KVM_CREATE_VM_ShowsTheIpaSizeType()
    {
        Assert.Equal("KVM_CREATE_VM(kvm, KVM_VM_TYPE_ARM_IPA_SIZE(40)) = 3",
            TraceFormatter.FormatCall(Ev("kvm", 0, KvmIoctls.KVM_CREATE_VM, arg: 40, result: 3)));
        Assert.Equal("KVM_CREATE_VM(kvm, 0) = 3", TraceFormatter.FormatCall(Ev("kvm", 0, KvmIoctls.KVM_CREATE_VM, result: 3)));
    }

    [Fact]
    public void KVM_CHECK_EXTENSION_NamesTheCapability()
    {
        Assert.Equal("KVM_CHECK_EXTENSION(kvm, KVM_CAP_ARM_VM_IPA_SIZE) = 40",
            TraceFormatter.FormatCall(Ev("kvm", 0, KvmIoctls.KVM_CHECK_EXTENSION, arg: KvmCaps.KVM_CAP_ARM_VM_IPA_SIZE, result: 40)));
        Assert.Equal("KVM_CHECK_EXTENSION(vm 1, 9999) = 0",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_CHECK_EXTENSION, arg: 9999)));
    }

    [Fact]
    public void KVM_CREATE_VCPU_ShowsIdAndNewFd()
    {
        Assert.Equal("KVM_CREATE_VCPU(vm 1, 0) = 7", TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_CREATE_VCPU, arg: 0, result: 7)));
    }

    [Fact]
    public void KVM_SET_USER_MEMORY_REGION_DecodesTheStruct()
    {
        var region = new KvmUserspaceMemoryRegion { slot = 0, guest_phys_addr = 0x80000000, memory_size = 0x20000000, userspace_addr = 0xffff9a000000 };
        Assert.Equal("KVM_SET_USER_MEMORY_REGION(vm 3, {slot=0, flags=0, guest_phys_addr=0x80000000, memory_size=0x20000000, userspace_addr=0xffff9a000000}) = 0",
            TraceFormatter.FormatCall(Ev("vm", 3, KvmIoctls.KVM_SET_USER_MEMORY_REGION, 0x7ffd0000, B(region))));
        region.flags = KvmMem.KVM_MEM_LOG_DIRTY_PAGES | KvmMem.KVM_MEM_READONLY | 0x100;
        Assert.Contains("flags=KVM_MEM_LOG_DIRTY_PAGES|KVM_MEM_READONLY|0x100,",
            TraceFormatter.FormatCall(Ev("vm", 3, KvmIoctls.KVM_SET_USER_MEMORY_REGION, 0, B(region), result: -22)));
    }

    [Fact]
    public void ErrorsShowErrnoNameAndMessage()
    {
        Assert.Equal("KVM_CREATE_VCPU(vm 1, 512) = -1 EINVAL (Invalid argument)",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_CREATE_VCPU, arg: 512, result: -22)));
        Assert.EndsWith("= -1 E999 (Unknown error 999)", TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_CREATE_VCPU, result: -999)));
    }

    [Fact]
    public void KVM_GET_ONE_REG_NamesTheRegisterAndShowsTheValue()
    {
        var reg = new KvmOneReg { id = SysRegs.Id("MPIDR_EL1"), addr = 0xffffc0de1230 };
        var e = Ev("vcpu", 0, KvmIoctls.KVM_GET_ONE_REG, 0xffffc0de1000, B(reg),
            copies: [new UserCopy(0xffffc0de1230, false, B(0x80000000ul))]);
        Assert.Equal("KVM_GET_ONE_REG(vcpu 0, {id=0x603000000013c005 MPIDR_EL1, addr=0xffffc0de1230}) = 0 -> 0x80000000", TraceFormatter.FormatCall(e));
    }

    [Fact]
    public void KVM_SET_ONE_REG_ShowsTheValueWritten()
    {
        var reg = new KvmOneReg { id = OneRegId.Core(CoreRegs.PC), addr = 0x1000 };
        var e = Ev("vcpu", 1, KvmIoctls.KVM_SET_ONE_REG, 0, B(reg), copies: [new UserCopy(0x1000, true, B(0x40080000ul))]);
        Assert.Equal("KVM_SET_ONE_REG(vcpu 1, {id=0x6030000000100040 pc, addr=0x1000, value=0x40080000}) = 0", TraceFormatter.FormatCall(e));

        var v0 = new KvmOneReg { id = OneRegId.Core(CoreRegs.V(0), 16), addr = 0x2000 };
        var bytes = new byte[16];
        bytes[0] = 0x01; bytes[15] = 0xab;
        Assert.Contains("value=0xab000000000000000000000000000001",
            TraceFormatter.FormatCall(Ev("vcpu", 1, KvmIoctls.KVM_SET_ONE_REG, 0, B(v0), copies: [new UserCopy(0x2000, true, bytes)])));
    }

    [Fact]
    public void KVM_GET_REG_LIST_ShowsCountAndFirstNames()
    {
        ulong[] ids = [OneRegId.Core(CoreRegs.X(0)), OneRegId.Core(CoreRegs.X(1)), OneRegId.Core(CoreRegs.X(2)),
            OneRegId.Core(CoreRegs.X(3)), SysRegs.Id("MIDR_EL1"), KvmReg.KVM_REG_ARM_PSCI_VERSION];
        var e = Ev("vcpu", 0, KvmIoctls.KVM_GET_REG_LIST, 0x5000, B(new KvmRegList { n = 512 }), B(new KvmRegList { n = 6 }),
            copies: [new UserCopy(0x5008, false, MemoryMarshal.AsBytes(ids.AsSpan()).ToArray())]);
        Assert.Equal("KVM_GET_REG_LIST(vcpu 0, {n=512}) = 0 -> {n=6, reg=[x0, x1, x2, x3, ...]}", TraceFormatter.FormatCall(e));

        var tooSmall = Ev("vcpu", 0, KvmIoctls.KVM_GET_REG_LIST, 0x5000, B(new KvmRegList { n = 0 }), B(new KvmRegList { n = 286 }), result: -7);
        Assert.Equal("KVM_GET_REG_LIST(vcpu 0, {n=0}) = -1 E2BIG (Argument list too long) -> {n=286}", TraceFormatter.FormatCall(tooSmall));
        var viaCopy = Ev("vcpu", 0, KvmIoctls.KVM_GET_REG_LIST, 0x5000, B(new KvmRegList { n = 0 }), result: -7,
            copies: [new UserCopy(0x5000, false, B(new KvmRegList { n = 286 }))]);
        Assert.Equal("KVM_GET_REG_LIST(vcpu 0, {n=0}) = -1 E2BIG (Argument list too long) -> {n=286}", TraceFormatter.FormatCall(viaCopy));
    }

    [Fact]
    public void KVM_RUN_DecodesAnMmioWriteExit()
    {
        var run = new KvmRun { exit_reason = KvmExit.KVM_EXIT_MMIO };
        run.mmio.phys_addr = 0x9000000;
        run.mmio.len = 4;
        run.mmio.is_write = 1;
        unsafe { run.mmio.data[0] = 0x41; }
        var e = Ev("vcpu", 0, KvmIoctls.KVM_RUN, run: B(run)[..KvmRun.TraceBytes]);
        Assert.Equal("KVM_RUN(vcpu 0) = 0 -> KVM_EXIT_MMIO {phys_addr=0x9000000, len=4, is_write=1, data=41 00 00 00}", TraceFormatter.FormatCall(e));

        run.mmio.is_write = 0;
        Assert.EndsWith("KVM_EXIT_MMIO {phys_addr=0x9000000, len=4, is_write=0}", TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_RUN, run: B(run))));
    }

    [Fact]
    public void KVM_RUN_DecodesSystemEventFailEntryAndInterrupts()
    {
        var run = new KvmRun { exit_reason = KvmExit.KVM_EXIT_SYSTEM_EVENT };
        run.system_event.type = KvmSystemEvent.KVM_SYSTEM_EVENT_SHUTDOWN;
        run.system_event.ndata = 1;
        Assert.EndsWith("-> KVM_EXIT_SYSTEM_EVENT {type=KVM_SYSTEM_EVENT_SHUTDOWN, ndata=1, data=[0x0]}",
            TraceFormatter.FormatCall(Ev("vcpu", 1, KvmIoctls.KVM_RUN, run: B(run))));

        var fail = new KvmRun { exit_reason = KvmExit.KVM_EXIT_FAIL_ENTRY };
        fail.fail_entry.hardware_entry_failure_reason = KvmExit.KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED;
        Assert.EndsWith("-> KVM_EXIT_FAIL_ENTRY {hardware_entry_failure_reason=0x1 KVM_EXIT_FAIL_ENTRY_CPU_UNSUPPORTED, cpu=0}",
            TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_RUN, run: B(fail))));

        Assert.Equal("KVM_RUN(vcpu 0) = -1 EINTR (Interrupted system call)",
            TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_RUN, result: -4, run: B(run))));
        Assert.Equal("KVM_RUN(vcpu 0) = 0 -> KVM_EXIT_INTR",
            TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_RUN, run: B(new KvmRun { exit_reason = KvmExit.KVM_EXIT_INTR }))));
    }

    [Fact]
    public void KVM_ARM_VCPU_INIT_AndPreferredTargetNameFeatures()
    {
        var init = new KvmVcpuInit { target = KvmArm.KVM_ARM_TARGET_GENERIC_V8 };
        init.SetFeature(KvmArm.KVM_ARM_VCPU_POWER_OFF);
        init.SetFeature(KvmArm.KVM_ARM_VCPU_PSCI_0_2);
        Assert.Equal("KVM_ARM_VCPU_INIT(vcpu 1, {target=KVM_ARM_TARGET_GENERIC_V8, features=[KVM_ARM_VCPU_POWER_OFF, KVM_ARM_VCPU_PSCI_0_2]}) = 0",
            TraceFormatter.FormatCall(Ev("vcpu", 1, KvmIoctls.KVM_ARM_VCPU_INIT, 0, B(init))));
        Assert.Equal("KVM_ARM_PREFERRED_TARGET(vm 1) = 0 -> {target=KVM_ARM_TARGET_GENERIC_V8, features=[]}",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_ARM_PREFERRED_TARGET, 0, dataOut: B(new KvmVcpuInit { target = 5 }))));
    }

    [Fact]
    public void KVM_ARM_SET_DEVICE_ADDR_IsNotMistakenForGetOneReg()
    {
        var addr = new KvmArmDeviceAddr { id = KvmVgic.KVM_VGIC_V2_ADDR_TYPE_CPU, addr = 0x8010000 };
        Assert.Equal("KVM_ARM_SET_DEVICE_ADDR(vm 1, {id=0x1 (KVM_ARM_DEVICE_VGIC_V2, KVM_VGIC_V2_ADDR_TYPE_CPU), addr=0x8010000}) = 0",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_ARM_SET_DEVICE_ADDR, 0, B(addr))));
    }

    [Fact]
    public void KVM_CREATE_DEVICE_ShowsTypeAndNewFd()
    {
        var dev = new KvmCreateDevice { type = KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3 };
        var back = dev with { fd = 9 };
        Assert.Equal("KVM_CREATE_DEVICE(vm 1, {type=KVM_DEV_TYPE_ARM_VGIC_V3, flags=0}) = 0 -> {fd=9}",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_CREATE_DEVICE, 0, B(dev), B(back))));
        var probe = new KvmCreateDevice { type = KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2, fd = uint.MaxValue, flags = KvmDevType.KVM_CREATE_DEVICE_TEST };
        Assert.Equal("KVM_CREATE_DEVICE(vm 1, {type=KVM_DEV_TYPE_ARM_VGIC_V2, flags=KVM_CREATE_DEVICE_TEST}) = 0",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_CREATE_DEVICE, 0, B(probe), B(probe))));
        var test = new KvmCreateDevice { type = 99, flags = KvmDevType.KVM_CREATE_DEVICE_TEST };
        Assert.Equal("KVM_CREATE_DEVICE(vm 1, {type=99, flags=KVM_CREATE_DEVICE_TEST}) = -1 ENODEV (No such device)",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_CREATE_DEVICE, 0, B(test), result: -19)));
    }

    [Fact]
    public void KVM_SET_DEVICE_ATTR_NamesVgicGroupsAndAttributes()
    {
        var attr = new KvmDeviceAttr { group = KvmVgic.KVM_DEV_ARM_VGIC_GRP_ADDR, attr = KvmVgic.KVM_VGIC_V3_ADDR_TYPE_DIST, addr = 0x3000 };
        Assert.Equal("KVM_SET_DEVICE_ATTR(device 0, {flags=0x0, group=KVM_DEV_ARM_VGIC_GRP_ADDR, attr=KVM_VGIC_V3_ADDR_TYPE_DIST, addr=0x3000, value=0x8000000}) = 0",
            TraceFormatter.FormatCall(Ev("device", 0, KvmIoctls.KVM_SET_DEVICE_ATTR, 0, B(attr), copies: [new UserCopy(0x3000, true, B(0x8000000ul))])));

        var region = new KvmDeviceAttr { group = KvmVgic.KVM_DEV_ARM_VGIC_GRP_ADDR, attr = KvmVgic.KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, addr = 0x3000 };
        ulong regionValue = (2ul << 52) | 0x80a0000 | 1;
        Assert.Contains("attr=KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, addr=0x3000, value=0x200000080a0001 (index 1, base 0x80a0000, count 2)}",
            TraceFormatter.FormatCall(Ev("device", 0, KvmIoctls.KVM_SET_DEVICE_ATTR, 0, B(region), copies: [new UserCopy(0x3000, true, B(regionValue))])));

        var init = new KvmDeviceAttr { group = KvmVgic.KVM_DEV_ARM_VGIC_GRP_CTRL, attr = KvmVgic.KVM_DEV_ARM_VGIC_CTRL_INIT };
        Assert.Equal("KVM_SET_DEVICE_ATTR(device 0, {flags=0x0, group=KVM_DEV_ARM_VGIC_GRP_CTRL, attr=KVM_DEV_ARM_VGIC_CTRL_INIT, addr=0x0}) = 0",
            TraceFormatter.FormatCall(Ev("device", 0, KvmIoctls.KVM_SET_DEVICE_ATTR, 0, B(init))));

        var sysreg = new KvmDeviceAttr { group = KvmVgic.KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS, attr = (1ul << 32) | OneRegId.SysRegIndex(3, 0, 12, 12, 5) };
        Assert.Contains("(mpidr 0x1, ICC_SRE_EL1)", TraceFormatter.FormatCall(Ev("device", 0, KvmIoctls.KVM_GET_DEVICE_ATTR, 0, B(sysreg))));
    }

    [Fact]
    public void KVM_HAS_DEVICE_ATTR_OnAVcpuNamesPmuTimerAndPvtime()
    {
        var pmu = new KvmDeviceAttr { group = KvmArm.KVM_ARM_VCPU_PMU_V3_CTRL, attr = KvmArm.KVM_ARM_VCPU_PMU_V3_INIT };
        Assert.Equal("KVM_HAS_DEVICE_ATTR(vcpu 0, {flags=0x0, group=KVM_ARM_VCPU_PMU_V3_CTRL, attr=KVM_ARM_VCPU_PMU_V3_INIT, addr=0x0}) = -1 ENXIO (No such device or address)",
            TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_HAS_DEVICE_ATTR, 0, B(pmu), result: -6)));
        var pv = new KvmDeviceAttr { group = KvmArm.KVM_ARM_VCPU_PVTIME_CTRL, attr = KvmArm.KVM_ARM_VCPU_PVTIME_IPA };
        Assert.Contains("group=KVM_ARM_VCPU_PVTIME_CTRL, attr=KVM_ARM_VCPU_PVTIME_IPA", TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_HAS_DEVICE_ATTR, 0, B(pv))));
    }

    [Fact]
    public void KVM_GET_DEVICE_ATTR_ShowsTheValueRead()
    {
        var nr = new KvmDeviceAttr { group = KvmVgic.KVM_DEV_ARM_VGIC_GRP_NR_IRQS, addr = 0x4000 };
        Assert.EndsWith("= 0 -> 0x100", TraceFormatter.FormatCall(Ev("device", 2, KvmIoctls.KVM_GET_DEVICE_ATTR, 0, B(nr),
            copies: [new UserCopy(0x4000, false, B(256u))])));
    }

    [Fact]
    public void KVM_IRQ_LINE_DecodesTheArmEncoding()
    {
        var line = new KvmIrqLevel { irq = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_SPI, 0, 33), level = 1 };
        Assert.Equal("KVM_IRQ_LINE(vm 1, {irq=0x1000021 (SPI, vcpu 0, num 33), level=1}) = 0",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_IRQ_LINE, 0, B(line))));
    }

    [Fact]
    public void KVM_IRQFD_And_KVM_IOEVENTFD()
    {
        var irqfd = new KvmIrqfd { fd = 12, gsi = 5, flags = KvmIrqfdFlags.KVM_IRQFD_FLAG_RESAMPLE, resamplefd = 13 };
        Assert.Equal("KVM_IRQFD(vm 1, {fd=12, gsi=5, flags=KVM_IRQFD_FLAG_RESAMPLE, resamplefd=13}) = 0",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_IRQFD, 0, B(irqfd))));
        var io = new KvmIoeventfd { addr = 0xa003e50, len = 4, fd = 14, flags = KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_DATAMATCH, datamatch = 1 };
        Assert.Equal("KVM_IOEVENTFD(vm 1, {datamatch=0x1, addr=0xa003e50, len=4, fd=14, flags=KVM_IOEVENTFD_FLAG_DATAMATCH}) = 0",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_IOEVENTFD, 0, B(io))));
    }

    [Fact]
    public void KVM_ENABLE_CAP_NamesTheCapability()
    {
        var cap = new KvmEnableCap { cap = KvmCaps.KVM_CAP_ARM_MTE };
        Assert.Equal("KVM_ENABLE_CAP(vm 1, {cap=KVM_CAP_ARM_MTE, flags=0x0, args=[0x0, 0x0, 0x0, 0x0]}) = -1 EINVAL (Invalid argument)",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_ENABLE_CAP, 0, B(cap), result: -22)));
    }

    [Fact]
    public void KVM_SET_GSI_ROUTING_ShowsEntries()
    {
        var entries = new KvmIrqRoutingEntry[2];
        entries[0].gsi = 0; entries[0].type = KvmIrqRoutingType.KVM_IRQ_ROUTING_IRQCHIP; entries[0].u.irqchip.pin = 32;
        entries[1].gsi = 1; entries[1].type = KvmIrqRoutingType.KVM_IRQ_ROUTING_MSI; entries[1].u.msi.address_lo = 0x8090040; entries[1].u.msi.data = 3;
        var e = Ev("vm", 1, KvmIoctls.KVM_SET_GSI_ROUTING, 0x9000, B(new KvmIrqRouting { nr = 2 }),
            copies: [new UserCopy(0x9008, true, MemoryMarshal.AsBytes(entries.AsSpan()).ToArray())]);
        Assert.Equal("KVM_SET_GSI_ROUTING(vm 1, {nr=2, flags=0x0, entries=[{gsi=0, type=KVM_IRQ_ROUTING_IRQCHIP, irqchip=0, pin=32}, {gsi=1, type=KVM_IRQ_ROUTING_MSI, address=0x8090040, data=0x3}]}) = 0",
            TraceFormatter.FormatCall(e));
    }

    [Fact]
    public void KVM_GET_MP_STATE_And_KVM_SET_MP_STATE()
    {
        Assert.Equal("KVM_GET_MP_STATE(vcpu 1) = 0 -> {mp_state=KVM_MP_STATE_STOPPED}",
            TraceFormatter.FormatCall(Ev("vcpu", 1, KvmIoctls.KVM_GET_MP_STATE, dataOut: B(new KvmMpState { mp_state = 5 }))));
        Assert.Equal("KVM_SET_MP_STATE(vcpu 1, {mp_state=KVM_MP_STATE_RUNNABLE}) = 0",
            TraceFormatter.FormatCall(Ev("vcpu", 1, KvmIoctls.KVM_SET_MP_STATE, 0, B(new KvmMpState()))));
    }

    [Fact]
    public void KVM_GET_VCPU_EVENTS_UsesTheGenericStructDecoder()
    {
        var ev = new KvmVcpuEvents();
        ev.exception.serror_pending = 1;
        ev.exception.serror_esr = 0x2000000;
        Assert.Equal("KVM_GET_VCPU_EVENTS(vcpu 0) = 0 -> {exception={serror_pending=1, serror_has_esr=0, ext_dabt_pending=0, serror_esr=0x2000000}}",
            TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_GET_VCPU_EVENTS, dataOut: B(ev))));
    }

    [Fact]
    public void KVM_ARM_VCPU_FINALIZE_NamesTheFeature()
    {
        Assert.Equal("KVM_ARM_VCPU_FINALIZE(vcpu 0, KVM_ARM_VCPU_SVE) = 0",
            TraceFormatter.FormatCall(Ev("vcpu", 0, KvmIoctls.KVM_ARM_VCPU_FINALIZE, 0, B(KvmArm.KVM_ARM_VCPU_SVE))));
    }

    [Fact]
    public void KVM_ARM_MTE_COPY_TAGS_IsReadByTheKernelDespiteItsIorNumber()
    {
        var info = IoctlTable.Find(KvmIoctls.KVM_ARM_MTE_COPY_TAGS, KvmFd.Vm)!;
        Assert.Equal(IocDir.Read, info.Dir);
        Assert.True(info.StructIn);
        Assert.False(info.StructOut);
        var tags = new KvmArmCopyMteTags { guest_ipa = 0x80000000, length = 0x1000, addr = 0xffff0000, flags = KvmArm.KVM_ARM_TAGS_FROM_GUEST };
        Assert.Equal("KVM_ARM_MTE_COPY_TAGS(vm 1, {guest_ipa=0x80000000, length=0x1000, addr=0xffff0000, flags=0x1}) = 4096",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_ARM_MTE_COPY_TAGS, 0, B(tags), result: 4096)));
        // The shim ships no struct for an _IOR number; the handler's copy_from_user of the argument carries it.
        Assert.Equal("KVM_ARM_MTE_COPY_TAGS(vm 1, {guest_ipa=0x80000000, length=0x1000, addr=0xffff0000, flags=0x1}) = 4096",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_ARM_MTE_COPY_TAGS, 0x7000, result: 4096, copies: [new UserCopy(0x7000, true, B(tags))])));
    }

    [Fact]
    public void EveryTableStructDecodesWithoutThrowing()
    {
        foreach (var io in IoctlTable.All)
        {
            var fd = (io.Fds & KvmFd.Vcpu) != 0 ? "vcpu" : (io.Fds & KvmFd.Vm) != 0 ? "vm" : (io.Fds & KvmFd.Device) != 0 ? "device" : "kvm";
            int size = (int)io.Size;
            var data = Enumerable.Range(0, size).Select(i => (byte)(i * 7 + 1)).ToArray();
            string line = TraceFormatter.FormatCall(Ev(fd, 0, io.Command, 0x1000, data, data, copies: [new UserCopy(0x1008, true, data)]));
            Assert.StartsWith(io.Name + "(", line);
            Assert.DoesNotContain("\n", line);
        }
    }

    [Fact]
    public void TruncatedStructsAndUnknownIoctlsRenderRaw()
    {
        Assert.Equal("KVM_SET_USER_MEMORY_REGION(vm 1, 0x10, 01 02) = -1 EFAULT (Bad address)",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_SET_USER_MEMORY_REGION, 0x10, [1, 2], result: -14)));
        uint unknown = Ioc.Iow(0xAE, 0xff, 4);
        Assert.Equal("_IOW(0xae, 0xff, 4)(vm 1, 0x7ffd1000, 01 00 00 00) = -1 ENOTTY (Inappropriate ioctl for device)",
            TraceFormatter.FormatCall(Ev("vm", 1, unknown, 0x7ffd1000, [1, 0, 0, 0], result: -25)));
        Assert.Equal("KVM_RUN(vm 1) = -1 ENOTTY (Inappropriate ioctl for device)",
            TraceFormatter.FormatCall(Ev("vm", 1, KvmIoctls.KVM_RUN, result: -25)));
        Assert.Equal("_IO(0xae, 0xfe)(kvm, 3) = -1 ENOTTY (Inappropriate ioctl for device)",
            TraceFormatter.FormatCall(Ev("kvm", 0, Ioc.Io(0xAE, 0xfe), 3, result: -25)));
    }

    [Fact]
    public void JsonLineHasTheStableFields()
    {
        var reg = new KvmOneReg { id = SysRegs.Id("MPIDR_EL1"), addr = 0xffffc0de1230 };
        var e = Ev("vcpu", 0, KvmIoctls.KVM_GET_ONE_REG, 0xffffc0de1000, B(reg), copies: [new UserCopy(0xffffc0de1230, false, B(0x80000000ul))]);
        string json = TraceFormatter.FormatJson(e);
        Assert.DoesNotContain("\n", json);
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal("2026-11-25T12:00:01.123456Z", root.GetProperty("time").GetString());
        Assert.Equal(4242, root.GetProperty("pid").GetInt32());
        Assert.Equal("vcpu", root.GetProperty("object").GetString());
        Assert.Equal(0, root.GetProperty("id").GetInt32());
        Assert.Equal("KVM_GET_ONE_REG", root.GetProperty("ioctl").GetString());
        Assert.True(root.GetProperty("known").GetBoolean());
        Assert.Equal("0x4010aeab", root.GetProperty("cmd").GetString());
        Assert.Equal("0xffffc0de1000", root.GetProperty("arg").GetString());
        var arg = root.GetProperty("args")[0];
        Assert.Equal("0x603000000013c005", arg.GetProperty("id").GetString());
        Assert.Equal("MPIDR_EL1", arg.GetProperty("id_name").GetString());
        Assert.Equal(0, root.GetProperty("result").GetInt64());
        Assert.False(root.TryGetProperty("errno", out _));
        Assert.Equal("0x80000000", root.GetProperty("out").GetString());
        Assert.Equal(17, root.GetProperty("duration_us").GetInt64());
    }

    [Fact]
    public void JsonLineForAnErrorAndAnExit()
    {
        using var err = JsonDocument.Parse(TraceFormatter.FormatJson(Ev("vm", 1, KvmIoctls.KVM_CREATE_VCPU, 512, result: -22)));
        Assert.Equal(-1, err.RootElement.GetProperty("result").GetInt64());
        Assert.Equal("EINVAL", err.RootElement.GetProperty("errno").GetString());
        Assert.Equal(22, err.RootElement.GetProperty("errno_value").GetInt32());
        Assert.Equal(512, err.RootElement.GetProperty("args")[0].GetInt64());

        var run = new KvmRun { exit_reason = KvmExit.KVM_EXIT_MMIO };
        run.mmio.phys_addr = 0x9000000; run.mmio.len = 1; run.mmio.is_write = 1;
        using var exit = JsonDocument.Parse(TraceFormatter.FormatJson(Ev("vcpu", 0, KvmIoctls.KVM_RUN, run: B(run))));
        var o = exit.RootElement.GetProperty("out");
        Assert.Equal("KVM_EXIT_MMIO", o.GetProperty("reason").GetString());
        Assert.Equal("0x9000000", o.GetProperty("phys_addr").GetString());
        Assert.Equal(1, o.GetProperty("len").GetInt32());
        Assert.Equal("00", o.GetProperty("data").GetString());
    }
}
