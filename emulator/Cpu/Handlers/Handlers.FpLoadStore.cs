namespace Kvmfs.Emulator.Cpu;

/// <summary>SIMD&amp;FP register loads and stores (B/H/S/D/Q): single register in every addressing mode, pairs, literal.</summary>
public static unsafe partial class Handlers
{
    /// <summary>Loads <paramref name="bytes"/> (1..16) into Vt, zeroing the rest of the register.</summary>
    static bool LoadV(ArmCpu c, ulong address, int bytes, uint vt)
    {
        ulong lo, hi = 0;
        switch (bytes)
        {
            case 1: { if (!c.Read8(address, out byte b)) return false; lo = b; break; }
            case 2: { if (!c.Read16(address, out ushort h)) return false; lo = h; break; }
            case 4: { if (!c.Read32(address, out uint w)) return false; lo = w; break; }
            case 8: { if (!c.Read64(address, out lo)) return false; break; }
            default: { if (!c.Read128(address, out lo, out hi)) return false; break; }
        }
        ulong* v = (ulong*)c.V(vt);
        v[0] = lo; v[1] = hi;
        return true;
    }

    static bool StoreV(ArmCpu c, ulong address, int bytes, uint vt)
    {
        ulong* v = (ulong*)c.V(vt);
        return bytes switch
        {
            1 => c.Write8(address, (byte)v[0]),
            2 => c.Write16(address, (ushort)v[0]),
            4 => c.Write32(address, (uint)v[0]),
            8 => c.Write64(address, v[0]),
            _ => c.Write128(address, v[0], v[1]),
        };
    }

    /// <summary>log2 of the access size from size:opc&lt;1&gt;; -1 if unallocated.</summary>
    static int FpScale(uint size, uint opcHigh) => opcHigh == 0 ? (int)size : size == 0 ? 4 : -1;

    /// <summary>LDR/STR (SIMD&amp;FP): unsigned immediate, unscaled, pre/post-index, register offset.</summary>
    public static void FpLoadStoreRegister(ArmCpu c, uint i)
    {
        uint size = i >> 30, opc = (i >> 22) & 3, rt = i & 31, rn = (i >> 5) & 31;
        int scale = FpScale(size, opc >> 1);
        if (scale < 0) { c.RaiseUndefined(); return; }
        if (!c.CheckFpEnabled()) return;
        bool load = (opc & 1) != 0;
        ulong baseAddr = c.XSp(rn), address;
        bool writeback = false;
        ulong newBase = 0;
        if (((i >> 24) & 1) != 0) address = baseAddr + (((i >> 10) & 0xFFF) << scale);
        else if (((i >> 21) & 1) != 0)
        {
            if (((i >> 10) & 3) != 2) { c.RaiseUndefined(); return; }
            uint option = (i >> 13) & 7;
            if ((option & 2) == 0) { c.RaiseUndefined(); return; }
            ulong m = c.X((i >> 16) & 31);
            ulong offset = option switch { 2 => (uint)m, 6 => (ulong)(int)m, _ => m };
            if (((i >> 12) & 1) != 0) offset <<= scale;
            address = baseAddr + offset;
        }
        else
        {
            ulong imm9 = SignExtend((i >> 12) & 0x1FF, 9);
            uint mode = (i >> 10) & 3;
            if (mode == 2) { c.RaiseUndefined(); return; }
            writeback = mode != 0;
            address = mode == 1 ? baseAddr : baseAddr + imm9;
            newBase = baseAddr + imm9;
        }
        bool ok = load ? LoadV(c, address, 1 << scale, rt) : StoreV(c, address, 1 << scale, rt);
        if (ok && writeback) c.SetXSp(rn, newBase);
    }

    /// <summary>LDP/STP/LDNP/STNP (SIMD&amp;FP): S, D, Q.</summary>
    public static void FpLoadStorePair(ArmCpu c, uint i)
    {
        uint opc = i >> 30, mode = (i >> 23) & 3, rt = i & 31, rn = (i >> 5) & 31, rt2 = (i >> 10) & 31;
        bool load = ((i >> 22) & 1) != 0;
        if (opc == 3) { c.RaiseUndefined(); return; }
        if (!c.CheckFpEnabled()) return;
        int scale = 2 + (int)opc;
        int bytes = 1 << scale;
        ulong offset = SignExtend((i >> 15) & 0x7F, 7) << scale;
        ulong baseAddr = c.XSp(rn);
        ulong address = mode == 1 ? baseAddr : baseAddr + offset;
        if (load)
        {
            // Read both before writing either register, so a fault on the second changes nothing.
            ulong lo1, hi1 = 0, lo2, hi2 = 0;
            if (bytes == 16) { if (!c.Read128(address, out lo1, out hi1) || !c.Read128(address + 16, out lo2, out hi2)) return; }
            else if (bytes == 8) { if (!c.Read64(address, out lo1) || !c.Read64(address + 8, out lo2)) return; }
            else { if (!c.Read32(address, out uint a) || !c.Read32(address + 4, out uint b)) return; lo1 = a; lo2 = b; }
            ulong* v1 = (ulong*)c.V(rt); v1[0] = lo1; v1[1] = hi1;
            ulong* v2 = (ulong*)c.V(rt2); v2[0] = lo2; v2[1] = hi2;
        }
        else
        {
            if (!c.Probe(address, Memory.AccessType.Write) || !c.Probe(address + (ulong)(2 * bytes - 1), Memory.AccessType.Write)) return;
            if (!StoreV(c, address, bytes, rt) || !StoreV(c, address + (ulong)bytes, bytes, rt2)) return;
        }
        if (mode == 1 || mode == 3) c.SetXSp(rn, baseAddr + offset);
    }

    /// <summary>LDR (literal, SIMD&amp;FP): S, D, Q.</summary>
    public static void FpLoadLiteral(ArmCpu c, uint i)
    {
        uint opc = i >> 30;
        if (opc == 3) { c.RaiseUndefined(); return; }
        if (!c.CheckFpEnabled()) return;
        ulong address = c.S->PC + (SignExtend((i >> 5) & 0x7FFFF, 19) << 2);
        LoadV(c, address, 4 << (int)opc, i & 31);
    }
}
