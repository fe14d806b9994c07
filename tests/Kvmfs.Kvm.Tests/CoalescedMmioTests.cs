using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

/// <summary>KVM_(UN)REGISTER_COALESCED_MMIO with virt/kvm/coalesced_mmio.c's rules.</summary>
public class CoalescedMmioTests
{
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    public CoalescedMmioTests() => _vm = NewVm(_u);
    private long Coalesced(uint cmd, ulong addr, uint size, uint pio = 0) =>
        With(_vm, _u, cmd, new KvmCoalescedMmioZone { addr = addr, size = size, pio = pio });

    [Fact]
    public void CoalescedMmio_Register_UnregisterInsideZone_RemovesIt()
    {
        Assert.Equal(0, Coalesced(KVM_REGISTER_COALESCED_MMIO, 0x9000000, 0x1000));
        Assert.Equal(0, Coalesced(KVM_REGISTER_COALESCED_MMIO, 0x6200, 8, pio: 1));
        Assert.Equal(2, _vm.CoalescedMmio.Snapshot.Length);
        // kvmtool unregisters with size 1 at the zone's start: any range inside the zone removes it.
        Assert.Equal(0, Coalesced(KVM_UNREGISTER_COALESCED_MMIO, 0x9000000, 1));
        var left = Assert.Single(_vm.CoalescedMmio.Snapshot);
        Assert.True(left.Pio);
        // A range that is not inside any zone, or on the other bus, removes nothing and still succeeds.
        Assert.Equal(0, Coalesced(KVM_UNREGISTER_COALESCED_MMIO, 0x6200, 9, pio: 1));
        Assert.Equal(0, Coalesced(KVM_UNREGISTER_COALESCED_MMIO, 0x6200, 1, pio: 0));
        Assert.Single(_vm.CoalescedMmio.Snapshot);
    }

    [Fact]
    public void CoalescedMmio_BadPio_Einval()
    {
        Assert.Equal(-EINVAL, Coalesced(KVM_REGISTER_COALESCED_MMIO, 0x9000000, 0x1000, pio: 2));
        Assert.Equal(-EINVAL, Coalesced(KVM_UNREGISTER_COALESCED_MMIO, 0x9000000, 0x1000, pio: 2));
        Assert.Empty(_vm.CoalescedMmio.Snapshot);
    }

    [Fact]
    public void CoalescedMmio_FullBus_Enospc()
    {
        for (uint i = 0; i < 1000; i++) Assert.Equal(0, Coalesced(KVM_REGISTER_COALESCED_MMIO, 0x10000000 + i * 0x1000UL, 0x1000));
        Assert.Equal(-ENOSPC, Coalesced(KVM_REGISTER_COALESCED_MMIO, 0x20000000, 0x1000));
        Assert.Equal(0, Coalesced(KVM_REGISTER_COALESCED_MMIO, 0x6200, 8, pio: 1)); // the PIO bus is another bus
    }
}
