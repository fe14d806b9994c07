using System.Numerics;

namespace Kvmfs.Emulator.Cpu.Gic;

/// <summary>
/// The GICv3 CPU interface system registers of one PE. ICC_* accesses from EL1 go to the physical interface
/// (the <see cref="IGicCpuInterfaceBackend"/>), or to the virtual one (<see cref="VirtualCpuInterface"/>,
/// state in ICH_*_EL2) when HCR_EL2.IMO (group 1) / FMO (group 0) route them there. ICH_HCR_EL2.TALL0/TALL1/TC/TDIR
/// trap EL1 accesses to EL2. An A57-class GIC-500 pairing: 5 priority bits, 5 preemption bits, 16-bit INTIDs.
/// </summary>
public static unsafe class GicCpuInterface
{
    public const uint Spurious = 1023;
    /// <summary>Priority bits implemented: 5, so the low 3 bits of every priority read as zero.</summary>
    public const uint PriorityMask = 0xF8;
    /// <summary>ICC_CTLR_EL1 read-only fields: PRIbits = 4 (5 bits), IDbits = 0 (16 bits), no SEIS/A3V.</summary>
    const ulong CtlrReadOnly = 4UL << 8;
    const ulong CtlrWritable = 1 | 2 | 1 << 6; // CBPR, EOImode, PMHE

    public static class IchHcr
    {
        public const ulong En = 1, UIE = 2, LRENPIE = 4, NPIE = 8, VGrp0EIE = 16, VGrp0DIE = 32, VGrp1EIE = 64, VGrp1DIE = 128,
            TC = 1 << 10, TALL0 = 1 << 11, TALL1 = 1 << 12, TDIR = 1 << 14;
        public const int EoiCountShift = 27;
    }

    enum Group { G0, G1, Common, None }

    static Group GroupOf(SysReg r) => r switch
    {
        SysReg.ICC_IAR0_EL1 or SysReg.ICC_EOIR0_EL1 or SysReg.ICC_HPPIR0_EL1 or SysReg.ICC_BPR0_EL1 or SysReg.ICC_AP0R0_EL1
            or SysReg.ICC_IGRPEN0_EL1 => Group.G0,
        SysReg.ICC_IAR1_EL1 or SysReg.ICC_EOIR1_EL1 or SysReg.ICC_HPPIR1_EL1 or SysReg.ICC_BPR1_EL1 or SysReg.ICC_AP1R0_EL1
            or SysReg.ICC_IGRPEN1_EL1 => Group.G1,
        SysReg.ICC_PMR_EL1 or SysReg.ICC_CTLR_EL1 or SysReg.ICC_RPR_EL1 or SysReg.ICC_DIR_EL1 or SysReg.ICC_SGI0R_EL1
            or SysReg.ICC_SGI1R_EL1 or SysReg.ICC_ASGI1R_EL1 => Group.Common,
        _ => Group.None,
    };

    public static void Reset(ArmCpu cpu)
    {
        cpu.Sys(SysReg.ICC_BPR0_EL1) = 2;
        cpu.Sys(SysReg.ICC_BPR1_EL1) = 3;
        cpu.Sys(SysReg.ICC_SRE_EL1) = 1;
        cpu.Sys(SysReg.ICC_SRE_EL2) = 1 | 8; // SRE, Enable (EL1 may use its SRE register)
        cpu.GicVirtualIrq = cpu.GicVirtualFiq = false;
    }

    // ------------------------------------------------------------------ MRS / MSR (access checks done by ArmCpu)

    /// <summary>Whether an EL1 access goes to the virtual interface (ICV_*).</summary>
    static bool IsVirtual(ArmCpu cpu, Group g)
    {
        if (cpu.S->CurrentEl != 1 || cpu.Hypervisor == null) return false;
        ulong hcr = cpu.Sys(SysReg.HCR_EL2);
        return g switch
        {
            Group.G0 => (hcr & ArmCpu.Hcr.FMO) != 0,
            Group.G1 => (hcr & ArmCpu.Hcr.IMO) != 0,
            Group.Common => (hcr & (ArmCpu.Hcr.IMO | ArmCpu.Hcr.FMO)) != 0,
            _ => false,
        };
    }

