using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>One guest physical memory region backed by VMM memory shared with the daemon.</summary>
public sealed class Memslot
{
    public required int Slot { get; init; }
    public required uint Flags { get; init; }
    public required ulong GuestPhysAddr { get; init; }
    public required ulong Size { get; init; }
    public required ulong UserspaceAddr { get; init; }
    /// <summary>The daemon's mapping of the VMM memory; shared by the old and new slot on MOVE / flag changes.</summary>
    public required SharedMemory Memory { get; init; }

    /// <summary>One bit per page written since the last KVM_GET_DIRTY_LOG (slots with KVM_MEM_LOG_DIRTY_PAGES).</summary>
    public ulong[]? DirtyBitmap { get; init; }

    /// <summary>Records a guest write to <paramref name="gpa"/> for dirty logging (called by the stage-2 write path).</summary>
    public void MarkDirty(ulong gpa)
    {
        var bitmap = DirtyBitmap;
        if (bitmap is null || !Contains(gpa)) return;
        ulong page = (gpa - GuestPhysAddr) >> Memslots.PageShift;
        Interlocked.Or(ref bitmap[page / 64], 1ul << (int)(page % 64));
    }

    public ulong BaseGfn => GuestPhysAddr >> Memslots.PageShift;
    public ulong NPages => Size >> Memslots.PageShift;
    public bool ReadOnly => (Flags & KvmMem.KVM_MEM_READONLY) != 0;
    public bool LogDirtyPages => (Flags & KvmMem.KVM_MEM_LOG_DIRTY_PAGES) != 0;
    public bool Contains(ulong gpa) => gpa - GuestPhysAddr < Size;
}

/// <summary>
/// The VM's memslots (address space 0; arm64 has one) with KVM_SET_USER_MEMORY_REGION's rules
/// from __kvm_set_memory_region and kvm_arch_prepare_memory_region. Updates happen under the VM
/// lock; readers (vCPU threads resolving guest physical addresses) take <see cref="Snapshot"/>,
/// an immutable sorted array rebuilt after a change, as KVM swaps memslot generations.
/// </summary>
public sealed class Memslots
{
    public const int PageShift = 12;
    public const ulong PageSize = 1ul << PageShift;
    private const ulong ValidFlags = KvmMem.KVM_MEM_LOG_DIRTY_PAGES | KvmMem.KVM_MEM_READONLY;
    /// <summary>KVM_MEM_MAX_NR_PAGES: npages must fit in 31 bits.</summary>
    private const ulong MaxPages = (1ul << 31) - 1;
    /// <summary>Top of the arm64 user address space (48-bit VA): access_ok's limit.</summary>
    private const ulong UserAddressLimit = 1ul << 48;

    /// <summary>Slots by guest physical address (disjoint), guarded by itself.</summary>
    private readonly SortedList<ulong, Memslot> _byGpa = [];
    /// <summary>Slots by id; changed only under the VM lock.</summary>
    private readonly Dictionary<int, Memslot> _byId = [];
    private Memslot[]? _snapshot = [];

    /// <summary>The current slots, sorted by guest physical address. Never mutated.</summary>
    public Memslot[] Snapshot
    {
        get
        {
            var s = Volatile.Read(ref _snapshot);
            if (s is not null) return s;
            lock (_byGpa)
            {
                s = _snapshot ??= [.. _byGpa.Values];
                return s;
            }
        }
    }

    /// <summary>Total guest RAM in bytes, for the FUSE view and stats.</summary>
    public ulong TotalBytes { get { ulong t = 0; foreach (var s in Snapshot) t += s.Size; return t; } }

