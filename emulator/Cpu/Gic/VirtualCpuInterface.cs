using System.Numerics;

namespace Kvmfs.Emulator.Cpu.Gic;

/// <summary>
/// The virtual CPU interface (ICV_* as EL1 sees it under HCR_EL2.IMO/FMO), whose state is the hypervisor's
/// ICH_LR&lt;n&gt;_EL2, ICH_VMCR_EL2 and ICH_AP0R0/AP1R0_EL2. Four list registers.
/// </summary>
public static class VirtualCpuInterface
{
    public const int ListRegisters = 4;
    /// <summary>ICH_VTR_EL2: PRIbits = 4 (5 bits), PREbits = 4 (5 bits), IDbits = 0 (16), no SEIS/A3V, ListRegs = 3 (4 LRs).</summary>
    public const ulong Vtr = 4UL << 29 | 4UL << 26 | (ListRegisters - 1);

    // ICH_LR<n>_EL2 fields.
    const int StateShift = 62;
    const ulong StatePending = 1, StateActive = 2;
    const ulong LrHw = 1UL << 61, LrGroup1 = 1UL << 60, LrEoi = 1UL << 41;

    static ref ulong Lr(ArmCpu cpu, int n) => ref cpu.Sys(SysReg.ICH_LR0_EL2 + n);
    static ulong State(ulong lr) => lr >> StateShift;
    static uint Priority(ulong lr) => (uint)(lr >> 48) & GicCpuInterface.PriorityMask;
    static int GroupOf(ulong lr) => (lr & LrGroup1) != 0 ? 1 : 0;
    static uint VIntid(ulong lr) => (uint)lr & 0xFF_FFFF;

    // ICH_VMCR_EL2 fields.
    static bool GroupEnabled(ulong vmcr, int group) => (vmcr & (group == 0 ? 1UL : 2UL)) != 0;
    static ulong Vpmr(ulong vmcr) => (vmcr >> 24) & GicCpuInterface.PriorityMask;
    static ulong Vbpr0(ulong vmcr) => Math.Max(2UL, (vmcr >> 21) & 7);
    static ulong Vbpr1(ulong vmcr) => Math.Max(3UL, (vmcr >> 18) & 7);
    static bool Vcbpr(ulong vmcr) => (vmcr & 16) != 0;
    static bool Veoim(ulong vmcr) => (vmcr & (1UL << 9)) != 0;

    static uint GroupPriority(ulong vmcr, int group, uint prio) =>
        prio & GicCpuInterface.GroupPriorityMask(group, Vbpr0(vmcr), Vbpr1(vmcr), Vcbpr(vmcr));

    static uint RunningPriority(ArmCpu cpu) =>
        GicCpuInterface.RunningPriority(cpu.Sys(SysReg.ICH_AP0R0_EL2) | cpu.Sys(SysReg.ICH_AP1R0_EL2));

    /// <summary>The highest-priority pending LR of an enabled group (lowest index on a tie), or -1.</summary>
    static int HighestPendingLr(ArmCpu cpu, ulong vmcr)
    {
        int best = -1;
        uint bestPrio = 0x100;
        for (int n = 0; n < ListRegisters; n++)
        {
            ulong lr = Lr(cpu, n);
            if (State(lr) != StatePending || !GroupEnabled(vmcr, GroupOf(lr))) continue;
            uint p = Priority(lr);
            if (p < bestPrio) { best = n; bestPrio = p; }
        }
        return best;
    }

    /// <summary>Whether LR n may be signalled/acknowledged: above the priority mask and preempting the running priority.</summary>
    static bool CanSignal(ArmCpu cpu, ulong vmcr, int n)
    {
        ulong lr = Lr(cpu, n);
        uint p = Priority(lr);
        return p < Vpmr(vmcr) && GroupPriority(vmcr, GroupOf(lr), p) < RunningPriority(cpu);
    }

    /// <summary>Recomputes the virtual IRQ (group 1) / FIQ (group 0) outputs after any change to the virtual state.</summary>
    public static void UpdateLines(ArmCpu cpu)
    {
        bool irq = false, fiq = false;
        ulong vmcr = cpu.Sys(SysReg.ICH_VMCR_EL2);
        if ((cpu.Sys(SysReg.ICH_HCR_EL2) & GicCpuInterface.IchHcr.En) != 0)
        {
            int n = HighestPendingLr(cpu, vmcr);
            if (n >= 0 && CanSignal(cpu, vmcr, n))
            {
                if (GroupOf(Lr(cpu, n)) == 1) irq = true;
                else fiq = true;
            }
        }
        cpu.GicVirtualIrq = irq;
        cpu.GicVirtualFiq = fiq;
    }