    /// <summary>ICH_HCR_EL2 / ICC_SRE_EL2 / HCR_EL2 traps of an EL1 access. True if it was trapped to EL2.</summary>
    static bool Trap(ArmCpu cpu, SysReg r, uint insn, bool read)
    {
        if (cpu.S->CurrentEl != 1 || cpu.Hypervisor == null) return false;
        ulong ich = cpu.Sys(SysReg.ICH_HCR_EL2), hcr = cpu.Sys(SysReg.HCR_EL2);
        bool trap = GroupOf(r) switch
        {
            Group.G0 => (ich & IchHcr.TALL0) != 0,
            Group.G1 => (ich & IchHcr.TALL1) != 0,
            Group.Common => (ich & IchHcr.TC) != 0,
            _ => false,
        };
        if (r == SysReg.ICC_DIR_EL1 && (ich & IchHcr.TDIR) != 0) trap = true;
        // SGIs under a hypervisor are the hyp's to route (KVM emulates them against its vgic).
        if (r is SysReg.ICC_SGI0R_EL1 or SysReg.ICC_SGI1R_EL1 or SysReg.ICC_ASGI1R_EL1
            && (hcr & (ArmCpu.Hcr.IMO | ArmCpu.Hcr.FMO)) != 0) trap = true;
        if (r == SysReg.ICC_SRE_EL1 && (cpu.Sys(SysReg.ICC_SRE_EL2) & 8) == 0) trap = true; // ICC_SRE_EL2.Enable
        if (!trap) return false;
        cpu.RaiseSync(ArmCpu.MakeEsr(ExceptionClass.SysRegTrap, ArmCpu.SysTrapIss(insn, read)), 0, cpu.S->PC, toEl2: true);
        return true;
    }

    /// <summary>MRS of a GIC register. False if the access trapped (no register written).</summary>
    public static bool Read(ArmCpu cpu, SysReg r, uint insn, out ulong value)
    {
        value = 0;
        if (Trap(cpu, r, insn, read: true)) return false;
        if (IsVirtual(cpu, GroupOf(r))) { value = VirtualCpuInterface.Read(cpu, r); return true; }
        switch (r)
        {
            case SysReg.ICC_IAR0_EL1: value = Acknowledge(cpu, 0); break;
            case SysReg.ICC_IAR1_EL1: value = Acknowledge(cpu, 1); break;
            case SysReg.ICC_HPPIR0_EL1: value = HighestPending(cpu, 0); break;
            case SysReg.ICC_HPPIR1_EL1: value = HighestPending(cpu, 1); break;
            default: value = PlainRead(cpu, r); break;
        }
        return true;
    }

    /// <summary>MSR to a GIC register. False if the access trapped.</summary>
    public static bool Write(ArmCpu cpu, SysReg r, uint insn, ulong value)
    {
        if (Trap(cpu, r, insn, read: false)) return false;
        if (IsVirtual(cpu, GroupOf(r))) { VirtualCpuInterface.Write(cpu, r, value); return true; }
        uint intid = (uint)value & 0xFF_FFFF;
        switch (r)
        {
            case SysReg.ICC_EOIR0_EL1:
            case SysReg.ICC_EOIR1_EL1:
                if (intid >= 1020 && intid <= 1023) break;
                DropPriority(ref cpu.Sys(r == SysReg.ICC_EOIR0_EL1 ? SysReg.ICC_AP0R0_EL1 : SysReg.ICC_AP1R0_EL1),
                    cpu.Sys(SysReg.ICC_AP0R0_EL1) | cpu.Sys(SysReg.ICC_AP1R0_EL1));
                if ((cpu.Sys(SysReg.ICC_CTLR_EL1) & 2) == 0) cpu.GicBackend?.Deactivate(cpu, intid); // EOImode 0
                break;
            case SysReg.ICC_DIR_EL1:
                if (intid < 1020) cpu.GicBackend?.Deactivate(cpu, intid);
                break;
            case SysReg.ICC_SGI0R_EL1: cpu.GicBackend?.GenerateSgi(cpu, value, SgiKind.Group0); break;
            case SysReg.ICC_SGI1R_EL1: cpu.GicBackend?.GenerateSgi(cpu, value, SgiKind.Group1); break;
            case SysReg.ICC_ASGI1R_EL1: cpu.GicBackend?.GenerateSgi(cpu, value, SgiKind.Group1Alias); break;
            default: PlainWrite(cpu, r, value); break;
        }
        return true;
    }