    /// <summary>The slot holding <paramref name="gpa"/>, or null. Lock free, binary search.</summary>
    public Memslot? Find(ulong gpa)
    {
        var slots = Snapshot;
        int lo = 0, hi = slots.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var s = slots[mid];
            if (gpa < s.GuestPhysAddr) hi = mid - 1;
            else if (gpa - s.GuestPhysAddr >= s.Size) lo = mid + 1;
            else return s;
        }
        return null;
    }

    /// <summary>The slot overlapping [gfn, gfn+npages) other than <paramref name="self"/>, or null. Caller holds the lock.</summary>
    private Memslot? Overlapping(ulong gfn, ulong npages, Memslot? self)
    {
        var keys = _byGpa.Keys;
        ulong end = (gfn + npages) << PageShift;
        // Last slot starting below the end of the range, walking down while slots still reach into it.
        int lo = 0, hi = keys.Count - 1, i = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (keys[mid] < end) { i = mid; lo = mid + 1; } else hi = mid - 1;
        }
        var values = _byGpa.Values;
        for (; i >= 0; i--)
        {
            var s = values[i];
            if (s.BaseGfn + s.NPages <= gfn) break;
            if (s != self) return s;
        }
        return null;
    }

    /// <summary>
    /// Applies one KVM_SET_USER_MEMORY_REGION. Returns 0 or -errno; <paramref name="reason"/>
    /// says why on failure. The caller holds the VM lock.
    /// </summary>
    public int Set(in KvmUserspaceMemoryRegion mem, ulong ipaBits, IUserAccess user, out string reason)
    {
        reason = "";
        if ((mem.flags & ~ValidFlags) != 0) { reason = $"unknown flags 0x{mem.flags:x}"; return -Errno.EINVAL; }
        uint asId = mem.slot >> 16, id = mem.slot & 0xffff;
        if (id >= Capabilities.UserMemSlots) { reason = $"slot {id} >= KVM_USER_MEM_SLOTS"; return -Errno.EINVAL; }
        if ((mem.memory_size & (PageSize - 1)) != 0) { reason = "memory_size not page aligned"; return -Errno.EINVAL; }
        if ((mem.guest_phys_addr & (PageSize - 1)) != 0) { reason = "guest_phys_addr not page aligned"; return -Errno.EINVAL; }
        if ((mem.userspace_addr & (PageSize - 1)) != 0) { reason = "userspace_addr not page aligned"; return -Errno.EINVAL; }
        if (mem.userspace_addr >= UserAddressLimit || mem.memory_size > UserAddressLimit - mem.userspace_addr)
        { reason = "userspace range outside the user address space"; return -Errno.EINVAL; }
        if (asId != 0) { reason = $"address space {asId} (arm64 has one)"; return -Errno.EINVAL; }
        if (mem.guest_phys_addr + mem.memory_size < mem.guest_phys_addr) { reason = "guest range wraps"; return -Errno.EINVAL; }
        if ((mem.memory_size >> PageShift) > MaxPages) { reason = "too many pages for one slot"; return -Errno.EINVAL; }

        Memslot? old = _byId.GetValueOrDefault((int)id);

        if (mem.memory_size == 0)
        {
            if (old is null) { reason = $"deleting slot {id}, which does not exist"; return -Errno.EINVAL; }
            lock (_byGpa)
            {
                _byGpa.Remove(old.GuestPhysAddr);
                _snapshot = null;
            }
            _byId.Remove((int)id);
            old.Memory.Dispose();
            return 0;
        }

        ulong baseGfn = mem.guest_phys_addr >> PageShift, npages = mem.memory_size >> PageShift;
        bool create = old is null, move = false;
        if (old is not null)
        {
            if (mem.userspace_addr != old.UserspaceAddr || npages != old.NPages || ((mem.flags ^ old.Flags) & KvmMem.KVM_MEM_READONLY) != 0)
            { reason = $"slot {id} exists: only its guest address or dirty logging may change"; return -Errno.EINVAL; }
            if (baseGfn != old.BaseGfn) move = true;
            else if (mem.flags == old.Flags) return 0; // nothing to change
        }

        if ((create || move) && Overlapping(baseGfn, npages, old) is { } other)
        { reason = $"overlaps slot {other.Slot} [0x{other.GuestPhysAddr:x}, 0x{other.GuestPhysAddr + other.Size:x})"; return -Errno.EEXIST; }

        // kvm_arch_prepare_memory_region: the slot must sit below the VM's IPA size.
        if (baseGfn + npages > (1ul << (int)ipaBits) >> PageShift)
        { reason = $"slot ends above the {ipaBits}-bit IPA space"; return -Errno.EFAULT; }

        SharedMemory? memory = old?.Memory;
        if (create)
        {
            int r = user.ShareMemory(mem.userspace_addr, mem.memory_size, out memory);
            if (r < 0 || memory is null)
            {
                reason = $"cannot share VMM memory at 0x{mem.userspace_addr:x} (errno {-r})";
                // Unmapped VMM memory is EFAULT. Running out of fds or mappings on either side is
                // what KVM reports as a failed allocation: ENOMEM, never a crash.
                return r is -Errno.EFAULT or -Errno.EINVAL or -Errno.ENOMEM ? r : r < 0 ? -Errno.ENOMEM : -Errno.EFAULT;
            }
        }

        var slot = new Memslot
        {
            Slot = (int)id, Flags = mem.flags, GuestPhysAddr = mem.guest_phys_addr, Size = mem.memory_size,
            UserspaceAddr = mem.userspace_addr, Memory = memory!,
            DirtyBitmap = (mem.flags & KvmMem.KVM_MEM_LOG_DIRTY_PAGES) == 0 ? null
                : old?.DirtyBitmap ?? new ulong[(npages + 63) / 64],
        };
        lock (_byGpa)
        {
            if (old is not null) _byGpa.Remove(old.GuestPhysAddr);
            _byGpa.Add(slot.GuestPhysAddr, slot);
            _snapshot = null;
        }
        _byId[(int)id] = slot;
        return 0;
    }

    /// <summary>
    /// KVM_GET_DIRTY_LOG (kvm_get_dirty_log_protect without manual protection): hands out the
    /// slot's dirty bitmap and clears it. Returns 0 or -errno. The caller holds the VM lock.
    /// </summary>
    public int GetDirtyLog(uint slot, ulong bitmapAddress, IUserAccess user)
    {
        if ((slot >> 16) != 0 || (slot & 0xffff) >= Capabilities.UserMemSlots) return -Errno.EINVAL;
        var s = _byId.GetValueOrDefault((int)(slot & 0xffff));
        if (s?.DirtyBitmap is not { } bitmap) return -Errno.ENOENT;
        var snapshot = new ulong[bitmap.Length];
        for (int i = 0; i < bitmap.Length; i++) snapshot[i] = Interlocked.Exchange(ref bitmap[i], 0);
        return user.CopyToUser(bitmapAddress, System.Runtime.InteropServices.MemoryMarshal.AsBytes(snapshot.AsSpan())) == 0 ? 0 : -Errno.EFAULT;
    }

    /// <summary>Drops every slot and unmaps its memory (VM teardown).</summary>
    public void Clear()
    {
        Memslot[] slots;
        lock (_byGpa)
        {
            slots = [.. _byGpa.Values];
            _byGpa.Clear();
            _snapshot = [];
        }
        _byId.Clear();
        foreach (var s in slots) s.Memory.Dispose();
    }
}
