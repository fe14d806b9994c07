using System.Numerics;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Cpu;

public static unsafe partial class Handlers
{
    public static void Bitfield(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint opc = (i >> 29) & 3, n = (i >> 22) & 1, rd = i & 31;
        int immr = (int)((i >> 16) & 63), imms = (int)((i >> 10) & 63);
        int width = sf ? 64 : 32;
        if (opc == 3 || (sf ? n != 1 : n != 0 || immr >= 32 || imms >= 32)) { c.RaiseUndefined(); return; }
        ulong src = c.X((i >> 5) & 31);
        ulong widthMask = sf ? ulong.MaxValue : 0xFFFF_FFFFUL;
        ulong result;
        if (imms >= immr)
        {
            // Extract field [imms:immr] to the bottom.
            int len = imms - immr + 1;
            ulong field = (src >> immr) & (len == 64 ? ulong.MaxValue : (1UL << len) - 1);
            if (opc == 0 && ((field >> (len - 1)) & 1) != 0) field |= ~((len == 64 ? 0 : 1UL << len) - 1) ;
            if (opc == 1) result = (c.X(rd) & ~((len == 64 ? ulong.MaxValue : (1UL << len) - 1))) | field;
            else result = field;
        }
        else
        {
            // Insert low (imms+1) bits at position width-immr.
            int len = imms + 1, pos = width - immr;
            ulong fmask = (1UL << len) - 1;
            ulong field = (src & fmask) << pos;
            if (opc == 0 && ((src >> imms) & 1) != 0 && pos + len < 64) field |= ~((1UL << (pos + len)) - 1);
            if (opc == 1) result = (c.X(rd) & ~(fmask << pos)) | field;
            else result = field;
        }
        c.SetX(rd, result & widthMask);
    }

    public static void Extract(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        int lsb = (int)((i >> 10) & 63);
        // op21 (bits 30:29) and o0 (bit 21) must be zero, N must equal sf.
        if ((i & 0x6020_0000) != 0 || ((i >> 22) & 1) != (i >> 31) || (!sf && lsb >= 32)) { c.RaiseUndefined(); return; }
        ulong n = c.X((i >> 5) & 31), m = c.X((i >> 16) & 31);
        ulong r = sf ? (lsb == 0 ? m : (m >> lsb) | (n << (64 - lsb)))
                     : (lsb == 0 ? (uint)m : (uint)(((ulong)(uint)n << 32 | (uint)m) >> lsb));
        c.SetX(i & 31, r);
    }

    public static void AddSubCarry(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0, sub = ((i >> 30) & 1) != 0, setFlags = ((i >> 29) & 1) != 0;
        ulong a = c.X((i >> 5) & 31), b = c.X((i >> 16) & 31);
        uint carry = (c.S->Nzcv >> 29) & 1;
        ulong r; uint nzcv;
        if (sf) r = AddWithCarry64(a, sub ? ~b : b, carry, out nzcv);
        else r = AddWithCarry32((uint)a, sub ? ~(uint)b : (uint)b, carry, out nzcv);
        if (setFlags) c.S->Nzcv = nzcv;
        c.SetX(i & 31, r);
    }

    public static void ConditionalCompare(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0, sub = ((i >> 30) & 1) != 0, imm = ((i >> 11) & 1) != 0;
        if (!c.ConditionHolds((i >> 12) & 15)) { c.S->Nzcv = (i & 15) << 28; return; }
        ulong a = c.X((i >> 5) & 31);
        ulong b = imm ? (i >> 16) & 31 : c.X((i >> 16) & 31);
        uint nzcv;
        if (sf) AddWithCarry64(a, sub ? ~b : b, sub ? 1UL : 0, out nzcv);
        else AddWithCarry32((uint)a, sub ? ~(uint)b : (uint)b, sub ? 1u : 0, out nzcv);
        c.S->Nzcv = nzcv;
    }

