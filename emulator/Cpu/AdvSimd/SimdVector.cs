using System.Runtime.Intrinsics;
using Kvmfs.Emulator.Fpu;
using static Kvmfs.Emulator.Cpu.AdvSimd.Simd;

namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// Handlers for the AdvSIMD vector encoding classes (three same, three different, two-register misc,
/// across lanes, copy, modified immediate, shift by immediate, permute, EXT, TBL/TBX, by element).
/// Every handler reads all sources into stack values first, because Vd may alias a source.
/// </summary>
internal static unsafe class SimdVector
{
    static bool Q(uint insn) => ((insn >> 30) & 1) != 0;
    static bool U(uint insn) => ((insn >> 29) & 1) != 0;
    static int Size(uint insn) => (int)((insn >> 22) & 3);

    // 0 Q U 01110 size 1 Rm opcode 1 Rn Rd
    public static void ThreeSame(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ThreeSameCore);

    internal static bool ThreeSameCore(CpuState* s, uint insn)
    {
        bool q = Q(insn), u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 11) & 31;
        V128 vn = ReadV(s, Rn(insn)), vm = ReadV(s, Rm(insn)), vd = ReadV(s, Rd(insn)), r = default;
        int bytes = q ? 16 : 8;
        if (opc == 0b00011)
        {
            // Bitwise ops work on whole halves.
            r.Lo = Logic(u, size, vn.Lo, vm.Lo, vd.Lo);
            r.Hi = Logic(u, size, vn.Hi, vm.Hi, vd.Hi);
            WriteV(s, Rd(insn), r, q);
            return true;
        }
        if (opc >= 0b11000)
        {
            int n = (size & 1) != 0 ? 64 : 32;
            bool a = (size & 2) != 0;
            if (n == 64 && !q) return false;
            int elems = bytes * 8 / n, es = n == 64 ? 3 : 2;
            uint fpcr = s->Fpcr;
            bool pairwise = u && (opc == 0b11000 || opc == 0b11110 || (opc == 0b11010 && !a));   // FMAXNMP/FMINNMP, FMAXP/FMINP, FADDP
            for (int e = 0; e < elems; e++)
            {
                bool ok;
                ulong res;
                if (pairwise)
                {
                    ulong x = Pair(vn, vm, 2 * e, elems, es), y = Pair(vn, vm, 2 * e + 1, elems, es);
                    ok = SimdElement.FpPairOp(a, opc, x, y, n, fpcr, ref s->Fpsr, out res);
                }
                else ok = SimdElement.FpThreeSame(u, a, opc, vn.Get(e, es), vm.Get(e, es), vd.Get(e, es), n, fpcr, ref s->Fpsr, out res);
                if (!ok) return false;
                r.Set(e, es, res);
            }
            WriteV(s, Rd(insn), r, q);
            return true;
        }
        if (size == 3 && !q) return false;
        if (FastThreeSame(u, opc, size, vn, vm, out r))
        {
            WriteV(s, Rd(insn), r, q);
            return true;
        }
        int esize = 8 << size, count = bytes >> size;
        if (opc is 0b10100 or 0b10101 or 0b10111)
        {
            // SMAXP/UMAXP, SMINP/UMINP, ADDP: pairs from the concatenation Vm:Vn.
            if ((opc == 0b10111 && u) || (opc != 0b10111 && size == 3)) return false;
            for (int e = 0; e < count; e++)
            {
                ulong x = Pair(vn, vm, 2 * e, count, size), y = Pair(vn, vm, 2 * e + 1, count, size);
                // Elements are at most 32 bits here (64-bit MAXP/MINP are unallocated), so long compares suffice.
                long sx = u ? (long)x : SignExtend(x, esize), sy = u ? (long)y : SignExtend(y, esize);
                ulong res = opc switch
                {
                    0b10100 => (ulong)(sx > sy ? sx : sy),
                    0b10101 => (ulong)(sx < sy ? sx : sy),
                    _ => x + y,
                };
                r.Set(e, size, res);
            }
            WriteV(s, Rd(insn), r, q);
            return true;
        }
        bool sizeOk = opc switch
        {
            0b00000 or 0b00010 or 0b00100 or 0b01100 or 0b01101 or 0b01110 or 0b01111 or 0b10010 or 0b10011 => size != 3,
            0b10110 => size == 1 || size == 2,
            _ => true,
        };
        if (!sizeOk) return false;
        uint fpsr = s->Fpsr;
        for (int e = 0; e < count; e++)
        {
            if (!SimdElement.IntThreeSame(u, opc, vn.Get(e, size), vm.Get(e, size), vd.Get(e, size), esize, ref fpsr, out ulong res))
            return false;
            r.Set(e, size, res);
        }
        s->Fpsr = fpsr;
        WriteV(s, Rd(insn), r, q);
        return true;
    }

    /// <summary>
    /// Host-vector fast path for the element-wise integer ops string and memory routines use in their
    /// inner loops (ADD/SUB, CMEQ/CMTST, compares, MAX/MIN). False for every other opcode.
    /// </summary>
    static bool FastThreeSame(bool u, uint opc, int size, in V128 vn, in V128 vm, out V128 r)
    {
        var a = Vector128.Create(vn.Lo, vn.Hi);
        var b = Vector128.Create(vm.Lo, vm.Hi);
        Vector128<ulong> v;
        bool ok = size switch
        {
            0 => Fast<byte, sbyte>(u, opc, a, b, out v),
            1 => Fast<ushort, short>(u, opc, a, b, out v),
            2 => Fast<uint, int>(u, opc, a, b, out v),
            _ => Fast<ulong, long>(u, opc, a, b, out v),
        };
        r = new V128 { Lo = v.GetElement(0), Hi = v.GetElement(1) };
        return ok;
    }

    static bool Fast<TU, TS>(bool u, uint opc, Vector128<ulong> a, Vector128<ulong> b, out Vector128<ulong> r)
        where TU : unmanaged where TS : unmanaged
    {
        var ua = a.As<ulong, TU>();
        var ub = b.As<ulong, TU>();
        var sa = a.As<ulong, TS>();
        var sb = b.As<ulong, TS>();
        switch (opc)
        {
            case 0b10000: r = (u ? ua - ub : ua + ub).As<TU, ulong>(); return true;
            case 0b10001:
                r = u ? Vector128.Equals(ua, ub).As<TU, ulong>()
                      : (~Vector128.Equals(ua & ub, Vector128<TU>.Zero)).As<TU, ulong>();
                return true;
            case 0b00110: r = u ? Vector128.GreaterThan(ua, ub).As<TU, ulong>() : Vector128.GreaterThan(sa, sb).As<TS, ulong>(); return true;
            case 0b00111: r = u ? Vector128.GreaterThanOrEqual(ua, ub).As<TU, ulong>() : Vector128.GreaterThanOrEqual(sa, sb).As<TS, ulong>(); return true;
            case 0b01100 when typeof(TU) != typeof(ulong): r = u ? Vector128.Max(ua, ub).As<TU, ulong>() : Vector128.Max(sa, sb).As<TS, ulong>(); return true;
            case 0b01101 when typeof(TU) != typeof(ulong): r = u ? Vector128.Min(ua, ub).As<TU, ulong>() : Vector128.Min(sa, sb).As<TS, ulong>(); return true;
        }
        r = default;
        return false;
    }

    /// <summary>Element i of the 2*count-element concatenation Vm:Vn (Vn supplies the low elements).</summary>
    static ulong Pair(in V128 vn, in V128 vm, int i, int count, int size) => i < count ? vn.Get(i, size) : vm.Get(i - count, size);

    static ulong Logic(bool u, int size, ulong n, ulong m, ulong d)
    {
        if (!u) return size switch { 0 => n & m, 1 => n & ~m, 2 => n | m, _ => n | ~m };
        return size switch
        {
            0 => n ^ m,
            1 => m ^ ((m ^ n) & d),     // BSL: where d is set take n
            2 => d ^ ((d ^ n) & m),     // BIT: where m is set take n
            _ => d ^ ((d ^ n) & ~m),    // BIF: where m is clear take n
        };
    }

    // 0 Q U 01110 size 10000 opcode 10 Rn Rd
    public static void TwoRegMisc(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &TwoRegMiscCore);

    internal static bool TwoRegMiscCore(CpuState* s, uint insn)
    {
        bool q = Q(insn), u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 12) & 31;
        V128 vn = ReadV(s, Rn(insn)), vd = ReadV(s, Rd(insn)), r = default;
        int bytes = q ? 16 : 8;
        uint fpcr = s->Fpcr;
        switch (opc)
        {
            case 0b00000 or 0b00001:
            {
                // REV64 / REV32 / REV16: reverse the order of elements inside each container.
                int container = opc == 1 ? 2 : u ? 4 : 8, eb = 1 << size;
                if (eb >= container || (opc == 1 && u)) return false;
                for (int i = 0; i < bytes; i++)
                {
                    int off = i % container, ei = off / eb, eo = off % eb;
                    int src = i - off + (container / eb - 1 - ei) * eb + eo;
                    r.Set(i, 0, vn.Byte(src));
                }
                WriteV(s, Rd(insn), r, q);
                return true;
            }
            case 0b00010 or 0b00110:
            {
                // SADDLP/UADDLP, SADALP/UADALP: add adjacent pairs into double-width elements.
                if (size == 3) return false;
                int esize = 8 << size, count = bytes >> (size + 1);
                for (int e = 0; e < count; e++)
                {
                    Int128 sum = Ext(vn.Get(2 * e, size), esize, u) + Ext(vn.Get(2 * e + 1, size), esize, u);
                    ulong res = (ulong)sum;
                    if (opc == 0b00110) res += vd.Get(e, size + 1);
                    r.Set(e, size + 1, res);
                }
                WriteV(s, Rd(insn), r, q);
                return true;
            }
            case 0b10010 or 0b10100:
            {
                // XTN / SQXTUN / SQXTN / UQXTN: narrow into the lower half (or the upper half for the "2" forms).
                if (size == 3) return false;
                int esize = 8 << size, count = 8 >> size;
                r = vd;
                if (!q) r.Lo = 0;
                uint fpsr = s->Fpsr;
                for (int e = 0; e < count; e++)
                {
                    ulong w = vn.Get(e, size + 1);
                    ulong res;
                    if (opc == 0b10010) res = u ? SatUnsigned(Ext(w, 2 * esize, false), esize, ref fpsr) : w;
                    else res = u ? SatUnsigned(Ext(w, 2 * esize, true), esize, ref fpsr) : SatSigned(Ext(w, 2 * esize, false), esize, ref fpsr);
                    r.Set(e + (q ? count : 0), size, res);
                }
                s->Fpsr = fpsr;
                WriteV(s, Rd(insn), r, true);
                if (!q) s->V[2 * Rd(insn) + 1] = 0;
                return true;
            }
            case 0b10011:
            {
                // SHLL: widen and shift by the element size.
                if (!u || size == 3) return false;
                int esize = 8 << size, count = 8 >> size;
                for (int e = 0; e < count; e++)
                    r.Set(e, size + 1, vn.Get(e + (q ? count : 0), size) << esize);
                WriteV(s, Rd(insn), r, true);
                return true;
            }
            case 0b10110:
            {
                // FCVTN / FCVTXN: narrow FP into the lower or upper half.
                if ((size & 2) != 0) break;
                int n = (size & 1) != 0 ? 32 : 16, count = 64 / n;
                if (u && n != 32) return false;
                int es = n == 32 ? 2 : 1;
                r = vd;
                if (!q) r.Lo = 0;
                for (int e = 0; e < count; e++)
                {
                    ulong w = vn.Get(e, es + 1);
                    ulong res = FP.Convert(w, 2 * n, n, fpcr, u ? FpRounding.Odd : Fpcr.RMode(fpcr), ref s->Fpsr);
                    r.Set(e + (q ? count : 0), es, res);
                }
                WriteV(s, Rd(insn), r, true);
                if (!q) s->V[2 * Rd(insn) + 1] = 0;
                return true;
            }
            case 0b10111:
            {
                // FCVTL: widen FP from the lower or upper half.
                if ((size & 2) != 0 || u) break;
                int n = (size & 1) != 0 ? 32 : 16, count = 64 / n;
                int es = n == 32 ? 2 : 1;
                for (int e = 0; e < count; e++)
                    r.Set(e, es + 1, FP.Convert(vn.Get(e + (q ? count : 0), es), n, 2 * n, fpcr, Fpcr.RMode(fpcr), ref s->Fpsr));
                WriteV(s, Rd(insn), r, true);
                return true;
            }
        }
        if (opc == 0b00101 && u && size == 1)
        {
            // RBIT: the size field selects the operation; it always reverses bits within bytes.
            for (int i = 0; i < bytes; i++) r.Set(i, 0, SimdElement.RBit8(vn.Byte(i)));
            WriteV(s, Rd(insn), r, q);
            return true;
        }
        bool fp = opc >= 0b11000 || (opc >= 0b01100 && opc <= 0b01111);
        if (fp)
        {
            bool a = (size & 2) != 0;
            int n = (size & 1) != 0 ? 64 : 32, es = n == 64 ? 3 : 2;
            if (n == 64 && !q) return false;
            int count = bytes * 8 / n;
            for (int e = 0; e < count; e++)
            {
                if (!SimdElement.FpMisc(u, a, opc, vn.Get(e, es), n, fpcr, ref s->Fpsr, out ulong res)) return false;
                r.Set(e, es, res);
            }
            WriteV(s, Rd(insn), r, q);
            return true;
        }
        {
            if (size == 3 && !q) return false;
            int esize = 8 << size, count = bytes >> size;
            uint fpsr = s->Fpsr;
            for (int e = 0; e < count; e++)
            {
                if (!SimdElement.IntMisc(u, opc, vn.Get(e, size), vd.Get(e, size), esize, ref fpsr, out ulong res)) return false;
                r.Set(e, size, res);
            }
            s->Fpsr = fpsr;
            WriteV(s, Rd(insn), r, q);
        }
        return true;
    }

    // 0 Q U 01110 size 11000 opcode 10 Rn Rd
    public static void AcrossLanes(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &AcrossLanesCore);

    internal static bool AcrossLanesCore(CpuState* s, uint insn)
    {
        bool q = Q(insn), u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 12) & 31;
        V128 vn = ReadV(s, Rn(insn));
        if (opc == 0b01100 || opc == 0b01111)
        {
            // FMAXNMV/FMINNMV/FMAXV/FMINV: 4S only; reduced as a balanced tree like the pseudo-code's Reduce.
            if (!u || (size & 1) != 0 || !q) return false;
            bool min = (size & 2) != 0;
            uint fpcr = s->Fpcr;
            ulong lo = FpReduceOp(opc, min, vn.Get(0, 2), vn.Get(1, 2), fpcr, ref s->Fpsr);
            ulong hi = FpReduceOp(opc, min, vn.Get(2, 2), vn.Get(3, 2), fpcr, ref s->Fpsr);
            WriteScalar(s, Rd(insn), FpReduceOp(opc, min, lo, hi, fpcr, ref s->Fpsr));
            return true;
        }
        if (size == 3 || (size == 2 && !q)) return false;
        int esize = 8 << size, count = (q ? 16 : 8) >> size;
        // At most 16 elements of at most 32 bits: a long holds every sum exactly.
        long acc = u ? (long)vn.Get(0, size) : SignExtend(vn.Get(0, size), esize);
        ulong result;
        switch (opc)
        {
            case 0b00011:                                                                   // SADDLV/UADDLV
                for (int e = 1; e < count; e++) acc += u ? (long)vn.Get(e, size) : SignExtend(vn.Get(e, size), esize);
                result = (ulong)acc & Mask(2 * esize);
                break;
            case 0b01010 or 0b11010:                                                        // SMAXV/UMAXV, SMINV/UMINV
                for (int e = 1; e < count; e++)
                {
                    long v = u ? (long)vn.Get(e, size) : SignExtend(vn.Get(e, size), esize);
                    if (opc == 0b01010 ? v > acc : v < acc) acc = v;
                }
                result = (ulong)acc & Mask(esize);
                break;
            case 0b11011 when !u:                                                           // ADDV
                for (int e = 1; e < count; e++) acc += (long)vn.Get(e, size);
                result = (ulong)acc & Mask(esize);
                break;
            default: return false;
        }
        WriteScalar(s, Rd(insn), result);
        return true;
    }

    static ulong FpReduceOp(uint opc, bool min, ulong x, ulong y, uint fpcr, ref uint fpsr) => opc == 0b01100
        ? (min ? FP.MinNum(x, y, 32, fpcr, ref fpsr) : FP.MaxNum(x, y, 32, fpcr, ref fpsr))
        : (min ? FP.Min(x, y, 32, fpcr, ref fpsr) : FP.Max(x, y, 32, fpcr, ref fpsr));

    // 0 Q op 01110000 imm5 0 imm4 1 Rn Rd
    public static void Copy(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &CopyCore);

    internal static bool CopyCore(CpuState* state, uint insn)
    {
        bool q = Q(insn), op = U(insn);
        uint imm5 = (insn >> 16) & 31, imm4 = (insn >> 11) & 15;
        int size = System.Numerics.BitOperations.TrailingZeroCount(imm5 | 32);
        if (size > 3) return false;
        int index = (int)(imm5 >> (size + 1));
        int esize = 8 << size, bytes = q ? 16 : 8;
        if (op)
        {
            // INS (element)
            if (!q) return false;
            CpuState* st = state;
            V128 src = ReadV(st, Rn(insn)), dst = ReadV(st, Rd(insn));
            dst.Set(index, size, src.Get((int)(imm4 >> size), size));
            WriteV(st, Rd(insn), dst, true);
            return true;
        }
        bool valid = imm4 switch
        {
            0b0000 or 0b0001 => !(size == 3 && !q),
            0b0011 => q,
            0b0101 => size < 2 || (size == 2 && q),
            0b0111 => size == 3 ? q : !q,
            _ => false,
        };
        if (!valid) return false;
        CpuState* s = state;
        V128 r = default;
        switch (imm4)
        {
            case 0b0000 or 0b0001:
            {
                ulong v = imm4 == 0 ? ReadV(s, Rn(insn)).Get(index, size) : ReadX(s, Rn(insn));
                for (int e = 0; e < bytes >> size; e++) r.Set(e, size, v);
                WriteV(s, Rd(insn), r, q);
                break;
            }
            case 0b0011:
                r = ReadV(s, Rd(insn));
                r.Set(index, size, ReadX(s, Rn(insn)));
                WriteV(s, Rd(insn), r, true);
                break;
            case 0b0101:
            {
                long v = SignExtend(ReadV(s, Rn(insn)).Get(index, size), esize);
                WriteX(s, Rd(insn), q ? (ulong)v : (uint)v);
                break;
            }
            default:
                WriteX(s, Rd(insn), ReadV(s, Rn(insn)).Get(index, size));
                break;
        }
        return true;
    }

    // 0 Q op 0111100000 a b c cmode o2 1 d e f g h Rd
    public static void ModifiedImmediate(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ModifiedImmediateCore);

    internal static bool ModifiedImmediateCore(CpuState* s, uint insn)
    {
        bool q = Q(insn), op = U(insn);
        uint cmode = (insn >> 12) & 15;
        ulong imm8 = ((insn >> 11) & 0xE0) | ((insn >> 5) & 0x1F);
        if (((insn >> 11) & 1) != 0 || (cmode == 15 && op && !q)) return false;
        ulong imm = AdvSimdExpandImm(op ? 1u : 0u, cmode, imm8);
        V128 r;
        bool orrBic = (cmode & 1) != 0 && cmode < 12;
        if (orrBic)
        {
            r = ReadV(s, Rd(insn));
            if (op) { r.Lo &= ~imm; r.Hi &= ~imm; }
            else { r.Lo |= imm; r.Hi |= imm; }
        }
        else
        {
            bool invert = op && cmode < 14;          // MVNI
            if (invert) imm = ~imm;
            r = new V128 { Lo = imm, Hi = imm };
        }
        WriteV(s, Rd(insn), r, q);
        return true;
    }

    // 0 Q U 011110 immh immb opcode 1 Rn Rd (immh != 0)
    public static void ShiftImmediate(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ShiftImmediateCore);

    internal static bool ShiftImmediateCore(CpuState* s, uint insn)
    {
        bool q = Q(insn), u = U(insn);
        uint immh = (insn >> 19) & 15, immhb = (insn >> 16) & 127;
        uint opc = (insn >> 11) & 31;
        int size = 3 - System.Numerics.BitOperations.LeadingZeroCount(immh) + 28;
        if (immh == 0 || !ShiftImmValid(u, opc, size, q, true)) return false;
        V128 vn = ReadV(s, Rn(insn)), vd = ReadV(s, Rd(insn)), r = default;
        int esize = 8 << size;
        bool narrow = opc >= 0b10000 && opc <= 0b10011, widen = opc == 0b10100;
        if (narrow || widen)
        {
            int count = 8 >> size;
            uint fpsr = s->Fpsr;
            if (narrow)
            {
                r = vd;
                if (!q) r.Lo = 0;
                int shift = 2 * esize - (int)immhb;
                if (opc == 0b10000 && !u)
                {
                    // SHRN: plain truncating shift, the common case (string routines build masks with it).
                    for (int e = 0; e < count; e++) r.Set(e + (q ? count : 0), size, vn.Get(e, size + 1) >> shift);
                }
                else
                {
                    for (int e = 0; e < count; e++)
                        r.Set(e + (q ? count : 0), size, NarrowShift(u, opc, vn.Get(e, size + 1), esize, shift, ref fpsr));
                }
                s->Fpsr = fpsr;
                WriteV(s, Rd(insn), r, true);
                if (!q) s->V[2 * Rd(insn) + 1] = 0;
            }
            else
            {
                int shift = (int)immhb - esize;
                for (int e = 0; e < count; e++)
                    r.Set(e, size + 1, (ulong)(Ext(vn.Get(e + (q ? count : 0), size), esize, u) << shift));
                WriteV(s, Rd(insn), r, true);
            }
            return true;
        }
        int elems = (q ? 16 : 8) >> size;
        uint f = s->Fpsr;
        for (int e = 0; e < elems; e++)
            r.Set(e, size, ShiftElement(u, opc, vn.Get(e, size), vd.Get(e, size), esize, immhb, s->Fpcr, ref f));
        s->Fpsr = f;
        WriteV(s, Rd(insn), r, q);
        return true;
    }

    /// <summary>Which shift-by-immediate opcodes exist for this element size (vector or scalar form).</summary>
    public static bool ShiftImmValid(bool u, uint opc, int size, bool q, bool vector)
    {
        bool narrowOrWide = opc is >= 0b10000 and <= 0b10100;
        if (narrowOrWide) return size != 3 && (opc != 0b10100 || vector) && (vector || opc >= 0b10010 || u);
        if (vector && size == 3 && !q) return false;
        switch (opc)
        {
            case 0b00000 or 0b00010 or 0b00100 or 0b00110: return vector || size == 3;
            case 0b01000: return u && (vector || size == 3);
            case 0b01010: return vector || size == 3;
            case 0b01100: return u;
            case 0b01110: return true;
            case 0b11100 or 0b11111: return size >= 2;
        }
        return false;
    }

    /// <summary>One element of the non-narrowing shift-by-immediate ops.</summary>
    public static ulong ShiftElement(bool u, uint opc, ulong a, ulong d, int esize, uint immhb, uint fpcr, ref uint fpsr)
    {
        int right = 2 * esize - (int)immhb, left = (int)immhb - esize;
        ulong m = Mask(esize);
        Int128 x = Ext(a, esize, u);
        switch (opc)
        {
            case 0b00000: return (ulong)(x >> right) & m;                                            // SSHR/USHR
            case 0b00010: return (d + (ulong)(x >> right)) & m;                                      // SSRA/USRA
            case 0b00100: return (ulong)((x + (Int128.One << (right - 1))) >> right) & m;            // SRSHR/URSHR
            case 0b00110: return (d + (ulong)((x + (Int128.One << (right - 1))) >> right)) & m;      // SRSRA/URSRA
            case 0b01000:                                                                           // SRI
            {
                ulong keep = right == esize ? m : ~(m >> right) & m;
                ulong shifted = right == esize ? 0 : (a & m) >> right;
                return (d & keep) | shifted;
            }
            case 0b01010:
                if (!u) return (a << left) & m;                                                     // SHL
                return (d & ~(m << left) & m) | ((a << left) & m);                                  // SLI
            case 0b01100: return SatUnsigned(Ext(a, esize, false) << left, esize, ref fpsr);        // SQSHLU
            case 0b01110: return u ? SatUnsigned(x << left, esize, ref fpsr) : SatSigned(x << left, esize, ref fpsr);
            case 0b11100: return FP.FromFixed(a, esize, right, u, esize, fpcr, Fpcr.RMode(fpcr), ref fpsr);   // SCVTF/UCVTF
            default: return FP.ToFixed(a, esize, right, u, esize, fpcr, FpRounding.Zero, ref fpsr);           // FCVTZS/FCVTZU
        }
    }

    /// <summary>SHRN/RSHRN/SQSHRN/SQRSHRN/UQSHRN/UQRSHRN/SQSHRUN/SQRSHRUN on one double-width element.</summary>
    public static ulong NarrowShift(bool u, uint opc, ulong w, int esize, int shift, ref uint fpsr)
    {
        bool round = (opc & 1) != 0;
        bool srcUnsigned = u && opc >= 0b10010;          // UQSHRN/UQRSHRN read unsigned; SQSHRUN reads signed
        Int128 x = Ext(w, 2 * esize, srcUnsigned);
        if (round) x += Int128.One << (shift - 1);
        x >>= shift;
        if (opc <= 0b10001 && !u) return (ulong)x & Mask(esize);                         // SHRN/RSHRN
        if (opc <= 0b10001) return SatUnsigned(x, esize, ref fpsr);                      // SQSHRUN/SQRSHRUN
        return u ? SatUnsigned(x, esize, ref fpsr) : SatSigned(x, esize, ref fpsr);
    }

    // 0 Q 0 01110 size 0 Rm 0 opcode 10 Rn Rd
    public static void Permute(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &PermuteCore);

    internal static bool PermuteCore(CpuState* s, uint insn)
    {
        bool q = Q(insn);
        int size = Size(insn);
        uint opc = (insn >> 12) & 7;
        if ((opc & 3) == 0 || (size == 3 && !q)) return false;
        V128 vn = ReadV(s, Rn(insn)), vm = ReadV(s, Rm(insn)), r = default;
        int count = (q ? 16 : 8) >> size, half = count / 2;
        int part = (int)(opc >> 2);
        for (int p = 0; p < half; p++)
        {
            switch (opc & 3)
            {
                case 1: // UZP
                    r.Set(p, size, vn.Get(2 * p + part, size));
                    r.Set(p + half, size, vm.Get(2 * p + part, size));
                    break;
                case 2: // TRN
                    r.Set(2 * p, size, vn.Get(2 * p + part, size));
                    r.Set(2 * p + 1, size, vm.Get(2 * p + part, size));
                    break;
                default: // ZIP
                    r.Set(2 * p, size, vn.Get(part * half + p, size));
                    r.Set(2 * p + 1, size, vm.Get(part * half + p, size));
                    break;
            }
        }
        WriteV(s, Rd(insn), r, q);
        return true;
    }

    // 0 Q 101110 00 0 Rm 0 imm4 0 Rn Rd
    public static void Extract(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ExtractCore);

    internal static bool ExtractCore(CpuState* s, uint insn)
    {
        bool q = Q(insn);
        int imm4 = (int)((insn >> 11) & 15);
        if (!q && imm4 >= 8) return false;
        V128 vn = ReadV(s, Rn(insn)), vm = ReadV(s, Rm(insn)), r = default;
        int bytes = q ? 16 : 8;
        for (int i = 0; i < bytes; i++)
        {
            int k = imm4 + i;
            r.Set(i, 0, k < bytes ? vn.Byte(k) : vm.Byte(k - bytes));
        }
        WriteV(s, Rd(insn), r, q);
        return true;
    }

    // 0 Q 001110 00 0 Rm 0 len op 00 Rn Rd
    public static void TableLookup(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &TableLookupCore);

    internal static bool TableLookupCore(CpuState* s, uint insn)
    {
        bool q = Q(insn), tbx = ((insn >> 12) & 1) != 0;
        int regs = (int)((insn >> 13) & 3) + 1;
        V128 idx = ReadV(s, Rm(insn)), r = ReadV(s, Rd(insn));
        V128 t0 = ReadV(s, Rn(insn)), t1 = ReadV(s, (Rn(insn) + 1) & 31), t2 = ReadV(s, (Rn(insn) + 2) & 31), t3 = ReadV(s, (Rn(insn) + 3) & 31);
        int bytes = q ? 16 : 8;
        for (int i = 0; i < bytes; i++)
        {
            int k = idx.Byte(i);
            if (k < 16 * regs)
            {
                int t = k >> 4, b = k & 15;
                byte v = t switch { 0 => t0.Byte(b), 1 => t1.Byte(b), 2 => t2.Byte(b), _ => t3.Byte(b) };
                r.Set(i, 0, v);
            }
            else if (!tbx) r.Set(i, 0, 0);
        }
        WriteV(s, Rd(insn), r, q);
        return true;
    }

    // 0 Q U 01110 size 1 Rm opcode 00 Rn Rd
    public static void ThreeDifferent(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ThreeDifferentCore);

    internal static bool ThreeDifferentCore(CpuState* state, uint insn)
    {
        bool q = Q(insn), u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 12) & 15;
        if (size == 3 && opc == 0b1110 && !u)
        {
            // PMULL/PMULL2 .1Q (part of the AES feature).
            Crypto.PolyMul64(state, insn);
            return true;
        }
        bool valid = size != 3 && opc != 0b1111 &&
                     (!(opc is 0b1001 or 0b1011 or 0b1101) || (!u && size != 0)) &&
                     (opc != 0b1110 || (!u && size == 0));
        if (!valid) return false;
        CpuState* s = state;
        V128 vn = ReadV(s, Rn(insn)), vm = ReadV(s, Rm(insn)), vd = ReadV(s, Rd(insn)), r = default;
        int esize = 8 << size, count = 8 >> size, hi = q ? count : 0;
        uint fpsr = s->Fpsr;
        if (opc is 0b0100 or 0b0110)
        {
            // ADDHN/RADDHN/SUBHN/RSUBHN: high halves of wide sums into the lower or upper half.
            r = vd;
            if (!q) r.Lo = 0;
            for (int e = 0; e < count; e++)
            {
                ulong a = vn.Get(e, size + 1), b = vm.Get(e, size + 1);
                ulong sum = opc == 0b0100 ? a + b : a - b;
                if (u) sum += 1UL << (esize - 1);
                r.Set(e + hi, size, sum >> esize);
            }
            WriteV(s, Rd(insn), r, true);
            if (!q) s->V[2 * Rd(insn) + 1] = 0;
            return true;
        }
        for (int e = 0; e < count; e++)
        {
            bool wideN = opc is 0b0001 or 0b0011;
            Int128 a = wideN ? Ext(vn.Get(e, size + 1), 2 * esize, u) : Ext(vn.Get(e + hi, size), esize, u);
            Int128 b = Ext(vm.Get(e + hi, size), esize, u);
            ulong acc = vd.Get(e, size + 1);
            ulong res;
            switch (opc)
            {
                case 0b0000 or 0b0001: res = (ulong)(a + b); break;
                case 0b0010 or 0b0011: res = (ulong)(a - b); break;
                case 0b0101: res = acc + (ulong)Int128.Abs(a - b); break;
                case 0b0111: res = (ulong)Int128.Abs(a - b); break;
                case 0b1000: res = acc + (ulong)(a * b); break;
                case 0b1010: res = acc - (ulong)(a * b); break;
                case 0b1100: res = (ulong)(a * b); break;
                case 0b1110: res = SimdElement.PolyMul((ulong)a, (ulong)b, 8); break;
                default:
                {
                    // SQDMLAL / SQDMLSL / SQDMULL
                    ulong prod = SatSigned(2 * a * b, 2 * esize, ref fpsr);
                    if (opc == 0b1101) res = prod;
                    else
                    {
                        Int128 accS = Ext(acc, 2 * esize, false), p = Ext(prod, 2 * esize, false);
                        res = SatSigned(opc == 0b1001 ? accS + p : accS - p, 2 * esize, ref fpsr);
                    }
                    break;
                }
            }
            r.Set(e, size + 1, res);
        }
        s->Fpsr = fpsr;
        WriteV(s, Rd(insn), r, true);
        return true;
    }

    // 0 Q U 01111 size L M Rm opcode H 0 Rn Rd
    public static void ByElement(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ByElementVector);

    internal static bool ByElementVector(CpuState* state, uint insn) => ByElementCore(state, insn, false);

    public static bool ByElementCore(CpuState* s, uint insn, bool scalar)
    {
        bool q = Q(insn) || scalar, u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 12) & 15;
        uint h = (insn >> 11) & 1, l = (insn >> 21) & 1, mBit = (insn >> 20) & 1;
        bool fp = opc is 0b0001 or 0b0101 or 0b1001;
        bool fpOk = !u || opc == 0b1001;
        int index, rm, esizeLog;
        if (fp)
        {
            if (!fpOk || size < 2 || (size == 3 && (l != 0 || (!q && !scalar)))) return false;
            esizeLog = size == 3 ? 3 : 2;
            index = size == 3 ? (int)h : (int)(h << 1 | l);
            rm = (int)(mBit << 4) | (int)((insn >> 16) & 15);
        }
        else
        {
            bool ok = opc switch
            {
                0b0000 or 0b0100 => u && !scalar,
                0b1000 => !u && !scalar,
                0b0010 or 0b0110 or 0b1010 => !scalar,
                0b0011 or 0b0111 or 0b1011 or 0b1100 or 0b1101 => !u,
                _ => false,
            };
            if (!ok || size == 0 || size == 3) return false;
            esizeLog = size;
            index = size == 1 ? (int)(h << 2 | l << 1 | mBit) : (int)(h << 1 | l);
            rm = size == 1 ? (int)((insn >> 16) & 15) : (int)(mBit << 4) | (int)((insn >> 16) & 15);
        }
        V128 vn = ReadV(s, Rn(insn)), vd = ReadV(s, Rd(insn)), r = default;
        ulong elem = ReadV(s, rm).Get(index, esizeLog);
        int esize = 8 << esizeLog;
        uint fpcr = s->Fpcr, fpsr = s->Fpsr;
        bool longOp = opc is 0b0010 or 0b0110 or 0b1010 or 0b0011 or 0b0111 or 0b1011;
        if (longOp)
        {
            int count = scalar ? 1 : 8 >> esizeLog, hi = !scalar && Q(insn) ? count : 0;
            Int128 b = Ext(elem, esize, u);
            for (int e = 0; e < count; e++)
            {
                Int128 a = Ext(vn.Get(e + hi, esizeLog), esize, u);
                ulong acc = vd.Get(e, esizeLog + 1);
                ulong res;
                switch (opc)
                {
                    case 0b0010: res = acc + (ulong)(a * b); break;
                    case 0b0110: res = acc - (ulong)(a * b); break;
                    case 0b1010: res = (ulong)(a * b); break;
                    default:
                    {
                        ulong prod = SatSigned(2 * a * b, 2 * esize, ref fpsr);
                        if (opc == 0b1011) res = prod;
                        else
                        {
                            Int128 accS = Ext(acc, 2 * esize, false), p = Ext(prod, 2 * esize, false);
                            res = SatSigned(opc == 0b0011 ? accS + p : accS - p, 2 * esize, ref fpsr);
                        }
                        break;
                    }
                }
                r.Set(e, esizeLog + 1, res);
            }
            s->Fpsr = fpsr;
            if (scalar) WriteScalar(s, Rd(insn), r.Lo);
            else WriteV(s, Rd(insn), r, true);
            return true;
        }
        int elems = scalar ? 1 : (q ? 16 : 8) >> esizeLog;
        for (int e = 0; e < elems; e++)
        {
            ulong a = vn.Get(e, esizeLog), d = vd.Get(e, esizeLog), res;
            switch (opc)
            {
                case 0b0001: res = FP.MulAdd(d, a, elem, esize, fpcr, ref fpsr); break;
                case 0b0101: res = FP.MulAdd(d, FP.Neg(a, esize), elem, esize, fpcr, ref fpsr); break;
                case 0b1001: res = u ? FP.MulX(a, elem, esize, fpcr, ref fpsr) : FP.Mul(a, elem, esize, fpcr, ref fpsr); break;
                case 0b0000: res = (d + a * elem) & Mask(esize); break;
                case 0b0100: res = (d - a * elem) & Mask(esize); break;
                case 0b1000: res = (a * elem) & Mask(esize); break;
                default:
                    SimdElement.IntThreeSame(opc == 0b1101, 0b10110, a, elem, 0, esize, ref fpsr, out res);
                    break;
            }
            r.Set(e, esizeLog, res);
        }
        s->Fpsr = fpsr;
        if (scalar) WriteScalar(s, Rd(insn), r.Lo);
        else WriteV(s, Rd(insn), r, Q(insn));
        return true;
    }
}
