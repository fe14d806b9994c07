using System.Runtime.CompilerServices;

namespace Kvmfs.Emulator.Memory;

/// <summary>A device in the physical address space. Offsets are relative to the region's base.
/// Return false for an access the device rejects: the CPU takes a synchronous external abort.</summary>
public interface IMmioHandler
{
    bool Read(ulong offset, int size, out ulong value);
    bool Write(ulong offset, int size, ulong value);
}

/// <summary>One region of the physical address space: RAM (host memory) or a device.</summary>
public sealed unsafe class PhysicalRegion
{
    public readonly ulong Base;
    public readonly ulong Size;
    /// <summary>Host memory backing [Base, Base+Size), or null for a device.</summary>
    public readonly byte* Host;
    public readonly IMmioHandler? Device;
    public readonly string Name;

    internal PhysicalRegion(ulong @base, ulong size, byte* host, IMmioHandler? device, string name)
    {
        Base = @base; Size = size; Host = host; Device = device; Name = name;
    }

    public ulong End => Base + Size;
    public bool IsRam => Host != null;
    public override string ToString() => $"{Name} [{Base:x}..{End:x}) {(IsRam ? "RAM" : "MMIO")}";
}

/// <summary>
/// The physical address space the MMU's output addresses land in: a sorted set of non-overlapping RAM
/// regions (raw host pointers, e.g. memfd mappings handed in by the daemon) and MMIO regions with handlers.
/// An address in no region is "nothing there": data accesses get a synchronous external abort.
/// <para>Changes publish a new immutable region array (copy on write), so lookups on vCPU threads never lock
/// and never see a half-updated set. Each change bumps <see cref="Generation"/>: a vCPU must flush its TLB
/// (which caches host pointers) before it runs again — see <see cref="SystemMemory.SynchronizeTlb"/>. The
/// caller must not unmap the host memory of a removed region until every vCPU has done so.</para>
/// </summary>
public sealed unsafe class PhysicalMemory
{
    /// <summary>The physical address size the CPU advertises (ID_AA64MMFR0_EL1.PARange = 48 bits).</summary>
    public const int PaBits = 48;

    volatile PhysicalRegion[] regions = Array.Empty<PhysicalRegion>();
    long generation;
    readonly object writeLock = new();

    /// <summary>Bumped by every change of the region set.</summary>
    public long Generation => Volatile.Read(ref generation);

    public IReadOnlyList<PhysicalRegion> Regions => regions;

    /// <summary>Adds RAM at [pa, pa+size) backed by <paramref name="host"/>. Base and size must be 4 KiB aligned
    /// and must not overlap another region. Returns false (nothing changed) otherwise.</summary>
    public bool AddRam(ulong pa, ulong size, byte* host, string name = "ram")
    {
        if (host == null || ((ulong)host & 0xFFF) != 0) return false;
        return Add(new PhysicalRegion(pa, size, host, null, name));
    }

    /// <summary>Adds a device at [pa, pa+size) (4 KiB aligned, no overlap). Returns false otherwise.</summary>
    public bool AddMmio(ulong pa, ulong size, IMmioHandler device, string name = "mmio") =>
        Add(new PhysicalRegion(pa, size, null, device, name));

    bool Add(PhysicalRegion r)
    {
        if (r.Size == 0 || ((r.Base | r.Size) & 0xFFF) != 0 || r.Base + r.Size < r.Base || (r.Base + r.Size - 1) >> PaBits != 0) return false;
        lock (writeLock)
        {
            var old = regions;
            int i = 0;
            while (i < old.Length && old[i].Base < r.Base) i++;
            if (i > 0 && old[i - 1].End > r.Base) return false;
            if (i < old.Length && r.End > old[i].Base) return false;
            var next = new PhysicalRegion[old.Length + 1];
            Array.Copy(old, 0, next, 0, i);
            next[i] = r;
            Array.Copy(old, i, next, i + 1, old.Length - i);
            Publish(next);
            return true;
        }
    }

    /// <summary>Removes the region that starts at <paramref name="pa"/>. False if there is none.</summary>
    public bool Remove(ulong pa)
    {
        lock (writeLock)
        {
            var old = regions;
            int i = Array.FindIndex(old, r => r.Base == pa);
            if (i < 0) return false;
            var next = new PhysicalRegion[old.Length - 1];
            Array.Copy(old, 0, next, 0, i);
            Array.Copy(old, i + 1, next, i, old.Length - i - 1);
            Publish(next);
            return true;
        }
    }