    public static ulong Read(ArmCpu cpu, SysReg r)
    {
        ulong vmcr = cpu.Sys(SysReg.ICH_VMCR_EL2);
        switch (r)
        {
            case SysReg.ICC_IAR0_EL1: return Acknowledge(cpu, 0);
            case SysReg.ICC_IAR1_EL1: return Acknowledge(cpu, 1);
            case SysReg.ICC_HPPIR0_EL1:
            case SysReg.ICC_HPPIR1_EL1:
            {
                int n = HighestPendingLr(cpu, vmcr);
                int want = r == SysReg.ICC_HPPIR0_EL1 ? 0 : 1;
                return n >= 0 && GroupOf(Lr(cpu, n)) == want ? VIntid(Lr(cpu, n)) : GicCpuInterface.Spurious;
            }
            case SysReg.ICC_PMR_EL1: return Vpmr(vmcr);
            case SysReg.ICC_BPR0_EL1: return Vbpr0(vmcr);
            case SysReg.ICC_BPR1_EL1: return Vcbpr(vmcr) ? Math.Min(7UL, Vbpr0(vmcr) + 1) : Vbpr1(vmcr);
            case SysReg.ICC_RPR_EL1: return Math.Min(0xFFu, RunningPriority(cpu));
            case SysReg.ICC_CTLR_EL1:
                // CBPR, EOImode from VMCR; PRIbits/IDbits as in ICH_VTR_EL2.
                return (Vcbpr(vmcr) ? 1UL : 0) | (Veoim(vmcr) ? 2UL : 0) | ((Vtr >> 29) & 7) << 8;
            case SysReg.ICC_IGRPEN0_EL1: return vmcr & 1;
            case SysReg.ICC_IGRPEN1_EL1: return (vmcr >> 1) & 1;
            case SysReg.ICC_AP0R0_EL1: return cpu.Sys(SysReg.ICH_AP0R0_EL2);
            case SysReg.ICC_AP1R0_EL1: return cpu.Sys(SysReg.ICH_AP1R0_EL2);
            default: return 0;
        }
    }

    public static void Write(ArmCpu cpu, SysReg r, ulong value)
    {
        ref ulong vmcr = ref cpu.Sys(SysReg.ICH_VMCR_EL2);
        switch (r)
        {
            case SysReg.ICC_EOIR0_EL1: EndOfInterrupt(cpu, 0, (uint)value & 0xFF_FFFF); break;
            case SysReg.ICC_EOIR1_EL1: EndOfInterrupt(cpu, 1, (uint)value & 0xFF_FFFF); break;
            case SysReg.ICC_DIR_EL1:
                if (Veoim(vmcr)) Deactivate(cpu, (uint)value & 0xFF_FFFF); // with VEOIM=0 the EOIR did it
                break;
            case SysReg.ICC_PMR_EL1: vmcr = (vmcr & ~(0xFFUL << 24)) | (value & GicCpuInterface.PriorityMask) << 24; break;
            case SysReg.ICC_BPR0_EL1: vmcr = (vmcr & ~(7UL << 21)) | Math.Max(2UL, value & 7) << 21; break;
            case SysReg.ICC_BPR1_EL1:
                if (!Vcbpr(vmcr)) vmcr = (vmcr & ~(7UL << 18)) | Math.Max(3UL, value & 7) << 18;
                break;
            case SysReg.ICC_CTLR_EL1: vmcr = (vmcr & ~(16UL | 1UL << 9)) | (value & 1) << 4 | ((value >> 1) & 1) << 9; break;
            case SysReg.ICC_IGRPEN0_EL1: vmcr = (vmcr & ~1UL) | (value & 1); break;
            case SysReg.ICC_IGRPEN1_EL1: vmcr = (vmcr & ~2UL) | (value & 1) << 1; break;
            case SysReg.ICC_AP0R0_EL1: cpu.Sys(SysReg.ICH_AP0R0_EL2) = value & 0xFFFF_FFFF; break;
            case SysReg.ICC_AP1R0_EL1: cpu.Sys(SysReg.ICH_AP1R0_EL2) = value & 0xFFFF_FFFF; break;
        }
        UpdateLines(cpu);
    }

    /// <summary>ICV_IAR: acknowledge the highest-priority pending LR of this group if it beats VPMR and the running
    /// priority: pending → active, its group priority becomes active. 1023 otherwise.</summary>
    static ulong Acknowledge(ArmCpu cpu, int group)
    {
        ulong vmcr = cpu.Sys(SysReg.ICH_VMCR_EL2);
        int n = HighestPendingLr(cpu, vmcr);
        if (n < 0 || GroupOf(Lr(cpu, n)) != group || !CanSignal(cpu, vmcr, n)) return GicCpuInterface.Spurious;
        ref ulong lr = ref Lr(cpu, n);
        lr = (lr & ~(3UL << StateShift)) | StateActive << StateShift;
        uint gp = GroupPriority(vmcr, group, Priority(lr));
        cpu.Sys(group == 0 ? SysReg.ICH_AP0R0_EL2 : SysReg.ICH_AP1R0_EL2) |= 1UL << (int)(gp >> 3);
        UpdateLines(cpu);
        return VIntid(lr);
    }

