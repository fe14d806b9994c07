using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>One KVM_REGISTER_COALESCED_MMIO zone: guest writes into it may be queued in the ring instead of exiting.</summary>
public sealed record CoalescedZone(ulong Addr, uint Size, bool Pio)
{
    /// <summary>True when [addr, addr+len) lies inside this zone (how KVM matches both accesses and unregistering).</summary>
    public bool Contains(ulong addr, ulong len) => addr + len >= addr && addr >= Addr && addr + len <= Addr + Size;
}

/// <summary>
/// The VM's coalesced MMIO/PIO zones (virt/kvm/coalesced_mmio.c). The ring lives in page
/// KVM_COALESCED_MMIO_PAGE_OFFSET (1) of every vCPU mapping. Coalescing is an optimisation the
/// VMM cannot rely on: a write that is not queued exits as KVM_EXIT_MMIO, which VMMs handle the
/// same way. kvmfs keeps the zones (so VMMs see KVM's answers) and, for now, queues nothing: the
/// ring stays empty.
/// </summary>
public sealed class CoalescedMmio
{
    /// <summary>KVM_COALESCED_MMIO_PAGE_OFFSET on arm64: KVM_CHECK_EXTENSION(KVM_CAP_COALESCED_MMIO) answers it.</summary>
    public const int RingPageOffset = 1;
    /// <summary>NR_IOBUS_DEVS: devices per bus; a full bus refuses another zone with ENOSPC.</summary>
    private const int MaxPerBus = 1000;
    private readonly List<CoalescedZone> _zones = [];

    public CoalescedZone[] Snapshot { get { lock (_zones) return [.. _zones]; } }

    public int Register(KvmCoalescedMmioZone zone, out string why)
    {
        why = "";
        if (zone.pio is not (0 or 1)) { why = $"pio must be 0 or 1, not {zone.pio}"; return -Errno.EINVAL; }
        lock (_zones)
        {
            int onBus = 0;
            foreach (var z in _zones) if (z.Pio == (zone.pio == 1)) onBus++;
            if (onBus >= MaxPerBus) { why = "the bus holds NR_IOBUS_DEVS devices"; return -Errno.ENOSPC; }
            _zones.Add(new CoalescedZone(zone.addr, zone.size, zone.pio == 1));
        }
        return 0;
    }

    /// <summary>Removes every zone of that bus that contains the given range; finding none is not an error (as in KVM).</summary>
    public int Unregister(KvmCoalescedMmioZone zone, out string why)
    {
        why = "";
        if (zone.pio is not (0 or 1)) { why = $"pio must be 0 or 1, not {zone.pio}"; return -Errno.EINVAL; }
        lock (_zones) _zones.RemoveAll(z => z.Pio == (zone.pio == 1) && z.Contains(zone.addr, zone.size));
        return 0;
    }

    public void Clear() { lock (_zones) _zones.Clear(); }
}