    public static void DataProcessing2Source(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint opcode = (i >> 10) & 63, rd = i & 31;
        ulong n = c.X((i >> 5) & 31), m = c.X((i >> 16) & 31);
        ulong r;
        switch (opcode)
        {
            case 2: r = sf ? (m == 0 ? 0 : n / m) : ((uint)m == 0 ? 0 : (uint)n / (uint)m); break;                      // UDIV
            case 3:                                                                                                     // SDIV
                if (sf) r = m == 0 ? 0 : ((long)n == long.MinValue && (long)m == -1) ? n : (ulong)((long)n / (long)m);
                else r = (uint)m == 0 ? 0 : ((int)n == int.MinValue && (int)m == -1) ? (uint)n : (uint)((int)n / (int)m);
                break;
            case 8: case 9: case 10: case 11:
                r = ShiftValue(n, opcode - 8, (int)(m & (sf ? 63UL : 31UL)), sf); break;                                // LSLV/LSRV/ASRV/RORV
            case 16: case 17: case 18: case 19: case 20: case 21: case 22: case 23:
            {
                int sz = (int)(opcode & 3);
                bool castagnoli = (opcode & 4) != 0;
                if ((sz == 3) != sf) { c.RaiseUndefined(); return; }
                r = Crc32((uint)n, m, 8 << sz, castagnoli);
                break;
            }
            default: c.RaiseUndefined(); return;
        }
        c.SetX(rd, sf ? r : (uint)r);
    }

    static uint Crc32(uint acc, ulong data, int bits, bool castagnoli)
    {
        uint poly = castagnoli ? 0x82F63B78u : 0xEDB88320u;
        for (int b = 0; b < bits; b++)
        {
            uint bit = (acc ^ (uint)(data >> b)) & 1;
            acc = (acc >> 1) ^ (bit != 0 ? poly : 0);
        }
        return acc;
    }

    public static void DataProcessing1Source(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint opcode = (i >> 10) & 63, rd = i & 31;
        if (((i >> 16) & 31) != 0) { c.RaiseUndefined(); return; }
        ulong n = c.X((i >> 5) & 31);
        ulong r;
        switch (opcode)
        {
            case 0: r = sf ? ReverseBits(n) : ReverseBits(n) >> 32; break;                                             // RBIT
            case 1: r = ((n >> 8) & 0x00FF00FF00FF00FFUL) | ((n & 0x00FF00FF00FF00FFUL) << 8); break;                 // REV16
            case 2: r = sf ? ((ulong)BinaryPrimitivesReverse((uint)(n >> 32)) << 32 | BinaryPrimitivesReverse((uint)n))
                           : BinaryPrimitivesReverse((uint)n); break;                                                   // REV32 / REV (W)
            case 3: if (!sf) { c.RaiseUndefined(); return; } r = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(n); break; // REV
            case 4: r = sf ? (ulong)BitOperations.LeadingZeroCount(n) : (ulong)BitOperations.LeadingZeroCount((uint)n); break;       // CLZ
            case 5:                                                                                                     // CLS
                if (sf) r = (ulong)(BitOperations.LeadingZeroCount((n ^ (n << 1)) | 1) );
                else r = (ulong)(BitOperations.LeadingZeroCount(((uint)n ^ ((uint)n << 1)) | 1));
                break;
            default: c.RaiseUndefined(); return;
        }
        c.SetX(rd, sf ? r : (uint)r);
    }

