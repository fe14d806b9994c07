using System.Numerics;

namespace Kvmfs.Emulator.Cpu;

public static unsafe partial class Handlers
{
    /// <summary>DecodeBitMasks (Arm ARM pseudocode) for logical immediates: false if reserved.</summary>
    public static bool DecodeBitMasks(uint n, uint imms, uint immr, bool is64, out ulong wmask)
    {
        wmask = 0;
        int len = 31 - BitOperations.LeadingZeroCount((n << 6) | (~imms & 0x3F));
        if (len < 1 || (!is64 && len > 5)) return false;
        int size = 1 << len;
        uint levels = (uint)(size - 1);
        uint s = imms & levels, r = immr & levels;
        if (s == levels) return false;
        ulong welem = (1UL << (int)(s + 1)) - 1;
        if (r != 0) welem = ((welem >> (int)r) | (welem << (size - (int)r))) & (size == 64 ? ulong.MaxValue : (1UL << size) - 1);
        ulong result = 0;
        for (int i = 0; i < 64; i += size) result |= welem << i;
        wmask = is64 ? result : (uint)result;
        return true;
    }

    public static void LogicalImmediate(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint opc = (i >> 29) & 3, n = (i >> 22) & 1, rd = i & 31;
        if (!sf && n != 0) { c.RaiseUndefined(); return; }
        if (!DecodeBitMasks(n, (i >> 10) & 63, (i >> 16) & 63, sf, out ulong imm)) { c.RaiseUndefined(); return; }
        ulong a = c.X((i >> 5) & 31);
        ulong r = opc switch { 0 => a & imm, 1 => a | imm, 2 => a ^ imm, _ => a & imm };
        if (!sf) r = (uint)r;
        if (opc == 3)
        {
            c.S->Nzcv = (uint)((sf ? r >> 63 : r >> 31) & 1) << 31 | (r == 0 ? Pstate.Z : 0);
            c.SetX(rd, r);
        }
        else c.SetXSp(rd, r);
    }

    static ulong ShiftValue(ulong v, uint type, int amount, bool sf)
    {
        if (sf)
            return type switch { 0 => v << amount, 1 => v >> amount, 2 => (ulong)((long)v >> amount), _ => BitOperations.RotateRight(v, amount) };
        uint w = (uint)v;
        return type switch { 0 => w << amount, 1 => w >> amount, 2 => (uint)((int)w >> amount), _ => BitOperations.RotateRight(w, amount) };
    }

    public static void LogicalShiftedRegister(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint opc = (i >> 29) & 3, shift = (i >> 22) & 3, rd = i & 31;
        int amount = (int)((i >> 10) & 63);
        if (!sf && amount >= 32) { c.RaiseUndefined(); return; }
        ulong b = ShiftValue(c.X((i >> 16) & 31), shift, amount, sf);
        if (((i >> 21) & 1) != 0) b = ~b;
        ulong a = c.X((i >> 5) & 31);
        ulong r = opc switch { 0 => a & b, 1 => a | b, 2 => a ^ b, _ => a & b };
        if (!sf) r = (uint)r;
        if (opc == 3) c.S->Nzcv = (uint)((sf ? r >> 63 : r >> 31) & 1) << 31 | (r == 0 ? Pstate.Z : 0);
        c.SetX(rd, r);
    }

    public static void AddSubShiftedRegister(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0, sub = ((i >> 30) & 1) != 0, setFlags = ((i >> 29) & 1) != 0;
        uint shift = (i >> 22) & 3;
        int amount = (int)((i >> 10) & 63);
        if (shift == 3 || (!sf && amount >= 32)) { c.RaiseUndefined(); return; }
        ulong b = ShiftValue(c.X((i >> 16) & 31), shift, amount, sf);
        AddSubCommon(c, i, sf, sub, setFlags, c.X((i >> 5) & 31), b, rdIsSp: false);
    }

    public static void AddSubExtendedRegister(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0, sub = ((i >> 30) & 1) != 0, setFlags = ((i >> 29) & 1) != 0;
        uint option = (i >> 13) & 7;
        int amount = (int)((i >> 10) & 7);
        if (amount > 4) { c.RaiseUndefined(); return; }
        ulong m = c.X((i >> 16) & 31);
        ulong ext = option switch
        {
            0 => (byte)m, 1 => (ushort)m, 2 => (uint)m, 3 => m,
            4 => (ulong)(sbyte)m, 5 => (ulong)(short)m, 6 => (ulong)(int)m, _ => m,
        };
        AddSubCommon(c, i, sf, sub, setFlags, c.XSp((i >> 5) & 31), ext << amount, rdIsSp: !setFlags);
    }

    static void AddSubCommon(ArmCpu c, uint i, bool sf, bool sub, bool setFlags, ulong a, ulong b, bool rdIsSp)
    {
        uint rd = i & 31;
        ulong r;
        uint nzcv;
        if (sf) r = AddWithCarry64(a, sub ? ~b : b, sub ? 1UL : 0, out nzcv);
        else r = AddWithCarry32((uint)a, sub ? ~(uint)b : (uint)b, sub ? 1u : 0, out nzcv);
        if (setFlags) c.S->Nzcv = nzcv;
        if (rdIsSp) c.SetXSp(rd, r); else c.SetX(rd, r);
    }