    /// <summary>ICV_EOIR: priority drop, and deactivation unless VEOIM (then ICV_DIR deactivates).</summary>
    static void EndOfInterrupt(ArmCpu cpu, int group, uint intid)
    {
        if (intid >= 1020 && intid <= 1023) return;
        GicCpuInterface.DropPriority(ref cpu.Sys(group == 0 ? SysReg.ICH_AP0R0_EL2 : SysReg.ICH_AP1R0_EL2),
            cpu.Sys(SysReg.ICH_AP0R0_EL2) | cpu.Sys(SysReg.ICH_AP1R0_EL2));
        if (!Veoim(cpu.Sys(SysReg.ICH_VMCR_EL2))) Deactivate(cpu, intid);
    }

    /// <summary>Deactivates the active LR holding this vINTID; a hardware-backed one also deactivates its physical
    /// interrupt. No such LR (the hyp keeps it in memory): ICH_HCR_EL2.EOIcount counts it for the hyp.</summary>
    static void Deactivate(ArmCpu cpu, uint intid)
    {
        for (int n = 0; n < ListRegisters; n++)
        {
            ref ulong lr = ref Lr(cpu, n);
            if ((State(lr) & StateActive) == 0 || VIntid(lr) != intid) continue;
            lr &= ~(StateActive << StateShift);
            if ((lr & LrHw) != 0) cpu.GicBackend?.Deactivate(cpu, (uint)(lr >> 32) & 0x3FF);
            return;
        }
        ref ulong hcr = ref cpu.Sys(SysReg.ICH_HCR_EL2);
        ulong count = (hcr >> GicCpuInterface.IchHcr.EoiCountShift) + 1;
        hcr = (hcr & ((1UL << GicCpuInterface.IchHcr.EoiCountShift) - 1)) | (count & 0x1F) << GicCpuInterface.IchHcr.EoiCountShift;
    }

    // ------------------------------------------------------------------ maintenance status (computed from the LRs)

    /// <summary>ICH_EISR_EL2: bit n for an invalid (inactive, not pending) software LR that asked for an EOI maintenance interrupt.</summary>
    public static ulong Eisr(ArmCpu cpu)
    {
        ulong bits = 0;
        for (int n = 0; n < ListRegisters; n++)
        {
            ulong lr = Lr(cpu, n);
            if (State(lr) == 0 && (lr & LrHw) == 0 && (lr & LrEoi) != 0) bits |= 1UL << n;
        }
        return bits;
    }

    /// <summary>ICH_ELRSR_EL2: bit n for an LR that is free for reuse (invalid, and no EOI maintenance owed).</summary>
    public static ulong Elrsr(ArmCpu cpu)
    {
        ulong bits = 0;
        for (int n = 0; n < ListRegisters; n++)
        {
            ulong lr = Lr(cpu, n);
            if (State(lr) == 0 && ((lr & LrHw) != 0 || (lr & LrEoi) == 0)) bits |= 1UL << n;
        }
        return bits;
    }

    /// <summary>ICH_MISR_EL2: which maintenance conditions hold (each gated by its ICH_HCR_EL2 enable).</summary>
    public static ulong Misr(ArmCpu cpu)
    {
        ulong hcr = cpu.Sys(SysReg.ICH_HCR_EL2), vmcr = cpu.Sys(SysReg.ICH_VMCR_EL2);
        int valid = 0;
        bool anyPending = false;
        for (int n = 0; n < ListRegisters; n++)
        {
            ulong s = State(Lr(cpu, n));
            if (s != 0) valid++;
            if ((s & StatePending) != 0) anyPending = true;
        }
        ulong misr = 0;
        if (Eisr(cpu) != 0) misr |= 1;                                                                  // EOI
        if ((hcr & GicCpuInterface.IchHcr.UIE) != 0 && valid <= 1) misr |= 2;                           // U
        if ((hcr & GicCpuInterface.IchHcr.LRENPIE) != 0 && (hcr >> GicCpuInterface.IchHcr.EoiCountShift) != 0) misr |= 4; // LRENP
        if ((hcr & GicCpuInterface.IchHcr.NPIE) != 0 && !anyPending) misr |= 8;                          // NP
        if ((hcr & GicCpuInterface.IchHcr.VGrp0EIE) != 0 && (vmcr & 1) != 0) misr |= 16;
        if ((hcr & GicCpuInterface.IchHcr.VGrp0DIE) != 0 && (vmcr & 1) == 0) misr |= 32;
        if ((hcr & GicCpuInterface.IchHcr.VGrp1EIE) != 0 && (vmcr & 2) != 0) misr |= 64;
        if ((hcr & GicCpuInterface.IchHcr.VGrp1DIE) != 0 && (vmcr & 2) == 0) misr |= 128;
        return misr;
    }
}