    // ------------------------------------------------------------------ plain access (ONE_REG, world switch)

    /// <summary>The register's value without side effects (an acknowledge register reads as its HPPIR would not:
    /// it reads 1023, since reading must not change state).</summary>
    public static ulong PlainRead(ArmCpu cpu, SysReg r) => r switch
    {
        SysReg.ICC_PMR_EL1 => cpu.Sys(r) & PriorityMask,
        SysReg.ICC_CTLR_EL1 => (cpu.Sys(r) & CtlrWritable) | CtlrReadOnly,
        SysReg.ICC_SRE_EL1 or SysReg.ICC_SRE_EL2 => cpu.Sys(r) | 1, // SRE is RAO/WI: system registers only
        SysReg.ICC_RPR_EL1 => Math.Min(0xFFu, RunningPriority(cpu.Sys(SysReg.ICC_AP0R0_EL1) | cpu.Sys(SysReg.ICC_AP1R0_EL1))),
        SysReg.ICC_IAR0_EL1 or SysReg.ICC_IAR1_EL1 or SysReg.ICC_HPPIR0_EL1 or SysReg.ICC_HPPIR1_EL1 => Spurious,
        SysReg.ICC_EOIR0_EL1 or SysReg.ICC_EOIR1_EL1 or SysReg.ICC_DIR_EL1 or SysReg.ICC_SGI0R_EL1 or SysReg.ICC_SGI1R_EL1
            or SysReg.ICC_ASGI1R_EL1 => 0,
        SysReg.ICH_VTR_EL2 => VirtualCpuInterface.Vtr,
        SysReg.ICH_MISR_EL2 => ComputeMisr(cpu),
        SysReg.ICH_EISR_EL2 => VirtualCpuInterface.Eisr(cpu),
        SysReg.ICH_ELRSR_EL2 => VirtualCpuInterface.Elrsr(cpu),
        _ => cpu.Sys(r),
    };

    public static void PlainWrite(ArmCpu cpu, SysReg r, ulong value)
    {
        switch (r)
        {
            case SysReg.ICC_PMR_EL1: cpu.Sys(r) = value & PriorityMask; break;
            case SysReg.ICC_BPR0_EL1: cpu.Sys(r) = Math.Max(2UL, value & 7); break;
            case SysReg.ICC_BPR1_EL1: cpu.Sys(r) = Math.Max(3UL, value & 7); break;
            case SysReg.ICC_CTLR_EL1: cpu.Sys(r) = value & CtlrWritable; break;
            case SysReg.ICC_SRE_EL1: cpu.Sys(r) = (value & 6) | 1; break;        // DFB, DIB; SRE RAO
            case SysReg.ICC_SRE_EL2: cpu.Sys(r) = (value & 0xE) | 1; break;      // DFB, DIB, Enable; SRE RAO
            case SysReg.ICC_IGRPEN0_EL1: case SysReg.ICC_IGRPEN1_EL1: cpu.Sys(r) = value & 1; break;
            case SysReg.ICC_AP0R0_EL1: case SysReg.ICC_AP1R0_EL1: cpu.Sys(r) = value & 0xFFFF_FFFF; break;
            case SysReg.ICH_VTR_EL2: case SysReg.ICH_MISR_EL2: case SysReg.ICH_EISR_EL2: case SysReg.ICH_ELRSR_EL2: break;
            case SysReg.ICH_HCR_EL2: cpu.Sys(r) = value & 0xF800_7CFFUL; break;
            case SysReg.ICH_AP0R0_EL2: case SysReg.ICH_AP1R0_EL2: cpu.Sys(r) = value & 0xFFFF_FFFF; break;
            case SysReg.ICH_VMCR_EL2: cpu.Sys(r) = value & 0xFFFC_021FUL; break;
            case >= SysReg.ICH_LR0_EL2 and <= SysReg.ICH_LR3_EL2:
                cpu.Sys(r) = value & 0xF0FF_03FF_FFFF_FFFFUL & ~(0x7UL << 48); // RES0 56:59 and the unimplemented priority bits
                break;
            default: break; // computed registers: nothing stored
        }
        if (r >= SysReg.ICH_HCR_EL2) VirtualCpuInterface.UpdateLines(cpu);
    }

