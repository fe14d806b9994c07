using System.Numerics;
using System.Runtime.CompilerServices;

namespace Kvmfs.Emulator.Fpu;

/// <summary>
/// The exact-arithmetic core behind <see cref="FP"/>: unpacking raw bits into sign, integer
/// significand and exponent (value = mant * 2^exp), and rounding an exact (or exact-with-sticky)
/// result back into half, single or double bits the way the Arm pseudo-code's FPRound does:
/// tininess before rounding, flush-to-zero of results, overflow to infinity or max-normal
/// depending on the mode, and the cumulative FPSR flags.
/// </summary>
internal static class SoftFloat
{
    /// <summary>Exponent and fraction widths of the IEEE formats by total width N.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Format(int n, out int e, out int f)
    {
        switch (n)
        {
            case 16: e = 5; f = 10; break;
            case 32: e = 8; f = 23; break;
            default: e = 11; f = 52; break;
        }
    }

    public static ulong SignBit(int n) => 1UL << (n - 1);
    public static ulong SignMask(int n, bool sign) => sign ? 1UL << (n - 1) : 0;
    public static ulong Mask(int n) => n == 64 ? ulong.MaxValue : (1UL << n) - 1;

    public static ulong DefaultNaN(int n) => n switch { 16 => 0x7E00, 32 => 0x7FC0_0000, _ => 0x7FF8_0000_0000_0000 };
    public static ulong Infinity(int n, bool sign) => SignMask(n, sign) | n switch { 16 => 0x7C00UL, 32 => 0x7F80_0000UL, _ => 0x7FF0_0000_0000_0000UL };
    public static ulong MaxNormal(int n, bool sign) => SignMask(n, sign) | n switch { 16 => 0x7BFFUL, 32 => 0x7F7F_FFFFUL, _ => 0x7FEF_FFFF_FFFF_FFFFUL };
    public static ulong Zero(int n, bool sign) => SignMask(n, sign);
    public static ulong QuietBit(int n) => n switch { 16 => 0x200UL, 32 => 0x40_0000UL, _ => 0x8_0000_0000_0000UL };
    /// <summary>Small exact constants (2.0, 1.5 ...) as bits: value = mant * 2^exp with mant normalised.</summary>
    public static ulong Two(int n, bool sign) => SignMask(n, sign) | n switch { 16 => 0x4000UL, 32 => 0x4000_0000UL, _ => 0x4000_0000_0000_0000UL };
    public static ulong OnePointFive(int n, bool sign) => SignMask(n, sign) | n switch { 16 => 0x3E00UL, 32 => 0x3FC0_0000UL, _ => 0x3FF8_0000_0000_0000UL };

    /// <summary>
    /// FPUnpack: classifies the operand and, for finite non-zero values, returns value = mant * 2^exp.
    /// FZ flushes single/double denormal inputs to zero and sets IDC; half inputs are never flushed
    /// (FZ16 is not implemented). With FPCR.AHP a half-precision exponent of all ones is a normal number.
    /// </summary>
    public static FpType Unpack(ulong bits, int n, uint fpcr, ref uint fpsr, out bool sign, out int exp, out ulong mant)
    {
        Format(n, out int e, out int f);
        sign = ((bits >> (n - 1)) & 1) != 0;
        int bias = (1 << (e - 1)) - 1;
        int expField = (int)((bits >> f) & (uint)((1 << e) - 1));
        ulong frac = bits & ((1UL << f) - 1);
        if (expField == 0)
        {
            if (frac == 0) { exp = 0; mant = 0; return FpType.Zero; }
            if (n != 16 && (fpcr & Fpcr.Fz) != 0) { fpsr |= Fpsr.Idc; exp = 0; mant = 0; return FpType.Zero; }
            mant = frac; exp = 1 - bias - f;
            return FpType.Finite;
        }
        if (expField == (1 << e) - 1 && !(n == 16 && (fpcr & Fpcr.Ahp) != 0))
        {
            exp = 0; mant = 0;
            if (frac == 0) return FpType.Infinity;
            return (frac & (1UL << (f - 1))) != 0 ? FpType.QNaN : FpType.SNaN;
        }
        mant = frac | (1UL << f);
        exp = expField - bias - f;
        return FpType.Finite;
    }

    public static bool IsNaN(FpType t) => t >= FpType.QNaN;

