using System.Runtime.CompilerServices;
using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Memory;

/// <summary>The AT (address translate) operations: which regime, which privilege, which stages.</summary>
public enum AtOperation { S1E1, S1E0, S1E2, S12E1, S12E0 }

/// <summary>Implemented by memory systems that can answer AT instructions (PAR_EL1).</summary>
public interface IAddressTranslator
{
    /// <summary>Translates <paramref name="va"/> as an AT instruction does and returns the PAR_EL1 value.
    /// When the translation instead must take an exception (a stage-2 fault on the stage-1 walk of an
    /// AT S1E0*/S1E1* executed at EL1 goes to EL2), <paramref name="exception"/> gets that fault.</summary>
    ulong AddressTranslate(ArmCpu cpu, ulong va, AtOperation op, bool write, out Fault exception);
}

/// <summary>
/// The system-mode memory of a VM's vCPUs: stage 1 (EL1&amp;0 or EL2 regime) and, when HCR_EL2.VM is set for
/// EL1/EL0, stage 2, folded into one result per 4 KiB page for the CPU's software TLB (rights intersected),
/// with RAM and MMIO from <see cref="PhysicalMemory"/>. One instance can serve every vCPU of a VM.
/// <para>The CPU's TLB is flushed by the CPU itself on TLBI and on writes to SCTLR/TCR/TTBR/HCR/VTTBR/VTCR
/// through MSR or <c>TrySetSysReg</c>. Code outside the CPU that changes translation (a hyp editing stage-2
/// descriptors or poking registers through <c>cpu.Sys(...)</c>) must call <c>cpu.TranslationChanged()</c>;
/// a change of the physical region set is picked up by <see cref="SynchronizeTlb"/> before each run.</para>
/// </summary>
public sealed unsafe class SystemMemory : IMemorySystem, IAddressTranslator
{
    public readonly PhysicalMemory Physical;
    readonly ConditionalWeakTable<ArmCpu, StrongBox<long>> seenGeneration = new();
    volatile ArmCpu[] cpus = Array.Empty<ArmCpu>();
    readonly object cpusLock = new();

    public SystemMemory(PhysicalMemory physical) => Physical = physical;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Allows(PagePerms perms, AccessType type) => ((int)perms & (1 << (int)type)) != 0;

    /// <summary>Call on the vCPU's thread before it runs (e.g. at each KVM_RUN): flushes its TLB and decoded
    /// blocks if the physical region set changed since it last ran. Returns true if it flushed.</summary>
    public bool SynchronizeTlb(ArmCpu cpu)
    {
        var seen = seenGeneration.GetValue(cpu, c => { Attach(c); return new StrongBox<long>(-1); });
        long now = Physical.Generation;
        if (seen.Value == now) return false;
        seen.Value = now;
        cpu.TranslationChanged();
        cpu.FlushDecodedBlocks();   // the memory behind a physical page may be different now
        return true;
    }

    /// <summary>Makes <paramref name="cpu"/> one of the PEs that receive broadcast maintenance (TLBI ...IS, IC IVAU,
    /// IC IALLUIS) from the others. <see cref="SynchronizeTlb"/> attaches automatically.</summary>
    public void Attach(ArmCpu cpu)
    {
        lock (cpusLock)
        {
            if (Array.IndexOf(cpus, cpu) >= 0) return;
            var next = new ArmCpu[cpus.Length + 1];
            cpus.CopyTo(next, 0);
            next[^1] = cpu;
            cpus = next;
        }
    }

    public void Detach(ArmCpu cpu)
    {
        lock (cpusLock) cpus = Array.FindAll(cpus, c => c != cpu);
    }

    public void Broadcast(ArmCpu from, Maintenance kind, ulong physicalAddress)
    {
        foreach (var c in cpus)
            if (c != from) c.PostMaintenance(kind, physicalAddress);
    }

    /// <summary>For the hyp after it changed stage-2 descriptors (unmap, write-protect): every attached vCPU
    /// flushes its TLB before its next block (as TLBI VMALLS12E1IS would). Thread-safe.</summary>
    public void InvalidateAllTlbs()
    {
        foreach (var c in cpus) c.PostMaintenance(Maintenance.Tlb);
    }

    /// <summary>Whether stage 2 applies to EL1/EL0 accesses now: HCR_EL2.VM with a hypervisor attached.</summary>
    static bool Stage2Enabled(ArmCpu cpu) => cpu.HasEl2 && (cpu.Sys(SysReg.HCR_EL2) & ArmCpu.Hcr.VM) != 0;

