using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Cpu;

public sealed unsafe partial class ArmCpu
{
    /// <summary>HCR_EL2 bits the CPU model acts on.</summary>
    public static class Hcr
    {
        public const ulong VM = 1UL << 0, FMO = 1UL << 3, IMO = 1UL << 4, AMO = 1UL << 5, VF = 1UL << 6, VI = 1UL << 7,
            VSE = 1UL << 8, TWI = 1UL << 13, TWE = 1UL << 14, TID0 = 1UL << 15, TID1 = 1UL << 16, TID2 = 1UL << 17,
            TID3 = 1UL << 18, TSC = 1UL << 19, TIDCP = 1UL << 20, TACR = 1UL << 21, TSW = 1UL << 22, TPCP = 1UL << 23,
            TPU = 1UL << 24, TTLB = 1UL << 25, TVM = 1UL << 26, TGE = 1UL << 27, TDZ = 1UL << 28, HCD = 1UL << 29,
            TRVM = 1UL << 30, RW = 1UL << 31;
    }

    /// <summary>True when EL2 traps can be taken: a hypervisor object is attached.</summary>
    public bool HasEl2 => Hypervisor != null;

    /// <summary>HCR_EL2 as it applies now (only while running below EL2 with a hypervisor).</summary>
    public ulong EffectiveHcr => Hypervisor != null && S->CurrentEl < 2 ? S->Sys[(int)SysReg.HCR_EL2] : 0;

    const uint IL = 1u << 25;

    public static uint MakeEsr(uint ec, uint iss) => ec << 26 | IL | (iss & 0x1FF_FFFF);

    /// <summary>Raises the Undefined Instruction exception (EC 0) for the current instruction.</summary>
    public void RaiseUndefined() => RaiseSync(MakeEsr(ExceptionClass.Unknown, 0), 0, S->PC, toEl2: false);

    /// <summary>Raises a synchronous exception with this syndrome, to EL1 or (when <paramref name="toEl2"/> and
    /// a hypervisor is attached) to EL2. <paramref name="preferredReturn"/> is what ELR gets.</summary>
    public void RaiseSync(uint esr, ulong far, ulong preferredReturn, bool toEl2)
    {
        uint target = toEl2 && Hypervisor != null ? 2u : Math.Max(1u, S->CurrentEl);
        TakeException(target, ExceptionKind.Synchronous, esr, far, preferredReturn);
    }

    /// <summary>SVC/HVC/SMC: the preferred return address is the next instruction.</summary>
    public void RaiseCall(uint ec, uint imm16, bool toEl2) =>
        RaiseSync(MakeEsr(ec, imm16), 0, S->PC + 4, toEl2);

    public void RaisePcAlignment(ulong pc) =>
        RaiseSync(MakeEsr(ExceptionClass.PcAlignment, 0), pc, pc, toEl2: false);

    /// <summary>FP/SIMD access check (CPACR_EL1.FPEN, CPTR_EL2.TFP). Returns false after raising the trap.
    /// Every FP/AdvSIMD instruction, including FP loads/stores, calls this before touching V registers.</summary>
    public bool CheckFpEnabled()
    {
        uint el = S->CurrentEl;
        if (el < 2)
        {
            uint fpen = (uint)(S->Sys[(int)SysReg.CPACR_EL1] >> 20) & 3;
            if (fpen == 0 || fpen == 2 || (fpen == 1 && el == 0))
            {
                RaiseSync(MakeEsr(ExceptionClass.FpAccess, 1u << 24 | 0xEu << 20), 0, S->PC, toEl2: false);
                return false;
            }
            if (Hypervisor != null && (S->Sys[(int)SysReg.CPTR_EL2] & (1UL << 10)) != 0)
            {
                RaiseSync(MakeEsr(ExceptionClass.FpAccess, 1u << 24 | 0xEu << 20), 0, S->PC, toEl2: true);
                return false;
            }
        }
        return true;
    }

    /// <summary>A data or instruction abort for a failed translation. The syndrome's ISV fields describe
    /// single-register loads/stores (what KVM needs to emulate MMIO).</summary>
    void RaiseAbort(ulong va, AccessType type, Fault fault)
    {
        EndUnprivileged(); // an LDTR/STTR fault is taken from EL1
        bool toEl2 = fault.Stage2 && Hypervisor != null;
        uint target = toEl2 ? 2u : Math.Max(1u, S->CurrentEl);
        bool lower = S->CurrentEl < target;
        uint iss = fault.StatusCode;
        if (fault.S1Walk) iss |= 1u << 7;
        if (currentIsAt) iss |= 1u << 8; // CM: the abort came from an AT (address translation) instruction
        if (currentIsCacheMaintenance) iss |= 1u << 8 | 1u << 6; // CM, and DC by VA reports WnR = 1
        uint ec;
        if (type == AccessType.Execute)
            ec = lower ? ExceptionClass.InstructionAbortLower : ExceptionClass.InstructionAbortSame;
        else
        {
            ec = lower ? ExceptionClass.DataAbortLower : ExceptionClass.DataAbortSame;
            if (type == AccessType.Write || fault.S1Walk && currentIsWrite) iss |= 1u << 6;
            if (fault.Kind != FaultKind.Alignment && !fault.S1Walk) iss |= DataAbortInstructionSyndrome();
        }
        if (toEl2)
            S->Sys[(int)SysReg.HPFAR_EL2] = (fault.Ipa >> 12) << 4;
        TakeException(target, ExceptionKind.Synchronous, MakeEsr(ec, iss), va, S->PC);
    }
    bool currentIsWrite;
    bool currentIsAt;
    bool currentIsCacheMaintenance;

