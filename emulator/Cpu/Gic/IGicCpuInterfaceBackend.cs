namespace Kvmfs.Emulator.Cpu.Gic;

/// <summary>Which SGI register generated a software-generated interrupt.</summary>
public enum SgiKind { Group0 = 0, Group1 = 1, Group1Alias = 2 }

/// <summary>
/// The redistributor/distributor side of a GICv3, as seen by one CPU's system-register interface
/// (ICC_*). The MMIO devices implement it; null means "no GIC": nothing is ever pending.
/// The backend drives the CPU's physical IRQ/FIQ lines itself (<see cref="ArmCpu.SetInterruptLine"/>).
/// </summary>
public interface IGicCpuInterfaceBackend
{
    /// <summary>The highest-priority pending, enabled interrupt routed to this CPU (any group); false if none.
    /// Priority is the 8-bit GIC priority (lower value = higher priority); group is 0 or 1.</summary>
    bool TryGetHighestPending(ArmCpu cpu, out uint intid, out byte priority, out int group);
    /// <summary>Acknowledge (ICC_IAR*): pending → active.</summary>
    void Acknowledge(ArmCpu cpu, uint intid);
    /// <summary>Deactivate: ICC_EOIR* with EOImode 0, ICC_DIR, or a hardware-backed virtual interrupt (ICH_LR.HW)
    /// deactivated by the guest.</summary>
    void Deactivate(ArmCpu cpu, uint intid);
    /// <summary>ICC_SGI0R/SGI1R/ASGI1R write: the raw register value (targets, INTID, affinity, IRM).</summary>
    void GenerateSgi(ArmCpu cpu, ulong value, SgiKind kind);
}