    static uint BinaryPrimitivesReverse(uint v) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);

    static ulong ReverseBits(ulong v)
    {
        v = ((v >> 1) & 0x5555555555555555UL) | ((v & 0x5555555555555555UL) << 1);
        v = ((v >> 2) & 0x3333333333333333UL) | ((v & 0x3333333333333333UL) << 2);
        v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FUL) | ((v & 0x0F0F0F0F0F0F0F0FUL) << 4);
        return System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(v);
    }

    public static void DataProcessing3Source(ArmCpu c, uint i)
    {
        bool sf = (i >> 31) != 0;
        uint op31 = (i >> 21) & 7, o0 = (i >> 15) & 1, rd = i & 31;
        ulong n = c.X((i >> 5) & 31), m = c.X((i >> 16) & 31), a = c.X((i >> 10) & 31);
        ulong r;
        switch (op31)
        {
            case 0: r = o0 == 0 ? a + n * m : a - n * m; if (!sf) r = (uint)r; break;                                  // MADD/MSUB
            case 1: if (!sf) goto default; { long p = (long)(int)n * (int)m; r = o0 == 0 ? a + (ulong)p : a - (ulong)p; } break; // SMADDL/SMSUBL
            case 2: if (!sf || o0 != 0) goto default; r = (ulong)(((Int128)(long)n * (long)m) >> 64); break;            // SMULH
            case 5: if (!sf) goto default; { ulong p = (ulong)(uint)n * (uint)m; r = o0 == 0 ? a + p : a - p; } break;   // UMADDL/UMSUBL
            case 6: if (!sf || o0 != 0) goto default; r = Math.BigMul(n, m, out _); break;                              // UMULH
            default: c.RaiseUndefined(); return;
        }
        c.SetX(rd, r);
    }

    /// <summary>LDR (literal): W, X, LDRSW, PRFM.</summary>
    public static void LoadLiteral(ArmCpu c, uint i)
    {
        uint opc = i >> 30, rt = i & 31;
        ulong address = c.S->PC + (SignExtend((i >> 5) & 0x7FFFF, 19) << 2);
        switch (opc)
        {
            case 0: { if (!c.Read32(address, out uint w)) return; c.SetX(rt, w); break; }
            case 1: { if (!c.Read64(address, out ulong x)) return; c.SetX(rt, x); break; }
            case 2: { if (!c.Read32(address, out uint w)) return; c.SetX(rt, SignExtend(w, 32)); break; }
            default: break; // PRFM
        }
    }

    /// <summary>LDR/STR (register offset) of general-purpose registers.</summary>
    public static void LoadStoreRegisterOffset(ArmCpu c, uint i)
    {
        uint size = i >> 30, opc = (i >> 22) & 3, option = (i >> 13) & 7, rt = i & 31;
        if ((option & 2) == 0) { c.RaiseUndefined(); return; }
        ulong m = c.X((i >> 16) & 31);
        ulong offset = option switch { 2 => (uint)m, 6 => (ulong)(int)m, _ => m };
        if (((i >> 12) & 1) != 0) offset <<= (int)size;
        ulong address = c.XSp((i >> 5) & 31) + offset;
        if (opc == 2 && size == 3) return; // PRFM
        if (opc == 3 && size >= 2) { c.RaiseUndefined(); return; }
        if (opc == 0)
        {
            ulong x = c.X(rt);
            _ = size switch { 0 => c.Write8(address, (byte)x), 1 => c.Write16(address, (ushort)x), 2 => c.Write32(address, (uint)x), _ => c.Write64(address, x) };
            return;
        }
        ulong v; bool ok;
        switch (size)
        {
            case 0: { ok = c.Read8(address, out byte b); v = b; break; }
            case 1: { ok = c.Read16(address, out ushort h); v = h; break; }
            case 2: { ok = c.Read32(address, out uint w); v = w; break; }
            default: ok = c.Read64(address, out v); break;
        }
        if (!ok) return;
        if (opc >= 2) { v = SignExtend(v, 8 << (int)size); if (opc == 3) v = (uint)v; }
        c.SetX(rt, v);
    }

    /// <summary>LDXR/STXR/LDAXR/STLXR, LDAR/STLR (single register). The exclusive monitor is a compare-and-swap
    /// on the host location against the value the load-exclusive saw, which also works across host threads.</summary>
    public static void LoadStoreExclusive(ArmCpu c, uint i)
    {
        uint size = i >> 30, rt = i & 31, rs = (i >> 16) & 31;
        bool o2 = ((i >> 23) & 1) != 0, load = ((i >> 22) & 1) != 0, o1 = ((i >> 21) & 1) != 0, o0 = ((i >> 15) & 1) != 0;
        if (o1)
        {
            // LDXP/STXP/LDAXP/STLXP; with size 0x (CASP) or o2 = 1 (CAS) the LSE atomics, not implemented.
            if (o2 || size < 2) { c.RaiseUndefined(); return; }
            ExclusivePair(c, i);
            return;
        }
        ulong address = c.XSp((i >> 5) & 31);
        int bytes = 1 << (int)size;
        if ((address & (ulong)(bytes - 1)) != 0) { c.RaiseAlignmentFault(address, !load); return; }
        if (o2)
        {
            if (!o0) { c.RaiseUndefined(); return; } // LDLAR/STLLR (LOR) not implemented
            if (load)
            {
                if (!ReadSized(c, address, size, out ulong v)) return;
                c.SetX(rt, v);
            }
            else
            {
                Interlocked.MemoryBarrier();
                WriteSized(c, address, size, c.X(rt));
            }
            return;
        }
        byte* p = c.HostPointer(address, bytes, load ? AccessType.Read : AccessType.Write);
        if (p == null) return;
        if (load)
        {
            ulong v = size switch { 0 => *p, 1 => *(ushort*)p, 2 => Volatile.Read(ref *(uint*)p), _ => Volatile.Read(ref *(ulong*)p) };
            c.S->ExclusiveAddress = address;
            c.S->ExclusiveValue = v;
            c.S->ExclusiveSize = (uint)bytes;
            c.SetX(rt, v);
            return;
        }
        bool success = c.S->ExclusiveSize == (uint)bytes && c.S->ExclusiveAddress == address;
        if (success)
        {
            ulong expected = c.S->ExclusiveValue, value = c.X(rt);
            success = size switch
            {
                2 => Interlocked.CompareExchange(ref *(uint*)p, (uint)value, (uint)expected) == (uint)expected,
                3 => Interlocked.CompareExchange(ref *(ulong*)p, value, expected) == expected,
                _ => CompareExchangeSmall(p, size, value, expected),
            };
        }
        c.S->ExclusiveSize = 0;
        c.SetX(rs, success ? 0UL : 1UL);
    }

    /// <summary>Stripes of locks for 128-bit store-exclusive pairs: .NET has no 16-byte compare-and-swap, so two
    /// STXPs to the same location are serialised by the lock of its stripe (plain stores do not take it).</summary>
    static readonly object[] pairLocks = CreatePairLocks();
    static object[] CreatePairLocks()
    {
        var l = new object[64];
        for (int k = 0; k < l.Length; k++) l[k] = new object();
        return l;
    }

    /// <summary>LDXP/LDAXP/STXP/STLXP: two W (8 bytes) or two X (16 bytes) registers, aligned to the total size.</summary>
    static void ExclusivePair(ArmCpu c, uint i)
    {
        bool is64 = ((i >> 30) & 1) != 0, load = ((i >> 22) & 1) != 0;
        uint rt = i & 31, rt2 = (i >> 10) & 31, rs = (i >> 16) & 31;
        ulong address = c.XSp((i >> 5) & 31);
        int bytes = is64 ? 16 : 8;
        if ((address & (ulong)(bytes - 1)) != 0) { c.RaiseAlignmentFault(address, !load); return; }
        byte* p = c.HostPointer(address, bytes, load ? AccessType.Read : AccessType.Write);
        if (p == null) return;
        ulong* q = (ulong*)p;
        if (load)
        {
            ulong lo, hi = 0;
            if (is64) lock (pairLocks[(address >> 4) & 63]) { lo = Volatile.Read(ref q[0]); hi = Volatile.Read(ref q[1]); }
            else lo = Volatile.Read(ref q[0]);
            c.S->ExclusiveAddress = address;
            c.S->ExclusiveValue = lo;
            c.S->ExclusiveValueHigh = hi;
            c.S->ExclusiveSize = (uint)bytes;
            if (is64) { c.SetX(rt, lo); c.SetX(rt2, hi); }
            else { c.SetX(rt, (uint)lo); c.SetX(rt2, lo >> 32); }
            return;
        }
        bool success = c.S->ExclusiveSize == (uint)bytes && c.S->ExclusiveAddress == address;
        if (success)
        {
            if (!is64)
            {
                ulong value = (uint)c.X(rt) | c.X(rt2) << 32;
                success = Interlocked.CompareExchange(ref q[0], value, c.S->ExclusiveValue) == c.S->ExclusiveValue;
            }
            else
                lock (pairLocks[(address >> 4) & 63])
                {
                    success = q[0] == c.S->ExclusiveValue && q[1] == c.S->ExclusiveValueHigh;
                    if (success) { q[0] = c.X(rt); q[1] = c.X(rt2); }
                }
        }
        else Interlocked.MemoryBarrier();
        c.S->ExclusiveSize = 0;
        c.SetX(rs, success ? 0UL : 1UL);
    }

    static bool CompareExchangeSmall(byte* p, uint size, ulong value, ulong expected)
    {
        // Byte/halfword exclusives: CAS on the containing aligned word.
        uint* word = (uint*)((ulong)p & ~3UL);
        int shift = (int)((ulong)p & 3) * 8;
        uint mask = (size == 0 ? 0xFFu : 0xFFFFu) << shift;
        uint old = Volatile.Read(ref *word);
        if (((old & mask) >> shift) != expected) return false;
        uint updated = (old & ~mask) | (((uint)value << shift) & mask);
        return Interlocked.CompareExchange(ref *word, updated, old) == old;
    }

    static bool ReadSized(ArmCpu c, ulong a, uint size, out ulong v)
    {
        bool ok;
        switch (size)
        {
            case 0: { ok = c.Read8(a, out byte b); v = b; break; }
            case 1: { ok = c.Read16(a, out ushort h); v = h; break; }
            case 2: { ok = c.Read32(a, out uint w); v = w; break; }
            default: ok = c.Read64(a, out v); break;
        }
        return ok;
    }

    static bool WriteSized(ArmCpu c, ulong a, uint size, ulong x) =>
        size switch { 0 => c.Write8(a, (byte)x), 1 => c.Write16(a, (ushort)x), 2 => c.Write32(a, (uint)x), _ => c.Write64(a, x) };
}