    /// <summary>Raises an alignment fault (exclusives, acquire/release, atomics).</summary>
    public void RaiseAlignmentFault(ulong va, bool write)
    {
        uint target = Math.Max(1u, S->CurrentEl);
        uint ec = S->CurrentEl < target ? ExceptionClass.DataAbortLower : ExceptionClass.DataAbortSame;
        uint iss = 0x21u | (write ? 1u << 6 : 0);
        TakeException(target, ExceptionKind.Synchronous, MakeEsr(ec, iss), va, S->PC);
    }

    /// <summary>ISV/SAS/SSE/SRT/SF/AR for the current instruction when it is a single general-purpose
    /// register load/store without writeback (immediate unsigned offset, unscaled, register offset, LDAR/STLR).</summary>
    uint DataAbortInstructionSyndrome()
    {
        TlbEntry* e = tlb + ((S->PC >> 12) & (TlbSize - 1));
        if (e->ExecTag != (S->PC & ~0xFFFUL)) return 0;
        uint insn = *(uint*)(S->PC + e->Addend);
        uint size = insn >> 30, rt = insn & 31;
        bool sse = false, sf = false, ar = false;
        if ((insn & 0x3F00_0000) == 0x3900_0000 || (insn & 0x3F20_0C00) == 0x3800_0000 || (insn & 0x3F20_0C00) == 0x3820_0800
            || (insn & 0x3F20_0C00) == 0x3800_0800)
        {
            // LDR/STR (unsigned immediate), LDUR/STUR, register offset, LDTR/STTR; V=0 (bit 26 clear).
            uint opc = (insn >> 22) & 3;
            if (opc == 0) sf = size == 3;                   // store
            else if (opc == 1) sf = size == 3;              // zero-extending load
            else if (size == 3) return 0;                   // PRFM
            else { sse = true; sf = opc == 2; }             // sign-extending load to X (opc 2) or W (opc 3)
        }
        else if ((insn & 0x3F00_0000) == 0x0800_0000 && ((insn >> 23) & 1) == 1 && ((insn >> 21) & 1) == 0)
        {
            // LDAR/STLR (o2=1, o1=0); exclusives (o2=0) get ISV=0.
            ar = true;
            sf = size == 3;
        }
        else return 0;
        return 1u << 24 | size << 22 | (sse ? 1u << 21 : 0) | rt << 16 | (sf ? 1u << 15 : 0) | (ar ? 1u << 14 : 0);
    }

    /// <summary>Exception entry. To EL2 with a hypervisor: fill the EL2 syndrome registers, call the hyp,
    /// then return as ERET from EL2 would. To EL1 from EL0 with a supervisor (user mode): call it. Otherwise
    /// the architectural entry through VBAR_ELx.</summary>
    public void TakeException(uint targetEl, ExceptionKind kind, uint esr, ulong far, ulong preferredReturn)
    {
        EndUnprivileged();
        EndBlock = true;
        S->ExclusiveSize = 0;
        if (targetEl == 1 && Supervisor != null && S->CurrentEl == 0)
        {
            S->PC = preferredReturn;
            Supervisor.OnException(this, esr, far);
            return;
        }
        uint spsr = GetPstate();
        uint from = S->CurrentEl;
        if (targetEl >= 2 && Hypervisor != null)
        {
            S->Sys[(int)SysReg.ELR_EL2] = preferredReturn;
            S->Sys[(int)SysReg.SPSR_EL2] = spsr;
            if (kind == ExceptionKind.Synchronous)
            {
                S->Sys[(int)SysReg.ESR_EL2] = esr;
                S->Sys[(int)SysReg.FAR_EL2] = far;
            }
            SetElAndSpSel(2, 1);
            S->Daif = Pstate.DaifMask;
            Hypervisor.OnTrap(this, kind, esr);
            // The hyp's work is done: the ERET back to the guest.
            ExceptionReturn(S->Sys[(int)SysReg.ELR_EL2], (uint)S->Sys[(int)SysReg.SPSR_EL2]);
            return;
        }
        targetEl = 1;
        ulong vbar = S->Sys[(int)SysReg.VBAR_EL1];
        ulong offset = from == targetEl ? (S->SpSel != 0 ? 0x200UL : 0UL) : 0x400UL;
        S->Sys[(int)SysReg.ELR_EL1] = preferredReturn;
        S->Sys[(int)SysReg.SPSR_EL1] = spsr;
        if (kind == ExceptionKind.Synchronous)
        {
            S->Sys[(int)SysReg.ESR_EL1] = esr;
            uint ec = esr >> 26;
            if (ec is ExceptionClass.DataAbortLower or ExceptionClass.DataAbortSame or ExceptionClass.InstructionAbortLower
                or ExceptionClass.InstructionAbortSame or ExceptionClass.PcAlignment)
                S->Sys[(int)SysReg.FAR_EL1] = far;
        }
        SetElAndSpSel(1, 1);
        S->Daif = Pstate.DaifMask;
        S->PstateOther &= ~(Pstate.Ss | Pstate.Il);
        // SCTLR_EL1.SPAN == 0: PAN is set on exception entry to EL1 (only matters if PAN is advertised).
        S->PC = vbar + offset + (ulong)kind * 0x80;
    }

