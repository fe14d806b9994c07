using System.Reflection;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Protocol.Tests;

/// <summary>The C# tables agree with themselves: every ioctl constant is in the table, every
/// size bit matches its struct, lookups by number and fd kind work.</summary>
public class UapiTableTests
{
    [Fact]
    public void EveryIoctlConstantHasExactlyOneTableLineAndViceVersa()
    {
        var constants = UapiNames.Constants(typeof(KvmIoctls)).ToDictionary(c => c.Name, c => c.Value);
        var table = IoctlTable.All.ToDictionary(i => i.Name);
        Assert.Equal(constants.Keys.Order(), table.Keys.Order());
        foreach (var (name, value) in constants)
            Assert.Equal(value, (ulong)table[name].Command);
    }

    [Fact]
    public void IoctlSizeBitsMatchTheirStructs()
    {
        foreach (var io in IoctlTable.All)
        {
            Assert.Equal((uint)Kvm.KVMIO, Ioc.Type(io.Command));
            if (io.StructType is { } t)
                Assert.True(UapiReflection.SizeOf(t) == (int)io.Size, $"{io.Name}: _IOC_SIZE {io.Size}, sizeof({t.Name}) {UapiReflection.SizeOf(t)}");
            if (io.Arg is IoctlArg.None or IoctlArg.Value)
                Assert.True(io.Dir == IocDir.None, $"{io.Name} takes no struct but is not _IO");
            if (io.Arg == IoctlArg.IntPointer) Assert.Equal(4u, io.Size);
        }
    }

    [Fact]
    public void KvmIoctlNumbersAreTheKnownValues()
    {
        // A few values as strace and kvm-ioctls print them, independent of our encoding helpers.
        Assert.Equal(0xae00u, KvmIoctls.KVM_GET_API_VERSION);
        Assert.Equal(0xae80u, KvmIoctls.KVM_RUN);
        Assert.Equal(0x4020ae46u, KvmIoctls.KVM_SET_USER_MEMORY_REGION);
        Assert.Equal(0x4010aeabu, KvmIoctls.KVM_GET_ONE_REG);
        Assert.Equal(0xc008aeb0u, KvmIoctls.KVM_GET_REG_LIST);
        Assert.Equal(0xc00caee0u, KvmIoctls.KVM_CREATE_DEVICE);
        Assert.Equal(0x8020aeafu, KvmIoctls.KVM_ARM_PREFERRED_TARGET);
    }

    [Fact]
    public void GetOneRegAndArmSetDeviceAddrShareANumberButNotAnFdKind()
    {
        Assert.Equal(KvmIoctls.KVM_GET_ONE_REG, KvmIoctls.KVM_ARM_SET_DEVICE_ADDR);
        Assert.Equal("KVM_GET_ONE_REG", IoctlTable.Find(KvmIoctls.KVM_GET_ONE_REG, KvmFd.Vcpu)!.Name);
        Assert.Equal("KVM_ARM_SET_DEVICE_ADDR", IoctlTable.Find(KvmIoctls.KVM_GET_ONE_REG, KvmFd.Vm)!.Name);
        Assert.Null(IoctlTable.Find(KvmIoctls.KVM_RUN, KvmFd.Vm));
        Assert.Null(IoctlTable.Find(KvmIoctls.KVM_CREATE_VM, KvmFd.Vcpu));
    }

    [Fact]
    public void DeviceAttrIoctlsGoToDeviceVmAndVcpuFds()
    {
        foreach (var fd in new[] { KvmFd.Device, KvmFd.Vm, KvmFd.Vcpu })
            Assert.Equal("KVM_HAS_DEVICE_ATTR", IoctlTable.Find(KvmIoctls.KVM_HAS_DEVICE_ATTR, fd)!.Name);
        Assert.Null(IoctlTable.Find(KvmIoctls.KVM_HAS_DEVICE_ATTR, KvmFd.System));
    }