    /// <summary>FPProcessNaN: quiets a signalling NaN (raising IOC) and applies FPCR.DN.</summary>
    public static ulong ProcessNaN(FpType t, ulong op, int n, uint fpcr, ref uint fpsr)
    {
        if (t == FpType.SNaN) { op |= QuietBit(n); fpsr |= Fpsr.Ioc; }
        return (fpcr & Fpcr.Dn) != 0 ? DefaultNaN(n) : op & Mask(n);
    }

    /// <summary>FPProcessNaNs: signalling NaNs first (operand order), then quiet NaNs.</summary>
    public static bool ProcessNaNs(FpType t1, FpType t2, ulong op1, ulong op2, int n, uint fpcr, ref uint fpsr, out ulong result)
    {
        if (t1 == FpType.SNaN) { result = ProcessNaN(t1, op1, n, fpcr, ref fpsr); return true; }
        if (t2 == FpType.SNaN) { result = ProcessNaN(t2, op2, n, fpcr, ref fpsr); return true; }
        if (t1 == FpType.QNaN) { result = ProcessNaN(t1, op1, n, fpcr, ref fpsr); return true; }
        if (t2 == FpType.QNaN) { result = ProcessNaN(t2, op2, n, fpcr, ref fpsr); return true; }
        result = 0;
        return false;
    }

