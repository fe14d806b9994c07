using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

public class MemslotTests
{
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    private readonly ulong _ram;

    public MemslotTests()
    {
        _vm = NewVm(_u);
        _ram = _u.Alloc(0x40000);
    }

    private long Set(uint slot, ulong gpa, ulong size, ulong uaddr, uint flags = 0) =>
        With(_vm, _u, KVM_SET_USER_MEMORY_REGION, new KvmUserspaceMemoryRegion { slot = slot, guest_phys_addr = gpa, memory_size = size, userspace_addr = uaddr, flags = flags });

    [Fact]
    public void Create_SharesVmmMemory()
    {
        Assert.Equal(0, Set(0, 0x80000000, 0x10000, _ram));
        var s = Assert.Single(_vm.Memslots.Snapshot);
        Assert.Equal((nint)_ram, s.Memory.HostPointer);
        Assert.Same(s, _vm.Memslots.Find(0x8000fff0));
        Assert.Null(_vm.Memslots.Find(0x80010000));
    }

    [Fact] public void UnalignedSize_Einval() => Assert.Equal(-EINVAL, Set(0, 0x80000000, 0x1001, _ram));
    [Fact] public void UnalignedGpa_Einval() => Assert.Equal(-EINVAL, Set(0, 0x80000800, 0x1000, _ram));
    [Fact] public void UnalignedUserAddr_Einval() => Assert.Equal(-EINVAL, Set(0, 0x80000000, 0x1000, _ram + 8));
    [Fact] public void UnknownFlags_Einval() => Assert.Equal(-EINVAL, Set(0, 0x80000000, 0x1000, _ram, 4));
    [Fact] public void SlotBeyondUserSlots_Einval() => Assert.Equal(-EINVAL, Set(32767, 0x80000000, 0x1000, _ram));
    [Fact] public void AddressSpace1_Einval() => Assert.Equal(-EINVAL, Set(1u << 16, 0x80000000, 0x1000, _ram));
    [Fact] public void GuestRangeWraps_Einval() => Assert.Equal(-EINVAL, Set(0, 0xfffffffffffff000, 0x2000, _ram));
    [Fact] public void AboveIpaLimit_Efault() => Assert.Equal(-EFAULT, Set(0, 1ul << 40, 0x1000, _ram));
    [Fact] public void DeleteMissing_Einval() => Assert.Equal(-EINVAL, Set(5, 0, 0, 0));
    [Fact] public void VmmMemoryNotMapped_Efault() { _u.ShareError = -EFAULT; Assert.Equal(-EFAULT, Set(0, 0x80000000, 0x1000, _ram)); }

    [Fact]
    public void OutOfFds_Enomem_AndTheSlotIsNotAdded()
    {
        // EMFILE/ENFILE from the front end (no fd left for the memfd) is a failed allocation to
        // the VMM, as KVM reports one: ENOMEM, and nothing half-made stays behind.
        foreach (int e in new[] { 24, 23 })
        {
            _u.ShareError = -e;
            Assert.Equal(-ENOMEM, Set(0, 0x80000000, 0x1000, _ram));
            Assert.Null(_vm.Memslots.Find(0x80000000));
        }
        _u.ShareError = 0;
        Assert.Equal(0, Set(0, 0x80000000, 0x1000, _ram));
    }

    [Fact]
    public void Overlap_Eexist()
    {
        Assert.Equal(0, Set(0, 0x80000000, 0x10000, _ram));
        Assert.Equal(-EEXIST, Set(1, 0x8000f000, 0x2000, _ram + 0x10000));
        Assert.Equal(0, Set(1, 0x80010000, 0x2000, _ram + 0x10000));
    }

    [Fact]
    public void Delete_DisposesMapping()
    {
        Assert.Equal(0, Set(2, 0x80000000, 0x1000, _ram));
        Assert.Equal(0, Set(2, 0x80000000, 0, _ram));
        Assert.Empty(_vm.Memslots.Snapshot);
        Assert.Equal(1, _u.Disposed);
    }

