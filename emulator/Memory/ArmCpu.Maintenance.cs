using System.Collections.Concurrent;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Cpu;

/// <summary>
/// Maintenance requested by other PEs (broadcast TLBI/IC from another vCPU thread, or the hyp after it changed
/// stage 2). Requests are posted from any thread and applied by this PE's own thread at its next block
/// boundary (<see cref="ArmCpu.Run"/> checks one word per block), so the TLB and the block cache stay
/// single-threaded. A remote PE may finish the block it is executing with the old translations.
/// </summary>
public sealed unsafe partial class ArmCpu
{
    const int RemoteTlb = 1, RemoteAllCode = 2, RemoteCodePages = 4;
    int remoteMaintenance;
    readonly ConcurrentQueue<ulong> remoteCodePages = new();

    /// <summary>True when another thread posted maintenance for this PE (checked by the run loop).</summary>
    internal bool RemoteMaintenancePending => Volatile.Read(ref remoteMaintenance) != 0;

    /// <summary>Thread-safe: ask this PE to apply <paramref name="kind"/> before its next block.</summary>
    public void PostMaintenance(Maintenance kind, ulong physicalAddress = 0)
    {
        switch (kind)
        {
            case Maintenance.Tlb: Interlocked.Or(ref remoteMaintenance, RemoteTlb); break;
            case Maintenance.AllCode: Interlocked.Or(ref remoteMaintenance, RemoteAllCode); break;
            default:
                remoteCodePages.Enqueue(physicalAddress);
                Interlocked.Or(ref remoteMaintenance, RemoteCodePages);
                break;
        }
    }

    /// <summary>Applies posted maintenance on this PE's thread.</summary>
    internal void ServiceRemoteMaintenance()
    {
        int work = Interlocked.Exchange(ref remoteMaintenance, 0);
        if ((work & RemoteTlb) != 0) FlushTlb();
        if ((work & RemoteAllCode) != 0) { FlushDecodedBlocks(); remoteCodePages.Clear(); }
        while (remoteCodePages.TryDequeue(out ulong pa)) FlushDecodedBlocksAtPhysical(pa);
        EndBlock = true;
    }
}