    /// <summary>FPProcessNaNs3 (used by fused multiply-add: addend, op1, op2).</summary>
    public static bool ProcessNaNs3(FpType t1, FpType t2, FpType t3, ulong op1, ulong op2, ulong op3, int n, uint fpcr, ref uint fpsr, out ulong result)
    {
        if (t1 == FpType.SNaN) { result = ProcessNaN(t1, op1, n, fpcr, ref fpsr); return true; }
        if (t2 == FpType.SNaN) { result = ProcessNaN(t2, op2, n, fpcr, ref fpsr); return true; }
        if (t3 == FpType.SNaN) { result = ProcessNaN(t3, op3, n, fpcr, ref fpsr); return true; }
        if (t1 == FpType.QNaN) { result = ProcessNaN(t1, op1, n, fpcr, ref fpsr); return true; }
        if (t2 == FpType.QNaN) { result = ProcessNaN(t2, op2, n, fpcr, ref fpsr); return true; }
        if (t3 == FpType.QNaN) { result = ProcessNaN(t3, op3, n, fpcr, ref fpsr); return true; }
        result = 0;
        return false;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Msb(UInt128 v) => 127 - (int)UInt128.LeadingZeroCount(v);

    /// <summary>
    /// How the discarded low part compares with half a unit in the last place:
    /// 0 = exact, 1 = below half, 2 = exactly half, 3 = above half.
    /// </summary>
    static int ErrorClass(UInt128 mant, int shift, bool sticky, out UInt128 kept)
    {
        if (shift <= 0) { kept = mant << -shift; return sticky ? 1 : 0; }
        if (shift > 128) { kept = 0; return 1; }
        UInt128 half = UInt128.One << (shift - 1);
        UInt128 rem;
        if (shift == 128) { kept = 0; rem = mant; }
        else { kept = mant >> shift; rem = mant & ((UInt128.One << shift) - 1); }
        if (rem == 0) return sticky ? 1 : 0;
        if (rem < half) return 1;
        if (rem == half) return sticky ? 3 : 2;
        return 3;
    }

    /// <summary>
    /// FPRound: rounds the non-zero real value (-1)^sign * (mant + (sticky ? a little : 0)) * 2^exp to an
    /// N-bit IEEE format. "sticky" means the true value lies strictly between mant and mant+1 units,
    /// which the caller guarantees only when mant carries at least F+3 significant bits.
    /// </summary>
    public static ulong Round(bool sign, UInt128 mant, int exp, bool sticky, int n, uint fpcr, FpRounding rounding, ref uint fpsr)
    {
        Format(n, out int e, out int f);
        int bias = (1 << (e - 1)) - 1;
        int emin = 1 - bias;
        int vexp = exp + Msb(mant);            // value in [2^vexp, 2^(vexp+1))
        ulong signBits = SignMask(n, sign);
        if (vexp < emin && n != 16 && (fpcr & Fpcr.Fz) != 0)
        {
            fpsr |= Fpsr.Ufc;                   // flushed output: UFC, not IXC
            return signBits;
        }
        bool ahp = n == 16 && (fpcr & Fpcr.Ahp) != 0;
        int biased = vexp < emin ? 0 : vexp - emin + 1;
        int maxField = (1 << e) - 1;
        bool overflowToInf = rounding switch
        {
            FpRounding.TieEven or FpRounding.TieAway => true,
            FpRounding.PosInf => !sign,
            FpRounding.NegInf => sign,
            _ => false,
        };

        if (!ahp && biased >= maxField)
            return Overflow(sign, n, overflowToInf, ref fpsr);
        if (ahp && biased > maxField)
            return AhpOverflow(signBits, n, ref fpsr);

        int lsbExp = Math.Max(vexp, emin) - f;
        int err = ErrorClass(mant, lsbExp - exp, sticky, out UInt128 kept);
        ulong intMant = (ulong)kept;
        if (biased == 0 && err != 0) fpsr |= Fpsr.Ufc;   // tiny before rounding and inexact

        bool roundUp = rounding switch
        {
            FpRounding.TieEven => err == 3 || (err == 2 && (intMant & 1) != 0),
            FpRounding.TieAway => err >= 2,
            FpRounding.PosInf => err != 0 && !sign,
            FpRounding.NegInf => err != 0 && sign,
            _ => false,
        };
        // The IEEE encoding makes a carry out of the fraction bump the exponent, as rounding requires.
        ulong bits = ((ulong)biased << f) | (intMant & ((1UL << f) - 1));
        if (roundUp) bits++;
        if (rounding == FpRounding.Odd && err != 0) bits |= 1;
        int field = (int)(bits >> f);
        if (!ahp && field >= maxField)
            return Overflow(sign, n, overflowToInf, ref fpsr);
        if (ahp && field > maxField)
            return AhpOverflow(signBits, n, ref fpsr);
        if (err != 0) fpsr |= Fpsr.Ixc;
        return signBits | bits;
    }

    static ulong Overflow(bool sign, int n, bool toInf, ref uint fpsr)
    {
        fpsr |= Fpsr.Ofc | Fpsr.Ixc;
        return toInf ? Infinity(n, sign) : MaxNormal(n, sign);
    }

    static ulong AhpOverflow(ulong signBits, int n, ref uint fpsr)
    {
        fpsr |= Fpsr.Ioc;
        return signBits | (Mask(n) >> 1);
    }

    /// <summary>
    /// Exact sum of two signed values a = mA*2^eA and b = mB*2^eB (mants below 2^107), as a significand
    /// with its top bit at most at 126 plus a sticky bit. Returns false when the sum is exactly zero.
    /// </summary>
    public static bool AddExact(bool sA, UInt128 mA, int eA, bool sB, UInt128 mB, int eB,
        out bool sign, out UInt128 mant, out int exp, out bool sticky)
    {
        sticky = false;
        if (mA == 0 || mB == 0)
        {
            if (mA == 0) { sA = sB; mA = mB; eA = eB; }
            sign = sA; mant = mA; exp = eA;
            return mA != 0;
        }
        int topA = eA + Msb(mA), topB = eB + Msb(mB);
        if (topA < topB)
        {
            (sA, sB) = (sB, sA); (mA, mB) = (mB, mA); (eA, eB) = (eB, eA);
        }
        // Place the larger operand with its top bit at 125; the smaller is aligned to it, and any of its
        // bits that fall below the window become the sticky bit (they are then far below the result's LSB).
        int up = 125 - Msb(mA);
        UInt128 a = mA << up;
        int ea = eA - up;
        int sh = eB - ea;
        UInt128 b;
        if (sh >= 0) b = mB << sh;
        else if (-sh >= 128) { b = 0; sticky = true; }
        else { b = mB >> -sh; sticky = (mB & ((UInt128.One << -sh) - 1)) != 0; }
        exp = ea;
        if (sA == sB) { mant = a + b; sign = sA; return true; }
        if (sticky) { mant = a - b - 1; sign = sA; return true; }
        if (a >= b) { mant = a - b; sign = sA; }
        else { mant = b - a; sign = sB; }
        return mant != 0;
    }

    /// <summary>Floor of the square root of a 128-bit integer.</summary>
    public static ulong ISqrt(UInt128 m)
    {
        if (m == 0) return 0;
        ulong r = (ulong)Math.Sqrt((double)m);
        // Newton steps from the double estimate, then an exact fix-up.
        for (int i = 0; i < 2 && r != 0; i++) r = (ulong)(((UInt128)r + m / r) >> 1);
        while ((UInt128)r * r > m) r--;
        while ((UInt128)(r + 1) * (r + 1) <= m) r++;
        return r;
    }

    /// <summary>Normalises a non-zero significand so its top bit is at 52 (adjusting the exponent).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Normalize53(ref ulong mant, ref int exp)
    {
        int lz = BitOperations.LeadingZeroCount(mant) - 11;
        mant <<= lz;
        exp -= lz;
    }
}
