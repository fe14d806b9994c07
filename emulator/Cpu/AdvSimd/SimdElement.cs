using System.Numerics;
using Kvmfs.Emulator.Fpu;
using static Kvmfs.Emulator.Cpu.AdvSimd.Simd;

namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// Per-element operations shared by the vector and scalar AdvSIMD forms. Each returns false for an
/// opcode/size combination that is unallocated, so the caller raises Undefined.
/// </summary>
internal static class SimdElement
{
    /// <summary>Integer "three same" ops (opcode 00000..10110 except the pairwise ones).</summary>
    public static bool IntThreeSame(bool u, uint opc, ulong a, ulong b, ulong d, int esize, ref uint fpsr, out ulong r)
    {
        Int128 x = Ext(a, esize, u), y = Ext(b, esize, u);
        ulong m = Mask(esize);
        switch (opc)
        {
            case 0b00000: r = (ulong)((x + y) >> 1) & m; return true;                          // SHADD/UHADD
            case 0b00001: r = u ? SatUnsigned(x + y, esize, ref fpsr) : SatSigned(x + y, esize, ref fpsr); return true;
            case 0b00010: r = (ulong)((x + y + 1) >> 1) & m; return true;                      // SRHADD/URHADD
            case 0b00100: r = (ulong)((x - y) >> 1) & m; return true;                          // SHSUB/UHSUB
            case 0b00101: r = u ? SatUnsigned(x - y, esize, ref fpsr) : SatSigned(x - y, esize, ref fpsr); return true;
            case 0b00110: r = x > y ? m : 0; return true;                                      // CMGT/CMHI
            case 0b00111: r = x >= y ? m : 0; return true;                                     // CMGE/CMHS
            case 0b01000: r = ShiftReg(x, b, esize, u, false, false, ref fpsr); return true;  // SSHL/USHL
            case 0b01001: r = ShiftReg(x, b, esize, u, false, true, ref fpsr); return true;   // SQSHL/UQSHL
            case 0b01010: r = ShiftReg(x, b, esize, u, true, false, ref fpsr); return true;   // SRSHL/URSHL
            case 0b01011: r = ShiftReg(x, b, esize, u, true, true, ref fpsr); return true;    // SQRSHL/UQRSHL
            case 0b01100: r = (ulong)(x > y ? x : y) & m; return true;                         // SMAX/UMAX
            case 0b01101: r = (ulong)(x < y ? x : y) & m; return true;                         // SMIN/UMIN
            case 0b01110: r = (ulong)Int128.Abs(x - y) & m; return true;                       // SABD/UABD
            case 0b01111: r = (d + (ulong)Int128.Abs(x - y)) & m; return true;                 // SABA/UABA
            case 0b10000: r = (u ? a - b : a + b) & m; return true;                            // ADD/SUB
            case 0b10001: r = u ? ((a & m) == (b & m) ? m : 0) : ((a & b & m) != 0 ? m : 0); return true; // CMEQ/CMTST
            case 0b10010: r = (u ? d - a * b : d + a * b) & m; return true;                    // MLA/MLS
            case 0b10011:
                if (u) { r = PolyMul(a, b, esize) & m; return esize == 8; }                     // PMUL
                r = (a * b) & m; return true;                                                  // MUL
            case 0b10110:                                                                      // SQDMULH/SQRDMULH
            {
                Int128 sx = Ext(a, esize, false), sy = Ext(b, esize, false);
                Int128 p = 2 * sx * sy + (u ? Int128.One << (esize - 1) : 0);
                r = SatSigned(p >> esize, esize, ref fpsr);
                return esize == 16 || esize == 32;
            }
        }
        r = 0;
        return false;
    }

    /// <summary>SSHL family: shift by the signed low byte of the second operand.</summary>
    public static ulong ShiftReg(Int128 x, ulong b, int esize, bool u, bool round, bool saturate, ref uint fpsr)
    {
        int shift = (sbyte)(byte)b;
        Int128 res;
        if (shift >= 0)
        {
            // Shifting a non-zero value by the element size or more always saturates (or clears).
            if (shift >= esize) res = x == 0 ? 0 : x > 0 ? Int128.One << 100 : -(Int128.One << 100);
            else res = x << shift;
            if (shift >= esize && !saturate) res = 0;
        }
        else
        {
            int rs = Math.Min(-shift, esize + 1);
            Int128 rounding = round ? Int128.One << (rs - 1) : 0;
            res = (x + rounding) >> rs;
        }
        if (saturate) return u ? SatUnsigned(res, esize, ref fpsr) : SatSigned(res, esize, ref fpsr);
        return (ulong)res & Mask(esize);
    }

    /// <summary>Polynomial (carry-less) multiply of two esize-bit values; the result is up to 2*esize bits.</summary>
    public static ulong PolyMul(ulong a, ulong b, int esize)
    {
        ulong r = 0;
        for (int i = 0; i < esize; i++)
            if (((b >> i) & 1) != 0) r ^= (a & Mask(esize)) << i;
        return r;
    }

