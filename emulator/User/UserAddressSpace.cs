using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.User;

/// <summary>
/// A Linux process's virtual address space for user mode: one host reservation of
/// <see cref="Size"/> bytes (PROT_NONE, MAP_NORESERVE) where guest address va lives at host Base + va.
/// Mapped ranges get host read/write pages (demand-zero, so untouched pages cost nothing); the
/// guest's own protection is kept per 4 KiB page in a byte table and handed to the CPU's TLB on a
/// miss. Nothing here is MMIO. Placement follows Linux's shape: mmap grows down below the stack,
/// brk grows up after the program's bss.
/// </summary>
public sealed unsafe class UserAddressSpace : IMemorySystem, IDisposable
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    /// <summary>Guest addresses are [0, Size): 1 TiB, plenty for a test program, and a 40-bit VA.</summary>
    public const ulong Size = 1UL << 40;
    static readonly ulong SizeValue = Size;
    public const ulong StackTop = Size - 0x1000_0000;          // a gap above the stack, as Linux leaves one
    public const ulong StackSize = 8UL << 20;                  // RLIMIT_STACK's usual 8 MiB, mapped up front
    public const ulong MmapTop = StackTop - StackSize - (1UL << 30);
    public const ulong PieBase = 0x55_0000_0000;               // where an ET_DYN program is placed

    public readonly byte* Base;
    readonly byte* perms;            // one PagePerms per guest page; 0 = not mapped
    ulong mmapNext = MmapTop;
    bool disposed;

    /// <summary>The CPU whose TLB and decoded blocks must forget pages that change.</summary>
    public ArmCpu? Cpu;

    public ulong BrkStart, BrkCurrent;

    public UserAddressSpace()
    {
        Base = (byte*)Libc.mmap(null, (nuint)(ulong)SizeValue, Libc.PROT_NONE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        if (Base == Libc.MapFailed) throw new InvalidOperationException($"cannot reserve {Size >> 30} GiB of host address space (errno {Libc.Errno})");
        perms = (byte*)Libc.mmap(null, (nuint)(Size >> PageShift), Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        if (perms == Libc.MapFailed) throw new InvalidOperationException($"cannot map the page table (errno {Libc.Errno})");
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        Libc.munmap(Base, (nuint)(ulong)SizeValue);
        Libc.munmap(perms, (nuint)(Size >> PageShift));
    }

    public static ulong PageAlignUp(ulong v) => (v + PageSize - 1) & ~(PageSize - 1);
    public static ulong PageAlignDown(ulong v) => v & ~(PageSize - 1);

    /// <summary>Host address of a guest address (no checks).</summary>
    public byte* Host(ulong va) => Base + va;

    public bool InRange(ulong va, ulong length) => va < Size && length <= Size - va;

    public PagePerms PermsAt(ulong va) => va < Size ? (PagePerms)perms[va >> PageShift] : PagePerms.None;

    /// <summary>True if every page of [va, va+length) is mapped with at least <paramref name="need"/>.</summary>
    public bool Check(ulong va, ulong length, PagePerms need)
    {
        if (length == 0) return true;
        if (!InRange(va, length)) return false;
        for (ulong p = va >> PageShift, last = (va + length - 1) >> PageShift; p <= last; p++)
        {
            var have = (PagePerms)perms[p];
            if (have == PagePerms.None || (have & need) != need) return false;
        }
        return true;
    }

    public bool IsFree(ulong va, ulong length)
    {
        if (!InRange(va, length)) return false;
        for (ulong p = va >> PageShift, last = (va + length - 1) >> PageShift; p <= last; p++)
            if (perms[p] != 0) return false;
        return true;
    }

    /// <summary>Maps fresh zero pages at [va, va+length) (page aligned) with the guest protection <paramref name="prot"/>.</summary>
    public bool Map(ulong va, ulong length, PagePerms prot)
    {
        if (length == 0 || !InRange(va, length) || (va & (PageSize - 1)) != 0) return false;
        length = PageAlignUp(length);
        void* r = Libc.mmap(Base + va, (nuint)length, Libc.PROT_READ | Libc.PROT_WRITE,
            Libc.MAP_FIXED | Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        if (r == Libc.MapFailed) return false;
        SetPerms(va, length, prot);
        Forget(va, length);
        return true;
    }

    /// <summary>Unmaps [va, va+length): the host pages are returned (PROT_NONE again).</summary>
    public void Unmap(ulong va, ulong length)
    {
        length = PageAlignUp(length);
        if (length == 0 || !InRange(va, length)) return;
        Libc.mmap(Base + va, (nuint)length, Libc.PROT_NONE,
            Libc.MAP_FIXED | Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS | Libc.MAP_NORESERVE, -1, 0);
        new Span<byte>(perms + (va >> PageShift), (int)(length >> PageShift)).Clear();
        Forget(va, length);
    }

    /// <summary>Changes the protection of mapped pages; false (ENOMEM) if part of the range is not mapped.</summary>
    public bool Protect(ulong va, ulong length, PagePerms prot)
    {
        length = PageAlignUp(length);
        if (!InRange(va, length)) return false;
        for (ulong p = va >> PageShift, end = (va + length) >> PageShift; p < end; p++)
            if (perms[p] == 0) return false;
        SetPerms(va, length, prot);
        Forget(va, length);
        return true;
    }

    /// <summary>Zero-fills mapped pages (MADV_DONTNEED on private anonymous memory).</summary>
    public void Discard(ulong va, ulong length)
    {
        length = PageAlignUp(length);
        if (!InRange(va, length)) return;
        Libc.madvise(Base + va, (nuint)length, Libc.MADV_DONTNEED);
    }

    void SetPerms(ulong va, ulong length, PagePerms prot)
    {
        // A mapped page always has a nonzero entry, even PROT_NONE (0x80 = "mapped, no access").
        byte value = prot == PagePerms.None ? (byte)0x80 : (byte)prot;
        new Span<byte>(perms + (va >> PageShift), (int)(length >> PageShift)).Fill(value);
    }

    void Forget(ulong va, ulong length)
    {
        if (Cpu == null) return;
        if (length >= 64 * PageSize) Cpu.FlushTlb();
        else for (ulong a = va; a < va + length; a += PageSize) Cpu.FlushTlbPage(a);
        Cpu.FlushDecodedBlocks(va, length);
    }

    /// <summary>A free range for mmap without MAP_FIXED: the hint if free, else the next one below the last.</summary>
    public ulong FindFree(ulong hint, ulong length)
    {
        if (length == 0 || length > Size) return ulong.MaxValue;
        length = PageAlignUp(length);
        if (hint != 0 && (hint & (PageSize - 1)) == 0 && IsFree(hint, length)) return hint;
        while (true)
        {
            if (mmapNext < length + BrkCurrent + (1UL << 30)) return ulong.MaxValue;
            ulong candidate = PageAlignDown(mmapNext - length);
            mmapNext = candidate;
            if (IsFree(candidate, length)) return candidate;
        }
    }

    /// <summary>Copies bytes into guest memory regardless of the guest's protection (loader, kernel writes).</summary>
    public void Poke(ulong va, ReadOnlySpan<byte> data) => data.CopyTo(new Span<byte>(Base + va, data.Length));

    // ---------------------------------------------------------------- IMemorySystem

    public bool Translate(ArmCpu cpu, ulong va, AccessType type, out PageTranslation page, out Fault fault)
    {
        page = default;
        fault = default;
        if (va >= Size) { fault = new Fault(FaultKind.Translation, 0); return false; }
        byte p = perms[va >> PageShift];
        if (p == 0) { fault = new Fault(FaultKind.Translation, 3); return false; }
        var granted = (PagePerms)(p & 7);
        var need = type switch { AccessType.Read => PagePerms.Read, AccessType.Write => PagePerms.Write, _ => PagePerms.Execute };
        if ((granted & need) == 0) { fault = new Fault(FaultKind.Permission, 3); return false; }
        ulong pageVa = va & ~(PageSize - 1);
        page.HostPage = Base + pageVa;
        page.PhysicalPage = pageVa;
        page.Perms = granted;
        return true;
    }

    public bool MmioRead(ArmCpu cpu, ulong physicalAddress, int size, out ulong value) { value = 0; return false; }
    public bool MmioWrite(ArmCpu cpu, ulong physicalAddress, int size, ulong value) => false;
}