    /// <summary>ERET semantics: restore PSTATE from an SPSR value and continue at the ELR value.
    /// A return to a higher EL or to AArch32 is an illegal exception return (PSTATE.IL set, EL kept).</summary>
    public void ExceptionReturn(ulong elr, uint spsr)
    {
        EndBlock = true;
        S->ExclusiveSize = 0;
        uint targetEl = (spsr >> 2) & 3;
        bool illegal = (spsr & 0x10) != 0 || targetEl > S->CurrentEl || (targetEl == 2 && Hypervisor == null && S->CurrentEl < 2)
            || (targetEl == 0 && (spsr & 1) != 0) || targetEl == 3;
        if (illegal)
        {
            S->Nzcv = spsr & Pstate.NzcvMask;
            S->Daif = spsr & Pstate.DaifMask;
            S->PstateOther = (spsr & Pstate.OtherMask) | Pstate.Il;
        }
        else SetPstate(spsr);
        S->PC = elr;
    }

    /// <summary>Takes the highest-priority pending, unmasked interrupt, physical or virtual (HCR_EL2.VI/VF/VSE).</summary>
    void TakePendingInterrupt()
    {
        uint lines = Volatile.Read(ref pendingInterrupts);
        ulong hcr = EffectiveHcr;
        // SError, IRQ, FIQ: with HCR_EL2.{AMO,IMO,FMO} physical ones go to EL2 whatever PSTATE says.
        if (TryInterrupt(lines, ExceptionKind.SError, Hcr.AMO, Pstate.A, hcr)) return;
        if (TryInterrupt(lines, ExceptionKind.Irq, Hcr.IMO, Pstate.I, hcr)) return;
        TryInterrupt(lines, ExceptionKind.Fiq, Hcr.FMO, Pstate.F, hcr);
    }

    bool TryInterrupt(uint lines, ExceptionKind kind, ulong routeBit, uint maskBit, ulong hcr)
    {
        if ((lines & (1u << (int)kind)) == 0) return false;
        if ((hcr & routeBit) != 0)
        {
            TakeException(2, kind, 0, 0, S->PC);
            return true;
        }
        if ((S->Daif & maskBit) != 0) return false;
        TakeException(1, kind, 0, 0, S->PC);
        return true;
    }

    /// <summary>Virtual interrupts injected by the hyp through HCR_EL2.VI/VF/VSE, masked by PSTATE at EL1/EL0.</summary>
    void TakeVirtualInterrupt(ulong hcr)
    {
        if ((hcr & Hcr.VSE) != 0 && (hcr & Hcr.AMO) != 0 && (S->Daif & Pstate.A) == 0)
        {
            S->Sys[(int)SysReg.HCR_EL2] &= ~Hcr.VSE;
            TakeException(1, ExceptionKind.SError, 0, 0, S->PC);
        }
        else if (((hcr & Hcr.VI) != 0 || GicVirtualIrq) && (hcr & Hcr.IMO) != 0 && (S->Daif & Pstate.I) == 0)
            TakeException(1, ExceptionKind.Irq, 0, 0, S->PC);
        else if (((hcr & Hcr.VF) != 0 || GicVirtualFiq) && (hcr & Hcr.FMO) != 0 && (S->Daif & Pstate.F) == 0)
            TakeException(1, ExceptionKind.Fiq, 0, 0, S->PC);
    }

    /// <summary>True if an interrupt would be taken now (used by WFI to decide whether to wait).</summary>
    public bool InterruptPending
    {
        get
        {
            uint lines = Volatile.Read(ref pendingInterrupts);
            ulong hcr = EffectiveHcr;
            return lines != 0 || (hcr & (Hcr.VI | Hcr.VF | Hcr.VSE)) != 0
                || (GicVirtualIrq && (hcr & Hcr.IMO) != 0) || (GicVirtualFiq && (hcr & Hcr.FMO) != 0);
        }
    }
}