    /// <summary>FP "three same" ops that are not pairwise (opcode 11000..11111, U, a = size&lt;1&gt;).</summary>
    public static bool FpThreeSame(bool u, bool a, uint opc, ulong x, ulong y, ulong d, int n, uint fpcr, ref uint fpsr, out ulong r)
    {
        r = 0;
        switch ((u ? 16 : 0) | (a ? 8 : 0) | (int)(opc & 7))
        {
            case 0b0_0_000: r = FP.MaxNum(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_0_001: r = FP.MulAdd(d, x, y, n, fpcr, ref fpsr); return true;           // FMLA
            case 0b0_0_010: r = FP.Add(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_0_011: r = FP.MulX(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_0_100: r = FP.CompareEq(x, y, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
            case 0b0_0_110: r = FP.Max(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_0_111: r = FP.RecipStepFused(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_1_000: r = FP.MinNum(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_1_001: r = FP.MulAdd(d, FP.Neg(x, n), y, n, fpcr, ref fpsr); return true; // FMLS
            case 0b0_1_010: r = FP.Sub(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_1_110: r = FP.Min(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_1_111: r = FP.RSqrtStepFused(x, y, n, fpcr, ref fpsr); return true;
            case 0b1_0_011: r = FP.Mul(x, y, n, fpcr, ref fpsr); return true;
            case 0b1_0_100: r = FP.CompareGe(x, y, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
            case 0b1_0_101: r = FP.CompareGe(FP.Abs(x, n), FP.Abs(y, n), n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
            case 0b1_0_111: r = FP.Div(x, y, n, fpcr, ref fpsr); return true;
            case 0b1_1_010: r = FP.Abd(x, y, n, fpcr, ref fpsr); return true;
            case 0b1_1_100: r = FP.CompareGt(x, y, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
            case 0b1_1_101: r = FP.CompareGt(FP.Abs(x, n), FP.Abs(y, n), n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
        }
        return false;
    }

    /// <summary>The FP pairwise ops (FADDP/FMAXP/FMINP/FMAXNMP/FMINNMP) by U=1 opcode and a.</summary>
    public static bool FpPairOp(bool a, uint opc, ulong x, ulong y, int n, uint fpcr, ref uint fpsr, out ulong r)
    {
        r = 0;
        switch ((a ? 8 : 0) | (int)(opc & 7))
        {
            case 0b0_000: r = FP.MaxNum(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_010: r = FP.Add(x, y, n, fpcr, ref fpsr); return true;
            case 0b0_110: r = FP.Max(x, y, n, fpcr, ref fpsr); return true;
            case 0b1_000: r = FP.MinNum(x, y, n, fpcr, ref fpsr); return true;
            case 0b1_110: r = FP.Min(x, y, n, fpcr, ref fpsr); return true;
        }
        return false;
    }

    /// <summary>
    /// Integer "two-register misc" ops that map one element to one element of the same size
    /// (CLS/CLZ/CNT/NOT/RBIT, compares with zero, ABS/NEG, SQABS/SQNEG, SUQADD/USQADD).
    /// </summary>
    public static bool IntMisc(bool u, uint opc, ulong a, ulong d, int esize, ref uint fpsr, out ulong r)
    {
        ulong m = Mask(esize);
        long sx = SignExtend(a, esize);
        r = 0;
        switch (opc)
        {
            case 0b00011:                                                            // SUQADD/USQADD
                r = u ? SatUnsigned(Ext(d, esize, true) + Ext(a, esize, false), esize, ref fpsr)
                      : SatSigned(Ext(d, esize, false) + Ext(a, esize, true), esize, ref fpsr);
                return true;
            case 0b00100:
                if (esize == 64) return false;
                if (u) r = (ulong)(BitOperations.LeadingZeroCount(a & m) - (64 - esize));
                else
                {
                    ulong t = (ulong)(sx ^ (sx >> 1)) & m;                           // CLS counts bits equal to the sign, minus one
                    r = (ulong)(BitOperations.LeadingZeroCount(t) - (64 - esize) - 1);
                    if (t == 0) r = (ulong)(esize - 1);
                }
                return true;
            case 0b00101:
                if (!u) { r = (ulong)BitOperations.PopCount(a & m); return esize == 8; }   // CNT
                if (esize == 8) { r = ~a & m; return true; }                               // NOT
                return false;
            case 0b00111: r = u ? SatSigned(-(Int128)sx, esize, ref fpsr) : SatSigned(Int128.Abs(sx), esize, ref fpsr); return true;
            case 0b01000: r = (u ? sx >= 0 : sx > 0) ? m : 0; return true;         // CMGE/CMGT #0
            case 0b01001: r = (u ? sx <= 0 : sx == 0) ? m : 0; return true;        // CMLE/CMEQ #0
            case 0b01010: r = sx < 0 ? m : 0; return !u;                           // CMLT #0
            case 0b01011: r = (u || sx < 0 ? 0UL - (ulong)sx : (ulong)sx) & m; return true;   // NEG/ABS (the minimum value wraps)
        }
        return false;
    }

    public static ulong RBit8(ulong a)
    {
        uint b = (uint)(a & 0xFF);
        uint r = 0;
        for (int i = 0; i < 8; i++) if (((b >> i) & 1) != 0) r |= 1u << (7 - i);
        return r;
    }

    /// <summary>FP "two-register misc" ops (same-size results): FRINT*, FCVT*S/U, SCVTF/UCVTF, FRECPE, FRSQRTE, URECPE, URSQRTE, FABS/FNEG/FSQRT, FCMxx #0, FRECPX.</summary>
    public static bool FpMisc(bool u, bool a, uint opc, ulong x, int n, uint fpcr, ref uint fpsr, out ulong r)
    {
        r = 0;
        var rm = Fpcr.RMode(fpcr);
        switch ((u ? 64 : 0) | (a ? 32 : 0) | (int)opc)
        {
            case 0b0_0_11000: r = FP.RoundInt(x, n, fpcr, FpRounding.TieEven, false, ref fpsr); return true;
            case 0b0_1_11000: r = FP.RoundInt(x, n, fpcr, FpRounding.PosInf, false, ref fpsr); return true;
            case 0b0_0_11001: r = FP.RoundInt(x, n, fpcr, FpRounding.NegInf, false, ref fpsr); return true;
            case 0b0_1_11001: r = FP.RoundInt(x, n, fpcr, FpRounding.Zero, false, ref fpsr); return true;
            case 0b1_0_11000: r = FP.RoundInt(x, n, fpcr, FpRounding.TieAway, false, ref fpsr); return true;
            case 0b1_0_11001: r = FP.RoundInt(x, n, fpcr, rm, true, ref fpsr); return true;
            case 0b1_1_11001: r = FP.RoundInt(x, n, fpcr, rm, false, ref fpsr); return true;
            case 0b0_0_11010: r = FP.ToFixed(x, n, 0, false, n, fpcr, FpRounding.TieEven, ref fpsr); return true;
            case 0b0_1_11010: r = FP.ToFixed(x, n, 0, false, n, fpcr, FpRounding.PosInf, ref fpsr); return true;
            case 0b0_0_11011: r = FP.ToFixed(x, n, 0, false, n, fpcr, FpRounding.NegInf, ref fpsr); return true;
            case 0b0_1_11011: r = FP.ToFixed(x, n, 0, false, n, fpcr, FpRounding.Zero, ref fpsr); return true;
            case 0b0_0_11100: r = FP.ToFixed(x, n, 0, false, n, fpcr, FpRounding.TieAway, ref fpsr); return true;
            case 0b1_0_11010: r = FP.ToFixed(x, n, 0, true, n, fpcr, FpRounding.TieEven, ref fpsr); return true;
            case 0b1_1_11010: r = FP.ToFixed(x, n, 0, true, n, fpcr, FpRounding.PosInf, ref fpsr); return true;
            case 0b1_0_11011: r = FP.ToFixed(x, n, 0, true, n, fpcr, FpRounding.NegInf, ref fpsr); return true;
            case 0b1_1_11011: r = FP.ToFixed(x, n, 0, true, n, fpcr, FpRounding.Zero, ref fpsr); return true;
            case 0b1_0_11100: r = FP.ToFixed(x, n, 0, true, n, fpcr, FpRounding.TieAway, ref fpsr); return true;
            case 0b0_0_11101: r = FP.FromFixed(x, n, 0, false, n, fpcr, rm, ref fpsr); return true;
            case 0b1_0_11101: r = FP.FromFixed(x, n, 0, true, n, fpcr, rm, ref fpsr); return true;
            case 0b0_1_11101: r = FP.RecipEstimate(x, n, fpcr, ref fpsr); return true;
            case 0b1_1_11101: r = FP.RSqrtEstimate(x, n, fpcr, ref fpsr); return true;
            case 0b0_1_11100: r = FP.UnsignedRecipEstimate((uint)x); return n == 32;
            case 0b1_1_11100: r = FP.UnsignedRSqrtEstimate((uint)x); return n == 32;
            case 0b0_1_01111: r = FP.Abs(x, n); return true;
            case 0b1_1_01111: r = FP.Neg(x, n); return true;
            case 0b1_1_11111: r = FP.Sqrt(x, n, fpcr, ref fpsr); return true;
            case 0b0_1_01100: r = FP.CompareGt(x, 0, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
            case 0b0_1_01101: r = FP.CompareEq(x, 0, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
            case 0b0_1_01110: r = FP.CompareGt(0, x, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;  // FCMLT #0
            case 0b1_1_01100: r = FP.CompareGe(x, 0, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;
            case 0b1_1_01101: r = FP.CompareGe(0, x, n, fpcr, ref fpsr) ? Mask(n) : 0; return true;  // FCMLE #0
        }
        return false;
    }
}
