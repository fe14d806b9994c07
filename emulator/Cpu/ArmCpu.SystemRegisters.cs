using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Cpu;

public sealed unsafe partial class ArmCpu
{
    // ---------------------------------------------------------------- plain API (daemon: ONE_REG, world switch)

    /// <summary>Reads any system register by its packed encoding (op0&lt;&lt;14|op1&lt;&lt;11|CRn&lt;&lt;7|CRm&lt;&lt;3|op2),
    /// without access checks or traps. False if the CPU has no such register.</summary>
    public bool TryGetSysReg(uint encoding, out ulong value)
    {
        if (TryReadSpecial(encoding, out value)) return true;
        if (SysRegTable.TryGet(encoding, out var info))
        {
            if ((info.Flags & SysRegFlags.Gic) != 0) { value = Gic.GicCpuInterface.PlainRead(this, info.Slot); return true; }
            value = (info.Flags & SysRegFlags.Raz) != 0 ? 0 : S->Sys[(int)info.Slot];
            return true;
        }
        if (SysRegTable.IsReservedIdSpace(encoding)) { value = 0; return true; }
        value = 0;
        return false;
    }

    /// <summary>Writes any system register by encoding, without access checks (read-only ID registers too:
    /// the VMM may set them as KVM allows). False if there is no such register.</summary>
    public bool TrySetSysReg(uint encoding, ulong value)
    {
        if (TryWriteSpecial(encoding, value)) return true;
        if (!SysRegTable.TryGet(encoding, out var info)) return SysRegTable.IsReservedIdSpace(encoding);
        if ((info.Flags & SysRegFlags.Gic) != 0) { Gic.GicCpuInterface.PlainWrite(this, info.Slot, value); return true; }
        S->Sys[(int)info.Slot] = value;
        if ((info.Flags & SysRegFlags.Translation) != 0) TranslationChanged();
        return true;
    }

    /// <summary>Any register by name: X0..X30, SP (current), PC, PSTATE, SP_EL0..SP_EL2, FPCR, FPSR, or a
    /// system register name from <see cref="SysRegTable"/>.</summary>
    public bool TryGetRegister(string name, out ulong value)
    {
        name = name.ToUpperInvariant();
        if (name.Length >= 2 && name[0] == 'X' && uint.TryParse(name.AsSpan(1), out uint n) && n <= 30) { value = S->X[n]; return true; }
        switch (name)
        {
            case "SP": value = S->X[31]; return true;
            case "PC": value = S->PC; return true;
            case "PSTATE": case "CPSR": value = GetPstate(); return true;
            case "SP_EL2": value = GetSp(2); return true;
        }
        if (SysRegTable.TryGet(name, out var info)) return TryGetSysReg(info.Encoding, out value);
        foreach (var (special, enc) in SpecialNames)
            if (special == name) return TryGetSysReg(enc, out value);
        value = 0;
        return false;
    }

    public bool TrySetRegister(string name, ulong value)
    {
        name = name.ToUpperInvariant();
        if (name.Length >= 2 && name[0] == 'X' && uint.TryParse(name.AsSpan(1), out uint n) && n <= 30) { S->X[n] = value; return true; }
        switch (name)
        {
            case "SP": S->X[31] = value; return true;
            case "PC": S->PC = value; EndBlock = true; return true;
            case "PSTATE": case "CPSR": SetPstate((uint)value); return true;
            case "SP_EL2": SetSp(2, value); return true;
        }
        if (SysRegTable.TryGet(name, out var info)) return TrySetSysReg(info.Encoding, value);
        foreach (var (special, enc) in SpecialNames)
            if (special == name) return TrySetSysReg(enc, value);
        return false;
    }

    static readonly (string, uint)[] SpecialNames =
    {
        ("NZCV", SysRegTable.Enc.NZCV), ("DAIF", SysRegTable.Enc.DAIF), ("FPCR", SysRegTable.Enc.FPCR),
        ("FPSR", SysRegTable.Enc.FPSR), ("CURRENTEL", SysRegTable.Enc.CurrentEL), ("SPSEL", SysRegTable.Enc.SPSel),
        ("SP_EL0", SysRegTable.Enc.SP_EL0), ("SP_EL1", SysRegTable.Enc.SP_EL1), ("CNTVCT_EL0", SysRegTable.Enc.CNTVCT_EL0),
        ("CNTPCT_EL0", SysRegTable.Enc.CNTPCT_EL0),
    };