    public static ulong ComputeMisr(ArmCpu cpu) => VirtualCpuInterface.Misr(cpu);

    // ------------------------------------------------------------------ physical interface

    static ulong Acknowledge(ArmCpu cpu, int group)
    {
        var backend = cpu.GicBackend;
        if (backend == null || (cpu.Sys(group == 0 ? SysReg.ICC_IGRPEN0_EL1 : SysReg.ICC_IGRPEN1_EL1) & 1) == 0) return Spurious;
        if (!backend.TryGetHighestPending(cpu, out uint intid, out byte priority, out int g) || g != group) return Spurious;
        uint prio = priority & PriorityMask;
        ulong ap0 = cpu.Sys(SysReg.ICC_AP0R0_EL1), ap1 = cpu.Sys(SysReg.ICC_AP1R0_EL1);
        uint groupPrio = prio & GroupPriorityMask(group, cpu.Sys(SysReg.ICC_BPR0_EL1), cpu.Sys(SysReg.ICC_BPR1_EL1),
            (cpu.Sys(SysReg.ICC_CTLR_EL1) & 1) != 0);
        if (prio >= (cpu.Sys(SysReg.ICC_PMR_EL1) & PriorityMask) || groupPrio >= RunningPriority(ap0 | ap1)) return Spurious;
        backend.Acknowledge(cpu, intid);
        cpu.Sys(group == 0 ? SysReg.ICC_AP0R0_EL1 : SysReg.ICC_AP1R0_EL1) |= 1UL << (int)(groupPrio >> 3);
        return intid;
    }

    static ulong HighestPending(ArmCpu cpu, int group)
    {
        var backend = cpu.GicBackend;
        if (backend == null || !backend.TryGetHighestPending(cpu, out uint intid, out _, out int g) || g != group) return Spurious;
        return intid;
    }

    // ------------------------------------------------------------------ priority arithmetic shared with the virtual interface

    /// <summary>The running priority from the active-priority bits (bit n = group priority n*8 active); 0x100 when idle,
    /// so every real priority compares higher.</summary>
    internal static uint RunningPriority(ulong activeBits)
    {
        uint ap = (uint)activeBits;
        return ap == 0 ? 0x100u : (uint)BitOperations.TrailingZeroCount(ap) << 3;
    }

    /// <summary>The group-priority (preemption) part of a priority: Group 0 uses bits [7:BPR0+1], Group 1 bits
    /// [7:BPR1] (or BPR0's split when CBPR is set).</summary>
    internal static uint GroupPriorityMask(int group, ulong bpr0, ulong bpr1, bool cbpr)
    {
        int shift = group == 0 || cbpr ? (int)Math.Max(2UL, bpr0 & 7) + 1 : (int)Math.Max(3UL, bpr1 & 7);
        return (0xFFu << shift) & 0xFF;
    }

    /// <summary>Priority drop: clear the highest active priority (lowest set bit of both registers) if it is in this one.</summary>
    internal static void DropPriority(ref ulong ap, ulong bothGroups)
    {
        uint all = (uint)bothGroups;
        if (all == 0) return;
        ulong lowest = 1UL << BitOperations.TrailingZeroCount(all);
        ap &= ~lowest;
    }
}
