using System.Runtime.CompilerServices;

namespace Kvmfs.Emulator.Cpu;

/// <summary>
/// Instruction semantics: one static method per encoding class, <c>(ArmCpu cpu, uint insn)</c>.
/// Conventions (see emulator/CONTRACT.md): PC of the instruction is in cpu.S->PC; a handler that changes
/// PC calls cpu.Branch(target) (or sets S->PC and EndBlock); memory helpers return false after raising
/// the abort, and the handler must then return without changing any register.
/// </summary>
public static unsafe partial class Handlers
{
    /// <summary>Unallocated or unimplemented encodings: the Undefined Instruction exception.</summary>
    public static void Undefined(ArmCpu c, uint insn) => c.RaiseUndefined();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong SignExtend(ulong value, int bits) => (ulong)((long)(value << (64 - bits)) >> (64 - bits));

    /// <summary>AddWithCarry for 64 bits: result and NZCV (bits 31:28).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong AddWithCarry64(ulong a, ulong b, ulong carry, out uint nzcv)
    {
        ulong r = a + b + carry;
        ulong c = ((a & b) | ((a | b) & ~r)) >> 63;
        ulong v = ((a ^ r) & (b ^ r)) >> 63;
        nzcv = (uint)(r >> 63) << 31 | (r == 0 ? Pstate.Z : 0) | (uint)c << 29 | (uint)v << 28;
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint AddWithCarry32(uint a, uint b, uint carry, out uint nzcv)
    {
        uint r = a + b + carry;
        uint c = ((a & b) | ((a | b) & ~r)) >> 31;
        uint v = ((a ^ r) & (b ^ r)) >> 31;
        nzcv = (r >> 31) << 31 | (r == 0 ? Pstate.Z : 0) | c << 29 | v << 28;
        return r;
    }

    // ------------------------------------------------------------ data processing (immediate)

    public static void Adr(ArmCpu c, uint i)
    {
        ulong imm = SignExtend(((i >> 5) & 0x7FFFF) << 2 | ((i >> 29) & 3), 21);
        c.SetX(i & 31, c.S->PC + imm);
    }

    public static void Adrp(ArmCpu c, uint i)
    {
        ulong imm = SignExtend(((i >> 5) & 0x7FFFF) << 2 | ((i >> 29) & 3), 21) << 12;
        c.SetX(i & 31, (c.S->PC & ~0xFFFUL) + imm);
    }

    public static void AddSubImmediate(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0, sub = ((i >> 30) & 1) != 0, setFlags = ((i >> 29) & 1) != 0;
        ulong imm = (i >> 10) & 0xFFF;
        if (((i >> 22) & 1) != 0) imm <<= 12;
        uint rn = (i >> 5) & 31, rd = i & 31;
        ulong a = c.XSp(rn);
        if (sf)
        {
            ulong r = AddWithCarry64(a, sub ? ~imm : imm, sub ? 1UL : 0, out uint nzcv);
            if (setFlags) { c.S->Nzcv = nzcv; c.SetX(rd, r); } else c.SetXSp(rd, r);
        }
        else
        {
            uint r = AddWithCarry32((uint)a, sub ? ~(uint)imm : (uint)imm, sub ? 1u : 0, out uint nzcv);
            if (setFlags) { c.S->Nzcv = nzcv; c.SetW(rd, r); } else c.SetXSp(rd, r);
        }
    }

    public static void MoveWide(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint opc = (i >> 29) & 3, hw = (i >> 21) & 3, rd = i & 31;
        if (opc == 1 || (!sf && hw >= 2)) { c.RaiseUndefined(); return; }
        int shift = (int)hw * 16;
        ulong imm = (ulong)((i >> 5) & 0xFFFF) << shift;
        ulong r = opc switch
        {
            0 => ~imm,                                                    // MOVN
            2 => imm,                                                     // MOVZ
            _ => (c.X(rd) & ~(0xFFFFUL << shift)) | imm,                  // MOVK
        };
        if (!sf) r = (uint)r;
        c.SetX(rd, r);
    }

    // ------------------------------------------------------------ branches, exceptions, system

    public static void B(ArmCpu c, uint i) => c.Branch(c.S->PC + (SignExtend(i & 0x3FF_FFFF, 26) << 2));

    public static void Bl(ArmCpu c, uint i)
    {
        c.S->X[30] = c.S->PC + 4;
        c.Branch(c.S->PC + (SignExtend(i & 0x3FF_FFFF, 26) << 2));
    }

    public static void BCond(ArmCpu c, uint i)
    {
        if (c.ConditionHolds(i & 15)) c.Branch(c.S->PC + (SignExtend((i >> 5) & 0x7FFFF, 19) << 2));
    }

    public static void BranchRegister(ArmCpu c, uint i)
    {
        ulong target = c.X((i >> 5) & 31);
        if (((i >> 21) & 3) == 1) c.S->X[30] = c.S->PC + 4; // BLR
        c.Branch(target);
    }

    public static void Eret(ArmCpu c, uint i)
    {
        uint el = c.S->CurrentEl;
        if (el == 0) { c.RaiseUndefined(); return; }
        if (el == 1) c.ExceptionReturn(c.Sys(SysReg.ELR_EL1), (uint)c.Sys(SysReg.SPSR_EL1));
        else c.ExceptionReturn(c.Sys(SysReg.ELR_EL2), (uint)c.Sys(SysReg.SPSR_EL2));
    }

    public static void Svc(ArmCpu c, uint i) => c.RaiseCall(ExceptionClass.Svc64, (i >> 5) & 0xFFFF, toEl2: false);

    public static void Hvc(ArmCpu c, uint i)
    {
        // Without EL2 (no hypervisor attached), from EL0, or disabled by HCR_EL2.HCD, HVC is undefined.
        if (!c.HasEl2 || c.S->CurrentEl == 0 || (c.S->CurrentEl == 1 && (c.Sys(SysReg.HCR_EL2) & ArmCpu.Hcr.HCD) != 0)) { c.RaiseUndefined(); return; }
        c.RaiseCall(ExceptionClass.Hvc64, (i >> 5) & 0xFFFF, toEl2: true);
    }

    public static void Brk(ArmCpu c, uint i) =>
        c.RaiseSync(ArmCpu.MakeEsr(ExceptionClass.Brk64, (i >> 5) & 0xFFFF), 0, c.S->PC, toEl2: false);

    public static void Hint(ArmCpu c, uint i)
    {
        // NOP, YIELD, WFE, WFI, SEV, SEVL and every other hint (unadvertised features execute as NOP).
        uint op = (i >> 5) & 0x7F;
        switch (op)
        {
            case 2: // WFE
                if (TrapWaitForEvent(c, wfe: true)) return;
                // Nothing else in this model sends events, so the wait ends at once (spurious wake-ups are allowed).
                c.S->EventRegister = 0;
                return;
            case 3: // WFI
                if (TrapWaitForEvent(c, wfe: false)) return;
                if (!c.InterruptPending) c.RequestWaitForInterrupt();
                return;
            case 4: // SEV
            case 5: // SEVL
                c.S->EventRegister = 1;
                return;
        }
    }

    /// <summary>WFI/WFE traps: from EL0 to EL1 unless SCTLR_EL1.nTWI/nTWE, then to EL2 by HCR_EL2.TWI/TWE (EC 0x01, TI = WFE).</summary>
    static bool TrapWaitForEvent(ArmCpu c, bool wfe)
    {
        uint iss = 1u << 24 | 0xEu << 20 | (wfe ? 1u : 0);
        if (c.S->CurrentEl == 0 && (c.Sys(SysReg.SCTLR_EL1) & (wfe ? 1UL << 18 : 1UL << 16)) == 0)
        {
            c.RaiseSync(ArmCpu.MakeEsr(ExceptionClass.WfiWfe, iss), 0, c.S->PC, toEl2: false);
            return true;
        }
        if (c.S->CurrentEl < 2 && c.HasEl2 && (c.Sys(SysReg.HCR_EL2) & (wfe ? ArmCpu.Hcr.TWE : ArmCpu.Hcr.TWI)) != 0)
        {
            c.RaiseSync(ArmCpu.MakeEsr(ExceptionClass.WfiWfe, iss), 0, c.S->PC, toEl2: true);
            return true;
        }
        return false;
    }

    /// <summary>SMC: there is no EL3, so SMC is UNDEFINED, except that HCR_EL2.TSC traps it from EL1 to EL2
    /// (EC 0x17; ELR_EL2 is the SMC itself, the hyp steps over it after emulating PSCI/SMCCC).</summary>
    public static void Smc(ArmCpu c, uint i)
    {
        if (c.S->CurrentEl == 1 && c.HasEl2 && (c.Sys(SysReg.HCR_EL2) & ArmCpu.Hcr.TSC) != 0)
        {
            c.RaiseSync(ArmCpu.MakeEsr(ExceptionClass.Smc64, (i >> 5) & 0xFFFF), 0, c.S->PC, toEl2: true);
            return;
        }
        c.RaiseUndefined();
    }

    public static void Clrex(ArmCpu c, uint i) => c.S->ExclusiveSize = 0;

    public static void Barrier(ArmCpu c, uint i)
    {
        // The host (x86) is TSO: only barriers that order stores before later loads need a real fence.
        if (((i >> 8) & 3) != 1) Interlocked.MemoryBarrier();
    }

    public static void Isb(ArmCpu c, uint i) { }

    public static void MsrImmediate(ArmCpu c, uint i) => c.ExecuteMsrImmediate(i);
    public static void Sys(ArmCpu c, uint i) => c.ExecuteSys(i);
    public static void Msr(ArmCpu c, uint i) => c.ExecuteMsr(i);
    public static void Mrs(ArmCpu c, uint i) => c.ExecuteMrs(i);
}
