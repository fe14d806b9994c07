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
/// an immutable array replaced on every change, as KVM swaps memslot generations.
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

    private Memslot[] _slots = [];

    /// <summary>The current slots, sorted by guest physical address. Never mutated.</summary>
    public Memslot[] Snapshot => Volatile.Read(ref _slots);

    /// <summary>Total guest RAM in bytes, for the FUSE view and stats.</summary>
    public ulong TotalBytes { get { ulong t = 0; foreach (var s in Snapshot) t += s.Size; return t; } }

    /// <summary>The slot holding <paramref name="gpa"/>, or null. Lock free.</summary>
    public Memslot? Find(ulong gpa)
    {
        foreach (var s in Snapshot) if (s.Contains(gpa)) return s;
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

        var slots = Snapshot;
        Memslot? old = Array.Find(slots, s => s.Slot == id);

        if (mem.memory_size == 0)
        {
            if (old is null) { reason = $"deleting slot {id}, which does not exist"; return -Errno.EINVAL; }
            Publish(Array.FindAll(slots, s => s != old));
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

        if (create || move)
        {
            foreach (var s in slots)
            {
                if (s.Slot == id) continue;
                if (baseGfn < s.BaseGfn + s.NPages && s.BaseGfn < baseGfn + npages)
                { reason = $"overlaps slot {s.Slot} [0x{s.GuestPhysAddr:x}, 0x{s.GuestPhysAddr + s.Size:x})"; return -Errno.EEXIST; }
            }
        }

        // kvm_arch_prepare_memory_region: the slot must sit below the VM's IPA size.
        if (baseGfn + npages > (1ul << (int)ipaBits) >> PageShift)
        { reason = $"slot ends above the {ipaBits}-bit IPA space"; return -Errno.EFAULT; }

        SharedMemory? memory = old?.Memory;
        if (create)
        {
            int r = user.ShareMemory(mem.userspace_addr, mem.memory_size, out memory);
            if (r < 0 || memory is null) { reason = $"cannot share VMM memory at 0x{mem.userspace_addr:x}"; return r < 0 ? r : -Errno.EFAULT; }
        }

        var slot = new Memslot
        {
            Slot = (int)id, Flags = mem.flags, GuestPhysAddr = mem.guest_phys_addr, Size = mem.memory_size,
            UserspaceAddr = mem.userspace_addr, Memory = memory!,
        };
        var next = new List<Memslot>(slots.Length + 1);
        foreach (var s in slots) if (s != old) next.Add(s);
        next.Add(slot);
        next.Sort((a, b) => a.GuestPhysAddr.CompareTo(b.GuestPhysAddr));
        Publish([.. next]);
        return 0;
    }

    private void Publish(Memslot[] slots) => Volatile.Write(ref _slots, slots);

    /// <summary>Drops every slot and unmaps its memory (VM teardown).</summary>
    public void Clear()
    {
        var slots = Interlocked.Exchange(ref _slots, []);
        foreach (var s in slots) s.Memory.Dispose();
    }
}