    [Fact]
    public void IocEncodesAndDecodesEveryField()
    {
        uint cmd = Ioc.Iowr(0xAE, 0xe0, 12);
        Assert.Equal(KvmIoctls.KVM_CREATE_DEVICE, cmd);
        Assert.Equal(IocDir.Read | IocDir.Write, Ioc.Dir(cmd));
        Assert.Equal(0xAEu, Ioc.Type(cmd));
        Assert.Equal(0xe0u, Ioc.Nr(cmd));
        Assert.Equal(12u, Ioc.Size(cmd));
        Assert.Equal(KvmIoctls.KVM_RUN, Ioc.Io(0xAE, 0x80));
        Assert.Equal("_IOWR(0xae, 0xe0, 12)", Ioc.Describe(cmd));
        Assert.Equal("_IO(0xae, 0x80)", Ioc.Describe(KvmIoctls.KVM_RUN));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ioc.Iow(0xAE, 1, 1u << 14));
    }

    [Fact]
    public void ConstantNamesLookUpByValue()
    {
        Assert.Equal("KVM_CAP_ARM_VM_IPA_SIZE", KvmCaps.Name(165));
        Assert.Equal("KVM_CAP_MANUAL_DIRTY_LOG_PROTECT", KvmCaps.Name(166));
        Assert.Null(KvmCaps.Name(100_000));
        Assert.Equal("KVM_EXIT_MMIO", KvmExit.Name(6));
        Assert.Equal("KVM_EXIT_SYSTEM_EVENT", KvmExit.Name(24));
        Assert.Equal("KVM_SYSTEM_EVENT_RESET", KvmSystemEvent.Name(2));
        Assert.Equal("KVM_MP_STATE_STOPPED", KvmMpStates.Name(5));
        Assert.Equal("KVM_DEV_TYPE_ARM_VGIC_V3", KvmDevType.Name(7));
        Assert.Equal("KVM_DEV_ARM_VGIC_GRP_CTRL", KvmVgic.GroupName(4));
        Assert.Equal("KVM_ARM_VCPU_PSCI_0_2", KvmArm.FeatureName(2));
        Assert.Equal("KVM_ARM_TARGET_GENERIC_V8", KvmArm.TargetName(5));
        Assert.Equal("PSCI_0_2_FN_PSCI_VERSION", Psci.FunctionName(0x84000000));
        Assert.Equal("PSCI_0_2_FN64_CPU_ON", Psci.FunctionName(0xC4000003));
    }

    [Fact]
    public void CapabilitiesAreUniqueAndComplete()
    {
        var caps = UapiNames.Constants(typeof(KvmCaps)).ToList();
        Assert.True(caps.Count >= 210);
        Assert.Equal(caps.Count, caps.Select(c => c.Name).Distinct().Count());
        Assert.Equal(165ul, caps.Single(c => c.Name == "KVM_CAP_ARM_VM_IPA_SIZE").Value);
    }

    [Fact]
    public void KvmIrqLineEncodingRoundTrips()
    {
        uint irq = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_PPI, 3, 27);
        Assert.Equal(0x0203001bu, irq);
        Assert.Equal((KvmArm.KVM_ARM_IRQ_TYPE_PPI, 3u, 27u), KvmArm.DecodeIrqLine(irq));
        // vCPU index 300 needs the VCPU2 bits (KVM_CAP_ARM_IRQ_LINE_LAYOUT_2).
        uint wide = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_PPI, 300, 27);
        Assert.Equal(0x1u, wide >> 28);
        Assert.Equal(300u, KvmArm.DecodeIrqLine(wide).VcpuIndex);
    }

    [Fact]
    public void VcpuInitFeatureBits()
    {
        var init = new KvmVcpuInit { target = KvmArm.KVM_ARM_TARGET_GENERIC_V8 };
        init.SetFeature(KvmArm.KVM_ARM_VCPU_PSCI_0_2);
        init.SetFeature(KvmArm.KVM_ARM_VCPU_POWER_OFF);
        Assert.True(init.HasFeature(KvmArm.KVM_ARM_VCPU_PSCI_0_2));
        Assert.False(init.HasFeature(KvmArm.KVM_ARM_VCPU_SVE));
        unsafe { Assert.Equal(0b101u, init.features[0]); }
    }

    [Fact]
    public void UserspaceMemoryRegionSlotSplitsAddressSpace()
    {
        var region = new KvmUserspaceMemoryRegion { slot = (1u << 16) | 7 };
        Assert.Equal(1u, region.AddressSpace);
        Assert.Equal(7u, region.SlotId);
    }

    [Fact]
    public void EveryUapiConstantClassHasOnlyIntegerConstants()
    {
        foreach (var t in UapiReflection.ProtocolAssembly.GetTypes().Where(t => t.GetCustomAttribute<UapiConstantsAttribute>() is not null))
            Assert.NotEmpty(UapiNames.Constants(t));
    }
}