    void Publish(PhysicalRegion[] next)
    {
        regions = next;
        Interlocked.Increment(ref generation);
    }

    /// <summary>The region holding <paramref name="pa"/>, or null ("nothing there"). Binary search, no allocation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PhysicalRegion? Find(ulong pa)
    {
        var rs = regions;
        int lo = 0, hi = rs.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            var r = rs[mid];
            if (pa < r.Base) hi = mid - 1;
            else if (pa - r.Base >= r.Size) lo = mid + 1;
            else return r;
        }
        return null;
    }

    /// <summary>Host pointer for [pa, pa+size) when it lies inside one RAM region; otherwise null.</summary>
    public byte* HostPointer(ulong pa, ulong size = 1)
    {
        var r = Find(pa);
        if (r == null || r.Host == null || pa - r.Base + size > r.Size) return null;
        return r.Host + (pa - r.Base);
    }

    /// <summary>Reads a translation table descriptor (single-copy atomic, little-endian). False if pa is not RAM.</summary>
    public bool ReadDescriptor(ulong pa, out ulong value)
    {
        byte* p = HostPointer(pa, 8);
        if (p == null || (pa & 7) != 0) { value = 0; return false; }
        value = Volatile.Read(ref *(ulong*)p);
        return true;
    }

    /// <summary>A device read; false for "nothing there", RAM-less device rejection, or a size the device refuses.</summary>
    public bool MmioRead(ulong pa, int size, out ulong value)
    {
        var r = Find(pa);
        if (r != null && r.Host != null && pa - r.Base + (ulong)size <= r.Size)
        {
            // RAM reached through the slow path (e.g. an AT-only or un-cached access): serve it directly.
            byte* p = r.Host + (pa - r.Base);
            value = size switch { 1 => *p, 2 => *(ushort*)p, 4 => *(uint*)p, _ => *(ulong*)p };
            return true;
        }
        if (r?.Device == null) { value = 0; return false; }
        return r.Device.Read(pa - r.Base, size, out value);
    }

    public bool MmioWrite(ulong pa, int size, ulong value)
    {
        var r = Find(pa);
        if (r != null && r.Host != null && pa - r.Base + (ulong)size <= r.Size)
        {
            byte* p = r.Host + (pa - r.Base);
            switch (size)
            {
                case 1: *p = (byte)value; break;
                case 2: *(ushort*)p = (ushort)value; break;
                case 4: *(uint*)p = (uint)value; break;
                default: *(ulong*)p = value; break;
            }
            return true;
        }
        if (r?.Device == null) return false;
        return r.Device.Write(pa - r.Base, size, value);
    }

    /// <summary>Copies bytes out of RAM (for the hyp/daemon and tests). False if any byte is not RAM.</summary>
    public bool ReadBytes(ulong pa, Span<byte> dest)
    {
        int done = 0;
        while (done < dest.Length)
        {
            var r = Find(pa + (ulong)done);
            if (r == null || r.Host == null) return false;
            ulong off = pa + (ulong)done - r.Base;
            int n = (int)Math.Min((ulong)(dest.Length - done), r.Size - off);
            new ReadOnlySpan<byte>(r.Host + off, n).CopyTo(dest[done..]);
            done += n;
        }
        return true;
    }

    /// <summary>Copies bytes into RAM. False if any byte is not RAM (nothing is written then).</summary>
    public bool WriteBytes(ulong pa, ReadOnlySpan<byte> src)
    {
        for (int done = 0; done < src.Length;)
        {
            var r = Find(pa + (ulong)done);
            if (r == null || r.Host == null) return false;
            done += (int)Math.Min((ulong)(src.Length - done), r.End - (pa + (ulong)done));
        }
        for (int done = 0; done < src.Length;)
        {
            var r = Find(pa + (ulong)done)!;
            ulong off = pa + (ulong)done - r.Base;
            int n = (int)Math.Min((ulong)(src.Length - done), r.Size - off);
            src.Slice(done, n).CopyTo(new Span<byte>(r.Host + off, n));
            done += n;
        }
        return true;
    }
}