    [Fact]
    public void Move_KeepsMemory_ChangesGpa()
    {
        Assert.Equal(0, Set(0, 0x80000000, 0x2000, _ram));
        Assert.Equal(0, Set(0, 0x90000000, 0x2000, _ram));
        Assert.Equal(0x90000000ul, Assert.Single(_vm.Memslots.Snapshot).GuestPhysAddr);
        Assert.Equal(0, _u.Disposed);
        Assert.Single(_u.Shared);
    }

    [Fact]
    public void Modify_SizeOrUserAddr_Einval()
    {
        Assert.Equal(0, Set(0, 0x80000000, 0x2000, _ram));
        Assert.Equal(-EINVAL, Set(0, 0x80000000, 0x3000, _ram));
        Assert.Equal(-EINVAL, Set(0, 0x80000000, 0x2000, _ram + 0x1000));
    }

    [Fact]
    public void FlagsChange_DirtyLogOk_ReadonlyEinval()
    {
        Assert.Equal(0, Set(0, 0x80000000, 0x2000, _ram));
        Assert.Equal(0, Set(0, 0x80000000, 0x2000, _ram, KvmMem.KVM_MEM_LOG_DIRTY_PAGES));
        Assert.True(_vm.Memslots.Snapshot[0].LogDirtyPages);
        Assert.Equal(-EINVAL, Set(0, 0x80000000, 0x2000, _ram, KvmMem.KVM_MEM_READONLY));
    }

    [Fact]
    public void SameRegionAgain_NoChange()
    {
        Assert.Equal(0, Set(0, 0x80000000, 0x2000, _ram));
        Assert.Equal(0, Set(0, 0x80000000, 0x2000, _ram));
        Assert.Single(_u.Shared);
    }

    [Fact]
    public void AllUserSlots_AddedQuickly_AndFoundByAddress()
    {
        // set_memory_region_test adds KVM_CAP_NR_MEMSLOTS slots; that must stay cheap.
        ulong big = _u.Alloc(32767ul * 4096);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        for (uint i = 0; i < 32767; i++)
            Assert.Equal(0, Set(i, 0x100000000ul + i * 0x2000ul, 0x1000, big + i * 0x1000ul));
        Assert.True(sw.Elapsed.TotalSeconds < 20, $"took {sw.Elapsed}");
        Assert.Equal(-EINVAL, Set(32767, 0x200000000ul, 0x1000, _ram));
        Assert.Equal(-EEXIST, Set(5, 0x100000000ul + 7 * 0x2000ul, 0x1000, big + 5 * 0x1000ul)); // moving slot 5 onto slot 7
        Assert.Equal(1234, _vm.Memslots.Find(0x100000000ul + 1234 * 0x2000ul + 8)!.Slot);
        Assert.Null(_vm.Memslots.Find(0x100000000ul + 1234 * 0x2000ul + 0x1000));
    }

    [Fact]
    public void DirtyLog_OnlyForLoggingSlots_AndClearedOnRead()
    {
        Assert.Equal(0, Set(0, 0x80000000, 0x10000, _ram));
        ulong bitmap = _u.Alloc(64);
        Assert.Equal(-ENOENT, With(_vm, _u, KVM_GET_DIRTY_LOG, new KvmDirtyLog { slot = 0, dirty_bitmap = bitmap }));
        Assert.Equal(-EINVAL, With(_vm, _u, KVM_GET_DIRTY_LOG, new KvmDirtyLog { slot = 40000, dirty_bitmap = bitmap }));
        Assert.Equal(0, Set(0, 0x80000000, 0x10000, _ram, KvmMem.KVM_MEM_LOG_DIRTY_PAGES));
        _vm.Memslots.Find(0x80003004)!.MarkDirty(0x80003004);
        Assert.Equal(0, With(_vm, _u, KVM_GET_DIRTY_LOG, new KvmDirtyLog { slot = 0, dirty_bitmap = bitmap }));
        Assert.Equal(1ul << 3, _u.U64At(bitmap));
        Assert.Equal(0, With(_vm, _u, KVM_GET_DIRTY_LOG, new KvmDirtyLog { slot = 0, dirty_bitmap = bitmap }));
        Assert.Equal(0ul, _u.U64At(bitmap));
        Assert.Equal(-EFAULT, With(_vm, _u, KVM_GET_DIRTY_LOG, new KvmDirtyLog { slot = 0, dirty_bitmap = 8 }));
    }
}