    bool TryReadSpecial(uint enc, out ulong value)
    {
        var e = SysRegTable.Enc.NZCV;
        if (enc == e) { value = S->Nzcv; return true; }
        if (enc == SysRegTable.Enc.DAIF) { value = S->Daif; return true; }
        if (enc == SysRegTable.Enc.FPCR) { value = S->Fpcr; return true; }
        if (enc == SysRegTable.Enc.FPSR) { value = S->Fpsr; return true; }
        if (enc == SysRegTable.Enc.CurrentEL) { value = S->CurrentEl << 2; return true; }
        if (enc == SysRegTable.Enc.SPSel) { value = S->SpSel; return true; }
        if (enc == SysRegTable.Enc.SP_EL0) { value = GetSp(0); return true; }
        if (enc == SysRegTable.Enc.SP_EL1) { value = GetSp(1); return true; }
        if (enc == SysRegTable.Enc.PAN) { value = S->PstateOther & Pstate.Pan; return true; }
        if (enc == SysRegTable.Enc.UAO) { value = S->PstateOther & Pstate.Uao; return true; }
        if (enc == SysRegTable.Enc.DIT) { value = S->PstateOther & (1u << 24); return true; }
        if (enc == SysRegTable.Enc.CNTPCT_EL0) { value = PhysicalCount(); return true; }
        if (enc == SysRegTable.Enc.CNTVCT_EL0) { value = PhysicalCount() - S->Sys[(int)SysReg.CNTVOFF_EL2]; return true; }
        if (enc == SysRegTable.Enc.CNTP_TVAL_EL0)
        { value = (ulong)(uint)(S->Sys[(int)SysReg.CNTP_CVAL_EL0] - PhysicalCount()); return true; }
        if (enc == SysRegTable.Enc.CNTV_TVAL_EL0)
        { value = (ulong)(uint)(S->Sys[(int)SysReg.CNTV_CVAL_EL0] - (PhysicalCount() - S->Sys[(int)SysReg.CNTVOFF_EL2])); return true; }
        if (enc == SysRegTable.Enc.ISR_EL1)
        {
            uint lines = Volatile.Read(ref pendingInterrupts);
            value = ((lines >> (int)ExceptionKind.Irq) & 1) << 7 | ((lines >> (int)ExceptionKind.Fiq) & 1) << 6 | ((lines >> (int)ExceptionKind.SError) & 1) << 8;
            return true;
        }
        value = 0;
        return false;
    }

    bool TryWriteSpecial(uint enc, ulong value)
    {
        if (enc == SysRegTable.Enc.NZCV) { S->Nzcv = (uint)value & Pstate.NzcvMask; return true; }
        if (enc == SysRegTable.Enc.DAIF) { S->Daif = (uint)value & Pstate.DaifMask; EndBlock = true; return true; }
        if (enc == SysRegTable.Enc.FPCR) { S->Fpcr = (uint)value & 0x07FF_9F00; return true; }
        if (enc == SysRegTable.Enc.FPSR) { S->Fpsr = (uint)value & 0xF800_009F; return true; }
        if (enc == SysRegTable.Enc.CurrentEL) return true; // read-only; ignore
        if (enc == SysRegTable.Enc.SPSel) { SetElAndSpSel(S->CurrentEl, (uint)value & 1); EndBlock = true; return true; }
        if (enc == SysRegTable.Enc.SP_EL0) { SetSp(0, value); return true; }
        if (enc == SysRegTable.Enc.SP_EL1) { SetSp(1, value); return true; }
        if (enc == SysRegTable.Enc.PAN) { S->PstateOther = (S->PstateOther & ~Pstate.Pan) | ((uint)value & Pstate.Pan); return true; }
        if (enc == SysRegTable.Enc.UAO) { S->PstateOther = (S->PstateOther & ~Pstate.Uao) | ((uint)value & Pstate.Uao); return true; }
        if (enc == SysRegTable.Enc.DIT) { S->PstateOther = (S->PstateOther & ~(1u << 24)) | ((uint)value & (1u << 24)); return true; }
        if (enc == SysRegTable.Enc.CNTP_TVAL_EL0)
        { S->Sys[(int)SysReg.CNTP_CVAL_EL0] = PhysicalCount() + (ulong)(long)(int)value; return true; }
        if (enc == SysRegTable.Enc.CNTV_TVAL_EL0)
        { S->Sys[(int)SysReg.CNTV_CVAL_EL0] = PhysicalCount() - S->Sys[(int)SysReg.CNTVOFF_EL2] + (ulong)(long)(int)value; return true; }
        if (enc == SysRegTable.Enc.CNTPCT_EL0 || enc == SysRegTable.Enc.CNTVCT_EL0 || enc == SysRegTable.Enc.ISR_EL1) return true;
        if (enc == SysRegTable.Enc.OSLAR_EL1)
        {
            S->Sys[(int)SysReg.OSLSR_EL1] = (S->Sys[(int)SysReg.OSLSR_EL1] & ~2UL) | ((value & 1) << 1);
            return true;
        }
        return false;
    }