    public static void ConditionalSelect(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint op = (i >> 30) & 1, op2 = (i >> 10) & 3;
        if (op2 > 1 || ((i >> 29) & 1) != 0) { c.RaiseUndefined(); return; }
        ulong r;
        if (c.ConditionHolds((i >> 12) & 15)) r = c.X((i >> 5) & 31);
        else
        {
            r = c.X((i >> 16) & 31);
            if (op != 0) r = ~r;
            if (op2 != 0) r++;
        }
        c.SetX(i & 31, sf ? r : (uint)r);
    }

    public static void CompareBranch(ArmCpu c, uint i)
    {
        ulong v = c.X(i & 31);
        if ((i >> 31) == 0) v = (uint)v;
        bool nonZero = ((i >> 24) & 1) != 0;
        if ((v != 0) == nonZero) c.Branch(c.S->PC + (SignExtend((i >> 5) & 0x7FFFF, 19) << 2));
    }

    public static void TestBranch(ArmCpu c, uint i)
    {
        int bit = (int)((i >> 31) << 5 | ((i >> 19) & 31));
        bool set = ((c.X(i & 31) >> bit) & 1) != 0;
        if (set == (((i >> 24) & 1) != 0)) c.Branch(c.S->PC + (SignExtend((i >> 5) & 0x3FFF, 14) << 2));
    }

    /// <summary>LDR/STR (unsigned immediate, pre/post-index, unscaled) of general-purpose registers.</summary>
    public static void LoadStoreRegister(ArmCpu c, uint i)
    {
        uint size = i >> 30, opc = (i >> 22) & 3, rt = i & 31, rn = (i >> 5) & 31;
        ulong address;
        bool writeback = false, post = false, unprivileged = false;
        if (((i >> 24) & 1) != 0) address = c.XSp(rn) + (((i >> 10) & 0xFFF) << (int)size);
        else
        {
            ulong imm9 = SignExtend((i >> 12) & 0x1FF, 9);
            uint mode = (i >> 10) & 3;
            unprivileged = mode == 2;                      // LDTR/STTR family: unscaled offset, EL0 permissions
            writeback = mode == 1 || mode == 3;
            post = mode == 1;
            address = post ? c.XSp(rn) : c.XSp(rn) + imm9;
        }
        if (opc == 2 && size == 3) { if (!writeback && !unprivileged) return; c.RaiseUndefined(); return; } // PRFM, PRFUM
        if (opc == 3 && size >= 2) { c.RaiseUndefined(); return; }
        ulong v = 0;
        bool ok;
        if (unprivileged && c.BeginUnprivileged())
        {
            ok = opc == 0 ? WriteSized(c, address, size, c.X(rt)) : ReadSized(c, address, size, out v);
            c.EndUnprivileged();
            if (!ok) return;
            if (opc >= 2) { v = SignExtend(v, 8 << (int)size); if (opc == 3) v = (uint)v; }
            if (opc != 0) c.SetX(rt, v);
            return;
        }
        if (opc == 0)
        {
            ulong x = c.X(rt);
            ok = size switch { 0 => c.Write8(address, (byte)x), 1 => c.Write16(address, (ushort)x), 2 => c.Write32(address, (uint)x), _ => c.Write64(address, x) };
        }
        else
        {
            switch (size)
            {
                case 0: { ok = c.Read8(address, out byte b); v = b; break; }
                case 1: { ok = c.Read16(address, out ushort h); v = h; break; }
                case 2: { ok = c.Read32(address, out uint w); v = w; break; }
                default: ok = c.Read64(address, out v); break;
            }
            if (ok && opc >= 2)
            {
                v = SignExtend(v, 8 << (int)size);
                if (opc == 3) v = (uint)v;
            }
        }
        if (!ok) return;
        if (opc != 0) c.SetX(rt, v);
        if (writeback) c.SetXSp(rn, post ? address + SignExtend((i >> 12) & 0x1FF, 9) : address);
    }

    /// <summary>LDP/STP (signed offset, pre/post-index) of general-purpose registers (incl. LDPSW).</summary>
    public static void LoadStorePair(ArmCpu c, uint i)
    {
        uint opc = i >> 30, mode = (i >> 23) & 3, rt = i & 31, rn = (i >> 5) & 31, rt2 = (i >> 10) & 31;
        bool load = ((i >> 22) & 1) != 0;
        if (opc == 3 || (opc == 1 && (!load || mode == 0))) { c.RaiseUndefined(); return; }
        int scale = opc == 2 ? 3 : 2;
        ulong offset = SignExtend((i >> 15) & 0x7F, 7) << scale;
        ulong baseAddr = c.XSp(rn);
        ulong address = mode == 1 ? baseAddr : baseAddr + offset;
        if (load)
        {
            ulong a, b;
            if (scale == 3) { if (!c.Read64(address, out a) || !c.Read64(address + 8, out b)) return; }
            else
            {
                if (!c.Read32(address, out uint wa) || !c.Read32(address + 4, out uint wb)) return;
                a = opc == 1 ? SignExtend(wa, 32) : wa; b = opc == 1 ? SignExtend(wb, 32) : wb;
            }
            c.SetX(rt, a); c.SetX(rt2, b);
        }
        else
        {
            ulong a = c.X(rt), b = c.X(rt2);
            if (scale == 3) { if (!c.Write128(address, a, b)) return; }
            else if (!c.Write64(address, (uint)a | (ulong)(uint)b << 32)) return;
        }
        if (mode == 1 || mode == 3) c.SetXSp(rn, baseAddr + offset);
    }
}
