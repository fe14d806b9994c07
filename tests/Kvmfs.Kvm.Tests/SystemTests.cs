using Kvmfs.Kvm;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

public class SystemTests
{
    private readonly FakeUser _u = new();
    private readonly KvmSystem _sys = new(new VmOwner(1, "test"));

    [Fact] public void GetApiVersion_Is12() => Assert.Equal(12, Io(_sys, _u, KVM_GET_API_VERSION));
    [Fact] public void GetApiVersion_WithArgument_Einval() => Assert.Equal(-EINVAL, Io(_sys, _u, KVM_GET_API_VERSION, 1));
    [Fact] public void GetVcpuMmapSize_IsTwoPages() => Assert.Equal(8192, Io(_sys, _u, KVM_GET_VCPU_MMAP_SIZE));
    [Fact] public void CheckExtension_IpaSize_Is44() => Assert.Equal(44, Io(_sys, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_ARM_VM_IPA_SIZE));
    [Fact] public void CheckExtension_MaxVcpus_Is512() => Assert.Equal(512, Io(_sys, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_MAX_VCPUS));
    [Fact] public void CheckExtension_NrVcpus_BoundedByHostCpus() => Assert.Equal(Math.Min(Environment.ProcessorCount, 512), Io(_sys, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_NR_VCPUS));
    [Fact] public void CheckExtension_Unimplemented_IsZero()
    {
        foreach (var cap in new[] { KvmCaps.KVM_CAP_ARM_SVE, KvmCaps.KVM_CAP_ARM_MTE, KvmCaps.KVM_CAP_ARM_EL1_32BIT,
                     KvmCaps.KVM_CAP_ARM_PTRAUTH_ADDRESS, 9999u })
            Assert.Equal(0, Io(_sys, _u, KVM_CHECK_EXTENSION, cap));
    }
    [Fact] public void CheckExtension_Implemented_AreOne()
    {
        foreach (var cap in new[] { KvmCaps.KVM_CAP_USER_MEMORY, KvmCaps.KVM_CAP_ONE_REG, KvmCaps.KVM_CAP_DEVICE_CTRL, KvmCaps.KVM_CAP_ARM_PSCI_0_2,
                     KvmCaps.KVM_CAP_IMMEDIATE_EXIT, KvmCaps.KVM_CAP_IRQFD, KvmCaps.KVM_CAP_IOEVENTFD, KvmCaps.KVM_CAP_READONLY_MEM,
                     KvmCaps.KVM_CAP_STEAL_TIME, KvmCaps.KVM_CAP_BINARY_STATS_FD, KvmCaps.KVM_CAP_ARM_PMU_V3, KvmCaps.KVM_CAP_ARM_SYSTEM_SUSPEND,
                     KvmCaps.KVM_CAP_COALESCED_MMIO, KvmCaps.KVM_CAP_COALESCED_PIO })
            Assert.Equal(1, Io(_sys, _u, KVM_CHECK_EXTENSION, cap));
    }
    [Fact] public void CheckExtension_MsiDevid_OnSystemFd_Einval() => Assert.Equal(-EINVAL, Io(_sys, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_MSI_DEVID));
    [Fact] public void UnknownIoctl_Einval() => Assert.Equal(-EINVAL, Io(_sys, _u, KVM_RUN));

    [Fact]
    public void CreateVm_Type0_Has40BitIpa()
    {
        var vm = NewVm(_u);
        Assert.Equal(40, vm.IpaBits);
        vm.Release();
    }

    [Theory]
    [InlineData(32ul, 0L)]
    [InlineData(44ul, 0L)]
    [InlineData(45ul, -22L)]
    [InlineData(31ul, -22L)]
    [InlineData(0x100ul, -22L)]
    public void CreateVm_IpaType(ulong type, long expected)
    {
        var r = Call(_sys, _u, KVM_CREATE_VM, type).Result;
        Assert.Equal(expected, r.Value);
        Assert.Equal(expected == 0, r.NewObject is Vm);
        r.NewObject?.Release();
    }
}

public class VmTests
{
    private readonly FakeUser _u = new();

