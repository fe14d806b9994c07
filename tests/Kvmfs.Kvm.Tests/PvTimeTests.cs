using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

/// <summary>KVM_ARM_VCPU_PVTIME_CTRL (kvm_arm_pvtime_{has,get,set}_attr) and the stolen-time record.</summary>
public class PvTimeTests
{
    private const ulong SlotGpa = 0x1000_0000;
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    private readonly Vcpu _v;
    private readonly ulong _ram;
    private readonly ulong _arg;

    public PvTimeTests()
    {
        _vm = NewVm(_u);
        _v = InitVcpu(_vm, _u, 0);
        _ram = _u.Alloc(0x10000);
        Assert.Equal(0, With(_vm, _u, KVM_SET_USER_MEMORY_REGION,
            new KvmUserspaceMemoryRegion { slot = 0, guest_phys_addr = SlotGpa, memory_size = 0x10000, userspace_addr = _ram }));
        _arg = _u.Alloc(4096);
    }

    private long Attr(uint cmd, ulong ipa, ulong attr = KvmArm.KVM_ARM_VCPU_PVTIME_IPA)
    {
        _u.SetU64(_arg, ipa);
        return With(_v, _u, cmd, new KvmDeviceAttr { group = KvmArm.KVM_ARM_VCPU_PVTIME_CTRL, attr = attr, addr = _arg });
    }

    [Fact]
    public void Get_BeforeSet_IsGpaInvalid()
    {
        Assert.Equal(0, Attr(KVM_GET_DEVICE_ATTR, 0));
        Assert.Equal(ulong.MaxValue, _u.U64At(_arg));
    }

    [Fact] public void Set_Unaligned_Einval() => Assert.Equal(-EINVAL, Attr(KVM_SET_DEVICE_ATTR, SlotGpa | 1));
    [Fact] public void Set_OutsideEveryMemslot_Einval() => Assert.Equal(-EINVAL, Attr(KVM_SET_DEVICE_ATTR, 0x2000_0000));
    [Fact] public void Set_UnknownAttr_Enxio() => Assert.Equal(-ENXIO, Attr(KVM_SET_DEVICE_ATTR, SlotGpa, 1));

    [Fact]
    public void Set_BadPointer_Efault()
    {
        Assert.Equal(-EFAULT, With(_v, _u, KVM_SET_DEVICE_ATTR, new KvmDeviceAttr { group = KvmArm.KVM_ARM_VCPU_PVTIME_CTRL, attr = 0, addr = 8 }));
    }

    [Fact]
    public void Set_Then_Get_Then_SetAgain_Eexist()
    {
        Assert.Equal(0, Attr(KVM_SET_DEVICE_ATTR, SlotGpa + 0x40));
        Assert.Equal(0, Attr(KVM_GET_DEVICE_ATTR, 0));
        Assert.Equal(SlotGpa + 0x40, _u.U64At(_arg));
        Assert.Equal(-EEXIST, Attr(KVM_SET_DEVICE_ATTR, SlotGpa + 0x80));
        Assert.Equal(0L, PvTime.Features(_v));
    }

    [Fact]
    public void FirstEntry_ZeroesTheStructure_LaterEntriesOnlyGrowStolenTime()
    {
        for (int i = 0; i < 64; i += 8) _u.SetU64(_ram + 0x40 + (ulong)i, 0xdead);
        Assert.Equal(0, Attr(KVM_SET_DEVICE_ATTR, SlotGpa + 0x40));
        ulong before = PvTime.ThreadRunDelayNs();
        PvTime.RecordSteal(_v);
        for (int i = 0; i < 64; i += 8) Assert.Equal(0ul, _u.U64At(_ram + 0x40 + (ulong)i));
        Thread.Sleep(1);
        PvTime.RecordSteal(_v);
        ulong stolen = _u.U64At(_ram + 0x48), after = PvTime.ThreadRunDelayNs();
        // What the record adds is this thread's run delay since the first entry, never more.
        Assert.True(stolen <= after - before, $"stolen {stolen}, run delay grew by {after - before}");
        Assert.True(File.Exists("/proc/thread-self/schedstat") ? after >= before : after == 0);
        Assert.Equal(0ul, _u.U64At(_ram + 0x40)); // revision and attributes stay 0
    }
}