    /// <summary>SCTLR/TTBR/TCR/HCR/VTTBR/... or translation tables changed: cached translations may be stale.
    /// Decoded blocks stay (they are reused only while their VA still maps to the same physical page); when the
    /// memory behind a physical page changes, call <see cref="FlushDecodedBlocks()"/> too.</summary>
    public void TranslationChanged()
    {
        FlushTlb();
        EndBlock = true;
    }

    /// <summary>IC IVAU: the line may be reached through another VA alias (Linux cleans user code through its
    /// linear map), so also drop blocks by the physical page the VA translates to now. No fault is raised.</summary>
    void InvalidateCodeAtPhysical(ulong va)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        ulong page = va & ~0xFFFUL;
        ulong pa;
        if (e->ReadTag == page || e->ExecTag == page) pa = e->PhysicalPage;
        else if (Memory.Translate(this, va, AccessType.Read, out var p, out _)) pa = p.PhysicalPage;
        else return;
        FlushDecodedBlocksAtPhysical(pa);
        Memory.Broadcast(this, Maintenance.CodePage, pa); // IC IVAU applies to the whole inner-shareable domain
    }

    // ---------------------------------------------------------------- MRS / MSR with access checks

    /// <summary>Whether an EL0 access to this special register is enabled by SCTLR_EL1/CNTKCTL_EL1.</summary>
    bool El0Allowed(uint enc, bool read)
    {
        ulong sctlr = S->Sys[(int)SysReg.SCTLR_EL1];
        ulong cntkctl = S->Sys[(int)SysReg.CNTKCTL_EL1];
        if (enc == SysRegTable.Enc.NZCV || enc == SysRegTable.Enc.FPCR || enc == SysRegTable.Enc.FPSR || enc == SysRegTable.Enc.DIT) return true;
        if (enc == SysRegTable.Enc.DAIF) return (sctlr & (1UL << 9)) != 0;               // UMA
        if (enc == SysRegTable.Enc.CNTVCT_EL0) return (cntkctl & 2) != 0;                 // EL0VCTEN
        if (enc == SysRegTable.Enc.CNTPCT_EL0) return (cntkctl & 1) != 0;                 // EL0PCTEN
        if (enc == SysRegTable.Enc.CNTV_TVAL_EL0) return (cntkctl & (1UL << 8)) != 0;     // EL0VTEN
        if (enc == SysRegTable.Enc.CNTP_TVAL_EL0) return (cntkctl & (1UL << 9)) != 0;     // EL0PTEN
        if (!SysRegTable.TryGet(enc, out var info) || (info.Flags & SysRegFlags.El0) == 0)
        {
            // CTR_EL0 is an EL0 register gated by SCTLR_EL1.UCT.
            return info.Slot == SysReg.CTR_EL0 && info.Name == "CTR_EL0" && read && (sctlr & (1UL << 15)) != 0;
        }
        return info.Slot switch
        {
            SysReg.TPIDRRO_EL0 => read,
            SysReg.CNTFRQ_EL0 => read && (cntkctl & 3) != 0,
            SysReg.CNTV_CTL_EL0 or SysReg.CNTV_CVAL_EL0 => (cntkctl & (1UL << 8)) != 0,
            SysReg.CNTP_CTL_EL0 or SysReg.CNTP_CVAL_EL0 => (cntkctl & (1UL << 9)) != 0,
            SysReg.DCZID_EL0 => read,
            _ => true,
        };
    }

    /// <summary>The ISS of a trapped MSR/MRS/SYS (EC 0x18).</summary>
    internal static uint SysTrapIss(uint insn, bool read)
    {
        uint op0 = (insn >> 19) & 3, op1 = (insn >> 16) & 7, crn = (insn >> 12) & 15, crm = (insn >> 8) & 15, op2 = (insn >> 5) & 7, rt = insn & 31;
        return op0 << 20 | op2 << 17 | op1 << 14 | crn << 10 | rt << 5 | crm << 1 | (read ? 1u : 0);
    }

    /// <summary>HCR_EL2 / MDCR_EL2 trap check for an EL1 (or EL0) access. True if it was trapped to EL2.</summary>
    bool TrapSysRegToEl2(uint insn, SysRegInfo info, bool found, bool read)
    {
        ulong hcr = EffectiveHcr;
        if (hcr == 0 && Hypervisor == null) return false;
        if (S->CurrentEl >= 2 || Hypervisor == null) return false;
        bool trap = false;
        if (found)
        {
            var f = info.Flags;
            if ((f & SysRegFlags.Tid3) != 0 && read && (hcr & Hcr.TID3) != 0) trap = true;
            if ((f & SysRegFlags.Tid2) != 0 && (hcr & Hcr.TID2) != 0) trap = true;
            if ((f & SysRegFlags.Tid1) != 0 && read && (hcr & Hcr.TID1) != 0) trap = true;
            if ((f & SysRegFlags.Tvm) != 0 && (read ? (hcr & Hcr.TRVM) != 0 : (hcr & Hcr.TVM) != 0)) trap = true;
            if ((f & SysRegFlags.Debug) != 0 && (S->Sys[(int)SysReg.MDCR_EL2] & (1UL << 9)) != 0) trap = true; // TDA
            if (info.Slot == SysReg.ACTLR_EL1 && (hcr & Hcr.TACR) != 0) trap = true;
        }
        else if (SysRegTable.IsReservedIdSpace((insn >> 5) & 0xFFFF) && read && (hcr & Hcr.TID3) != 0) trap = true;
        if (!trap) return false;
        RaiseSync(MakeEsr(ExceptionClass.SysRegTrap, SysTrapIss(insn, read)), 0, S->PC, toEl2: true);
        return true;
    }

    /// <summary>MRS Xt, (system register).</summary>
    internal void ExecuteMrs(uint insn)
    {
        uint enc = (insn >> 5) & 0xFFFF, rt = insn & 31;
        bool found = SysRegTable.TryGet(enc, out var info);
        if (!CheckSysRegAccess(insn, enc, found, info, read: true)) return;
        if (found && (info.Flags & SysRegFlags.WriteOnly) != 0) { RaiseUndefined(); return; }
        if (found && (info.Flags & SysRegFlags.Gic) != 0)
        {
            if (Gic.GicCpuInterface.Read(this, info.Slot, insn, out ulong icc)) SetX(rt, icc);
            return;
        }
        if (!TryGetSysReg(enc, out ulong value)) { RaiseUndefined(); return; }
        // Virtualized identification seen by EL1 under a hypervisor.
        if (found && S->CurrentEl == 1 && Hypervisor != null)
        {
            if (info.Slot == SysReg.MIDR_EL1) value = S->Sys[(int)SysReg.VPIDR_EL2];
            else if (info.Slot == SysReg.MPIDR_EL1) value = S->Sys[(int)SysReg.VMPIDR_EL2];
        }
        SetX(rt, value);
    }

    /// <summary>MSR (system register), Xt.</summary>
    internal void ExecuteMsr(uint insn)
    {
        uint enc = (insn >> 5) & 0xFFFF, rt = insn & 31;
        bool found = SysRegTable.TryGet(enc, out var info);
        if (!CheckSysRegAccess(insn, enc, found, info, read: false)) return;
        if (found && (info.Flags & SysRegFlags.ReadOnly) != 0) { RaiseUndefined(); return; }
        if (SysRegTable.IsReservedIdSpace(enc) || enc == SysRegTable.Enc.CurrentEL || enc == SysRegTable.Enc.ISR_EL1) { RaiseUndefined(); return; }
        ulong value = X(rt);
        if (found && (info.Flags & SysRegFlags.Gic) != 0)
        {
            // A write may unmask or retire an interrupt: continue in a new block so it is seen at once.
            if (Gic.GicCpuInterface.Write(this, info.Slot, insn, value)) { EndBlock = true; S->PC += 4; }
            return;
        }
        if (found && info.Name == "DBGCLAIMSET_EL1") { S->Sys[(int)SysReg.DBGCLAIM] |= value & 0xFF; return; }
        if (found && info.Name == "DBGCLAIMCLR_EL1") { S->Sys[(int)SysReg.DBGCLAIM] &= ~(value & 0xFF); return; }
        if (!TrySetSysReg(enc, value)) { RaiseUndefined(); return; }
        if (EndBlock) S->PC += 4; // the write changed translation or masking: continue in a new block
    }

    bool CheckSysRegAccess(uint insn, uint enc, bool found, SysRegInfo info, bool read)
    {
        uint el = S->CurrentEl;
        bool special = TryIsSpecial(enc);
        if (!found && !special && !SysRegTable.IsReservedIdSpace(enc)) { RaiseUndefined(); return false; }
        if (!FeatureRegisterImplemented(enc)) { RaiseUndefined(); return false; }
        if (el == 0)
        {
            if (!El0Allowed(enc, read)) { RaiseUndefined(); return false; }
            return true;
        }
        if (found && (info.Flags & SysRegFlags.El2) != 0 && el < 2) { RaiseUndefined(); return false; }
        if (enc == SysRegTable.Enc.SP_EL1 && el < 2) { RaiseUndefined(); return false; }
        // SP_EL0 is not accessible through MRS/MSR while it is the current SP.
        if (enc == SysRegTable.Enc.SP_EL0 && S->SpSel == 0) { RaiseUndefined(); return false; }
        if (TrapSysRegToEl2(insn, info, found, read)) return false;
        return true;
    }

    /// <summary>PAN (ARMv8.1), UAO (ARMv8.2) and DIT (ARMv8.4) exist only when the ID registers advertise them;
    /// otherwise their MRS/MSR encodings are unallocated.</summary>
    bool FeatureRegisterImplemented(uint enc)
    {
        if (enc == SysRegTable.Enc.PAN) return ((S->Sys[(int)SysReg.ID_AA64MMFR1_EL1] >> 20) & 0xF) != 0;
        if (enc == SysRegTable.Enc.UAO) return ((S->Sys[(int)SysReg.ID_AA64MMFR2_EL1] >> 4) & 0xF) != 0;
        if (enc == SysRegTable.Enc.DIT) return ((S->Sys[(int)SysReg.ID_AA64PFR0_EL1] >> 48) & 0xF) != 0;
        return true;
    }

    static bool TryIsSpecial(uint enc) =>
        enc == SysRegTable.Enc.NZCV || enc == SysRegTable.Enc.DAIF || enc == SysRegTable.Enc.FPCR || enc == SysRegTable.Enc.FPSR
        || enc == SysRegTable.Enc.CurrentEL || enc == SysRegTable.Enc.SPSel || enc == SysRegTable.Enc.SP_EL0
        || enc == SysRegTable.Enc.SP_EL1 || enc == SysRegTable.Enc.PAN || enc == SysRegTable.Enc.UAO || enc == SysRegTable.Enc.DIT
        || enc == SysRegTable.Enc.CNTPCT_EL0 || enc == SysRegTable.Enc.CNTVCT_EL0 || enc == SysRegTable.Enc.CNTP_TVAL_EL0
        || enc == SysRegTable.Enc.CNTV_TVAL_EL0 || enc == SysRegTable.Enc.ISR_EL1 || enc == SysRegTable.Enc.OSLAR_EL1;

    /// <summary>MSR (immediate) to a PSTATE field: SPSel, DAIFSet, DAIFClr, PAN, UAO, DIT.</summary>
    internal void ExecuteMsrImmediate(uint insn)
    {
        uint op1 = (insn >> 16) & 7, op2 = (insn >> 5) & 7, crm = (insn >> 8) & 15;
        uint el = S->CurrentEl;
        switch ((op1, op2))
        {
            case (0, 5): // SPSel
                if (el == 0) { RaiseUndefined(); return; }
                SetElAndSpSel(el, crm & 1);
                break;
            case (3, 6): // DAIFSet
            case (3, 7): // DAIFClr
                if (el == 0 && (S->Sys[(int)SysReg.SCTLR_EL1] & (1UL << 9)) == 0) { RaiseUndefined(); return; }
                if (op2 == 6) S->Daif |= (crm << 6) & Pstate.DaifMask;
                else S->Daif &= ~((crm << 6) & Pstate.DaifMask);
                break;
            case (0, 3): // UAO
            case (0, 4): // PAN
                if (el == 0 || !FeatureRegisterImplemented(op2 == 3 ? SysRegTable.Enc.UAO : SysRegTable.Enc.PAN)) { RaiseUndefined(); return; }
                uint bit = op2 == 3 ? Pstate.Uao : Pstate.Pan;
                S->PstateOther = (crm & 1) != 0 ? S->PstateOther | bit : S->PstateOther & ~bit;
                break;
            case (3, 2): // DIT
                if (!FeatureRegisterImplemented(SysRegTable.Enc.DIT)) { RaiseUndefined(); return; }
                S->PstateOther = (crm & 1) != 0 ? S->PstateOther | (1u << 24) : S->PstateOther & ~(1u << 24);
                break;
            default:
                RaiseUndefined();
                return;
        }
        EndBlock = true; // an unmasked interrupt must be seen before the next instruction
        S->PC += 4;
    }

    // ---------------------------------------------------------------- SYS: cache, TLB and address translation

    /// <summary>SYS #op1, Cn, Cm, #op2, Xt: DC, IC, TLBI and AT.</summary>
    internal void ExecuteSys(uint insn)
    {
        uint op1 = (insn >> 16) & 7, crn = (insn >> 12) & 15, crm = (insn >> 8) & 15, op2 = (insn >> 5) & 7, rt = insn & 31;
        uint el = S->CurrentEl;
        ulong sctlr = S->Sys[(int)SysReg.SCTLR_EL1];
        ulong hcr = EffectiveHcr;
        ulong xt = X(rt);
        if (crn == 7)
        {
            switch ((op1, crm, op2))
            {
                case (0, 1, 0): // IC IALLUIS
                case (0, 5, 0): // IC IALLU
                    if (el == 0) { RaiseUndefined(); return; }
                    FlushDecodedBlocks();
                    if (crm == 1) Memory.Broadcast(this, Maintenance.AllCode, 0);
                    return;
                case (3, 5, 1): // IC IVAU
                    if (el == 0 && (sctlr & (1UL << 26)) == 0) { RaiseUndefined(); return; } // UCI
                    FlushDecodedBlocks(xt & ~63UL, 64);
                    InvalidateCodeAtPhysical(xt);
                    return;
                case (3, 4, 1): // DC ZVA
                    if (el == 0 && (sctlr & (1UL << 14)) == 0) { RaiseUndefined(); return; } // DZE
                    if (el < 2 && (hcr & Hcr.TDZ) != 0) { RaiseSync(MakeEsr(ExceptionClass.SysRegTrap, SysTrapIss(insn, false)), 0, S->PC, true); return; }
                    {
                        ulong a = xt & ~63UL;
                        currentIsWrite = true;
                        byte* p = HostPointer(a, 64, AccessType.Write);
                        currentIsWrite = false;
                        if (p == null) return; // the abort was raised
                        new Span<byte>(p, 64).Clear();
                    }
                    return;
                case (3, 10, 1): // DC CVAC
                case (3, 11, 1): // DC CVAU
                case (3, 14, 1): // DC CIVAC
                case (3, 12, 1): // DC CVAP (ARMv8.2 DPB): unallocated unless advertised
                    if (crm == 12 && (S->Sys[(int)SysReg.ID_AA64ISAR1_EL1] & 0xF) == 0) { RaiseUndefined(); return; }
                    if (el == 0 && (sctlr & (1UL << 26)) == 0) { RaiseUndefined(); return; } // UCI
                    // May fault like a read (reported with CM = 1); the data itself is always coherent here.
                    currentIsCacheMaintenance = true;
                    Probe(xt, AccessType.Read);
                    currentIsCacheMaintenance = false;
                    return;
                case (0, 6, 1): // DC IVAC
                    if (el == 0) { RaiseUndefined(); return; }
                    currentIsCacheMaintenance = true;
                    Probe(xt, AccessType.Write);
                    currentIsCacheMaintenance = false;
                    return;
                case (0, 6, 2): // DC ISW
                case (0, 10, 2): // DC CSW
                case (0, 14, 2): // DC CISW
                    if (el == 0) { RaiseUndefined(); return; }
                    if ((hcr & Hcr.TSW) != 0) { RaiseSync(MakeEsr(ExceptionClass.SysRegTrap, SysTrapIss(insn, false)), 0, S->PC, true); return; }
                    return;
                case (0, 8, _): // AT S1E1R/W, S1E0R/W
                case (4, 8, _): // AT S1E2R/W, S12E1R/W, S12E0R/W
                    if (el == 0 || (op1 == 4 && el < 2)) { RaiseUndefined(); return; }
                    AddressTranslate(xt, op1, op2);
                    return;
            }
        }
        else if (crn == 8 && (op1 == 0 || op1 == 4))
        {
            if (el == 0 || (op1 == 4 && el < 2)) { RaiseUndefined(); return; }
            if (el == 1 && (hcr & Hcr.TTLB) != 0) { RaiseSync(MakeEsr(ExceptionClass.SysRegTrap, SysTrapIss(insn, false)), 0, S->PC, true); return; }
            // TLB maintenance: the software TLB is small; invalidating it all is always correct (over-invalidation
            // is allowed). Decoded blocks survive: each is checked against its physical page when reused.
            FlushTlb();
            // Inner-shareable forms (op1=0: CRm=3; op1=4: CRm=0 or 3) reach every PE of the VM.
            if (crm == 3 || (op1 == 4 && crm == 0)) Memory.Broadcast(this, Maintenance.Tlb, 0);
            EndBlock = true;
            S->PC += 4;
            return;
        }
        RaiseUndefined();
    }

    /// <summary>AT: translate without faulting and report in PAR_EL1 (F=1 with FST on failure).</summary>
    void AddressTranslate(ulong va, uint op1, uint op2)
    {
        bool write = (op2 & 1) != 0;
        if (Memory is IAddressTranslator at)
        {
            // op1=0: S1E1R/W (op2 0/1), S1E0R/W (2/3); op1=4: S1E2R/W (0/1), S12E1R/W (4/5), S12E0R/W (6/7).
            AtOperation op;
            if (op1 == 0 && op2 < 4) op = op2 < 2 ? AtOperation.S1E1 : AtOperation.S1E0;
            else if (op1 == 4 && op2 is < 2 or >= 4) op = op2 < 2 ? AtOperation.S1E2 : op2 < 6 ? AtOperation.S12E1 : AtOperation.S12E0;
            else { RaiseUndefined(); return; }
            ulong par = at.AddressTranslate(this, va, op, write, out var exception);
            if (exception.Kind != FaultKind.None)
            {
                // A stage-2 fault on the stage-1 walk: a data abort to EL2 with CM=1 (from an AT instruction).
                currentIsAt = true;
                RaiseAbort(va, write ? AccessType.Write : AccessType.Read, exception);
                currentIsAt = false;
                return;
            }
            S->Sys[(int)SysReg.PAR_EL1] = par;
            return;
        }
        if (Memory.Translate(this, va, write ? AccessType.Write : AccessType.Read, out var page, out var fault))
            S->Sys[(int)SysReg.PAR_EL1] = (page.PhysicalPage & 0x0000_FFFF_FFFF_F000UL) | (0xFFUL << 56);
        else
            S->Sys[(int)SysReg.PAR_EL1] = 1UL | (ulong)fault.StatusCode << 1 | (fault.Stage2 ? 1UL << 9 : 0) | (fault.S1Walk ? 1UL << 8 : 0);
    }
}