    public bool Translate(ArmCpu cpu, ulong va, AccessType type, out PageTranslation page, out Fault fault)
    {
        page = default;
        uint el = cpu.S->CurrentEl;
        bool ok = el >= 2
            ? TranslateVa(cpu, va, type, el2: true, unprivileged: false, stage2: false, out ulong pa, out PagePerms perms, out _, out fault)
            : TranslateVa(cpu, va, type, el2: false, unprivileged: el == 0, Stage2Enabled(cpu), out pa, out perms, out _, out fault);
        if (!ok) return false;
        ulong ppage = pa & ~0xFFFUL;
        var region = Physical.Find(pa);
        if (region != null && region.Host != null)
        {
            page.HostPage = region.Host + (ppage - region.Base);
            page.PhysicalPage = ppage;
            page.Perms = perms;
            return true;
        }
        // Device or nothing there: not cached; the CPU calls MmioRead/MmioWrite, which abort for "nothing there".
        if (type == AccessType.Execute)
        {
            fault = new Fault(FaultKind.SyncExternal);
            return false;
        }
        page.HostPage = null;
        page.PhysicalPage = ppage;
        page.Perms = perms & ~PagePerms.Execute;
        return true;
    }

    /// <summary>Stage 1 then (optionally) stage 2 for one access. <paramref name="s1"/> describes the stage-1 leaf.</summary>
    bool TranslateVa(ArmCpu cpu, ulong va, AccessType type, bool el2, bool unprivileged, bool stage2,
        out ulong pa, out PagePerms perms, out Stage1Result s1, out Fault fault)
    {
        pa = 0; perms = PagePerms.None;
        var regime = el2 ? Stage1Regime.OfEl2(cpu) : Stage1Regime.El1(cpu);
        var s2 = stage2 ? Stage2Regime.Of(cpu) : default;
        if (!Stage1Walker.Walk(Physical, regime, stage2, s2, va, type, unprivileged, out s1, out fault)) return false;
        perms = s1.Perms;
        pa = s1.OutputAddress;
        if (!stage2) return true;
        if (!Stage2Walker.Walk(Physical, s2, s1.OutputAddress, type, false, out pa, out var s2Perms, out _, out fault)) return false;
        perms &= s2Perms;
        return true;
    }

    public bool MmioRead(ArmCpu cpu, ulong physicalAddress, int size, out ulong value) =>
        Physical.MmioRead(physicalAddress, size, out value);

    public bool MmioWrite(ArmCpu cpu, ulong physicalAddress, int size, ulong value) =>
        Physical.MmioWrite(physicalAddress, size, value);

    public ulong AddressTranslate(ArmCpu cpu, ulong va, AtOperation op, bool write, out Fault exception)
    {
        exception = default;
        var type = write ? AccessType.Write : AccessType.Read;
        bool el2 = op == AtOperation.S1E2;
        bool unprivileged = op is AtOperation.S1E0 or AtOperation.S12E0;
        bool hcrVm = cpu.HasEl2 && (cpu.Sys(SysReg.HCR_EL2) & ArmCpu.Hcr.VM) != 0;
        // S1E0/S1E1 return the IPA, but their table walks still go through stage 2; S12 ops do both stages.
        bool walkThroughStage2 = !el2 && hcrVm;
        bool bothStages = (op is AtOperation.S12E1 or AtOperation.S12E0) && hcrVm;
        var regime = el2 ? Stage1Regime.OfEl2(cpu) : Stage1Regime.El1(cpu);
        var s2 = walkThroughStage2 ? Stage2Regime.Of(cpu) : default;
        ulong pa;
        if (!Stage1Walker.Walk(Physical, regime, walkThroughStage2, s2, va, type, unprivileged, out var s1, out var fault))
        {
            // From EL1, a stage-2 fault during the stage-1 walk is taken to EL2, not reported in PAR.
            if (fault.Stage2 && cpu.S->CurrentEl < 2 && cpu.HasEl2) { exception = fault; return 0; }
            return FaultPar(fault);
        }
        pa = s1.OutputAddress;
        if (bothStages && !Stage2Walker.Walk(Physical, s2, s1.OutputAddress, type, false, out pa, out _, out _, out fault))
            return FaultPar(fault);
        return (pa & 0x0000_FFFF_FFFF_F000UL) | (ulong)s1.Attributes << 56 | (ulong)s1.Shareability << 7 | 1UL << 11;
    }

    /// <summary>PAR_EL1 for a failed translation: F=1, FST, PTW (stage-2 fault on a stage-1 walk), S (stage 2).</summary>
    public static ulong FaultPar(in Fault f) =>
        1UL | (ulong)f.StatusCode << 1 | (f.S1Walk ? 1UL << 8 : 0) | (f.Stage2 ? 1UL << 9 : 0) | 1UL << 11;

    // ---------------------------------------------------------------- helpers for the hyp and tests

    /// <summary>Translates a guest VA as the vCPU's current regime would for <paramref name="type"/>, without
    /// touching the TLB or raising anything: the physical address, or the fault.</summary>
    public bool TryTranslate(ArmCpu cpu, ulong va, AccessType type, out ulong pa, out Fault fault)
    {
        uint el = cpu.S->CurrentEl;
        return el >= 2
            ? TranslateVa(cpu, va, type, true, false, false, out pa, out _, out _, out fault)
            : TranslateVa(cpu, va, type, false, el == 0, Stage2Enabled(cpu), out pa, out _, out _, out fault);
    }
}