    [Fact] public void PreferredTarget_IsGenericV8()
    {
        var vm = NewVm(_u);
        var (r, data) = Call(vm, _u, KVM_ARM_PREFERRED_TARGET);
        Assert.Equal(0, r.Value);
        Assert.Equal(KvmArm.KVM_ARM_TARGET_GENERIC_V8, From<KvmVcpuInit>(data).target);
        Assert.All(data[4..], b => Assert.Equal(0, b));
        vm.Release();
    }

    [Fact] public void CheckExtension_OnVm_MsiDevidZero() { var vm = NewVm(_u); Assert.Equal(0, Io(vm, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_MSI_DEVID)); vm.Release(); }
    [Fact] public void UnknownIoctl_Einval() { var vm = NewVm(_u); Assert.Equal(-EINVAL, Io(vm, _u, KVM_RUN)); vm.Release(); }
    [Fact] public void EnableCap_Einval() { var vm = NewVm(_u); Assert.Equal(-EINVAL, With(vm, _u, KVM_ENABLE_CAP, new KvmEnableCap { cap = KvmCaps.KVM_CAP_ARM_NISV_TO_USER })); vm.Release(); }
    [Fact] public void MsiDevid_OneWithIts()
    {
        var vm = NewVm(_u);
        Call(vm, _u, KVM_CREATE_DEVICE, 0, Bytes(new KvmCreateDevice { type = KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3 }));
        Call(vm, _u, KVM_CREATE_DEVICE, 0, Bytes(new KvmCreateDevice { type = KvmDevType.KVM_DEV_TYPE_ARM_VGIC_ITS }));
        Assert.Equal(1, Io(vm, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_MSI_DEVID));
    }

    [Fact] public void SignalMsi_WithoutIts_Enodev() { var vm = NewVm(_u); Assert.Equal(-ENODEV, With(vm, _u, KVM_SIGNAL_MSI, new KvmMsi { data = 1 })); vm.Release(); }
    [Fact] public void SignalMsi_BadFlags_Einval() { var vm = NewVm(_u); Assert.Equal(-EINVAL, With(vm, _u, KVM_SIGNAL_MSI, new KvmMsi { flags = 2 })); vm.Release(); }

    [Fact]
    public void CreateVcpu_DuplicateId_Eexist()
    {
        var vm = NewVm(_u);
        NewVcpu(vm, _u, 3);
        Assert.Equal(-EEXIST, Call(vm, _u, KVM_CREATE_VCPU, 3).Result.Value);
    }

    [Fact] public void CreateVcpu_IdTooLarge_Einval() { var vm = NewVm(_u); Assert.Equal(-EINVAL, Call(vm, _u, KVM_CREATE_VCPU, 512).Result.Value); }

    [Fact]
    public void CreateVcpu_HasKvmRunMemfdOfMmapSize()
    {
        var vm = NewVm(_u);
        var v = NewVcpu(vm, _u, 0);
        Assert.NotNull(v.BackingFd);
        using var fs = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(v.BackingFd!.Value, false), FileAccess.Read);
        Assert.Equal(8192, fs.Length);
    }

    [Fact]
    public void IrqLine_WithoutIrqchip_SpiEnxio_CpuLineOk()
    {
        var vm = NewVm(_u);
        NewVcpu(vm, _u, 0);
        Assert.Equal(-ENXIO, With(vm, _u, KVM_IRQ_LINE, new KvmIrqLevel { irq = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_SPI, 0, 40), level = 1 }));
        Assert.Equal(0, With(vm, _u, KVM_IRQ_LINE, new KvmIrqLevel { irq = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_CPU, 0, 0), level = 1 }));
        Assert.True(vm.VcpuByIndex(0)!.IrqLine);
        Assert.Equal(-EINVAL, With(vm, _u, KVM_IRQ_LINE, new KvmIrqLevel { irq = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_CPU, 5, 0), level = 1 }));
        Assert.Equal(-EINVAL, With(vm, _u, KVM_IRQ_LINE, new KvmIrqLevel { irq = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_CPU, 0, 2), level = 1 }));
        Assert.Equal(-EINVAL, With(vm, _u, KVM_IRQ_LINE, new KvmIrqLevel { irq = 3u << 24, level = 1 }));
    }
}
