namespace Kvmfs.Emulator.Memory;

public enum AccessType : byte { Read, Write, Execute }

/// <summary>Why a translation failed; mapped onto the architectural fault status codes (DFSC/IFSC).</summary>
public enum FaultKind : byte { None, AddressSize, Translation, AccessFlag, Permission, Alignment, SyncExternal, SyncExternalOnWalk }

/// <summary>A failed translation: kind, lookup level, and whether stage 2 (then IPA is the faulting intermediate address).</summary>
public struct Fault
{
    public FaultKind Kind;
    public int Level;
    public bool Stage2;
    /// <summary>The stage-2 fault happened on a stage-1 table walk access (ISS.S1PTW).</summary>
    public bool S1Walk;
    public ulong Ipa;

    public Fault(FaultKind kind, int level = 0) { Kind = kind; Level = level; Stage2 = false; S1Walk = false; Ipa = 0; }

    /// <summary>The 6-bit DFSC/IFSC code (Arm ARM D17.2.37, ESR_ELx ISS encoding for aborts).</summary>
    public readonly uint StatusCode => Kind switch
    {
        FaultKind.AddressSize => (uint)(Level & 3),
        FaultKind.Translation => 0x04u | (uint)(Level & 3),
        FaultKind.AccessFlag => 0x08u | (uint)(Level & 3),
        FaultKind.Permission => 0x0Cu | (uint)(Level & 3),
        FaultKind.SyncExternal => 0x10u,
        FaultKind.SyncExternalOnWalk => 0x14u | (uint)(Level & 3),
        FaultKind.Alignment => 0x21u,
        _ => 0u,
    };
}

/// <summary>Per-page access rights for the current translation regime, as cached in the software TLB.</summary>
[Flags]
public enum PagePerms : byte { None = 0, Read = 1, Write = 2, Execute = 4, All = 7 }

/// <summary>The result of translating one 4 KiB page: either host memory or a device (MMIO).</summary>
public unsafe struct PageTranslation
{
    /// <summary>Host address of the 4 KiB page, or null for MMIO.</summary>
    public byte* HostPage;
    /// <summary>Physical address of the page (for MMIO callbacks and exclusive monitors).</summary>
    public ulong PhysicalPage;
    public PagePerms Perms;
}

/// <summary>
/// What the CPU asks on a software-TLB miss. User mode implements it with a flat address space;
/// the system emulator with the stage-1/stage-2 walker over guest physical memory.
/// </summary>
public unsafe interface IMemorySystem
{
    /// <summary>Translate the page holding <paramref name="va"/> for an access of this type at the CPU's current
    /// EL and regime. On success the TLB caches the result for all access types in <c>Perms</c>.</summary>
    bool Translate(Cpu.ArmCpu cpu, ulong va, AccessType type, out PageTranslation page, out Fault fault);

    /// <summary>A device access (HostPage was null). Return false for an external abort.</summary>
    bool MmioRead(Cpu.ArmCpu cpu, ulong physicalAddress, int size, out ulong value);
    bool MmioWrite(Cpu.ArmCpu cpu, ulong physicalAddress, int size, ulong value);

    /// <summary>Inner-shareable maintenance by <paramref name="from"/> (TLBI ...IS, IC IALLUIS, IC IVAU) that every
    /// other PE sharing this memory must also apply. A single-PE memory system ignores it.</summary>
    void Broadcast(Cpu.ArmCpu from, Maintenance kind, ulong physicalAddress) { }
}

/// <summary>What a broadcast maintenance operation asks the other PEs to invalidate.</summary>
public enum Maintenance : byte
{
    /// <summary>TLB entries (any TLBI ...IS): the receivers flush their whole TLB.</summary>
    Tlb,
    /// <summary>All decoded code (IC IALLUIS).</summary>
    AllCode,
    /// <summary>Decoded code from one physical page (IC IVAU).</summary>
    CodePage,
}
