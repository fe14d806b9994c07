using System.Runtime.CompilerServices;
using static Kvmfs.Emulator.Fpu.SoftFloat;

namespace Kvmfs.Emulator.Fpu;

/// <summary>
/// The floating-point operations of the Arm pseudo-code (FPAdd, FPMulAdd, FPCompare, FPToFixed ...)
/// as pure functions over raw bits. <c>n</c> is the format width (16, 32 or 64); operands and results
/// are the low n bits of a ulong. Every function reads FPCR (RMode, FZ, DN, AHP) and ORs the cumulative
/// exception flags into <c>fpsr</c>. Common round-to-nearest cases take a host fast path where the
/// host's IEEE result and flags are provably the same; everything else goes through <see cref="SoftFloat"/>.
/// </summary>
public static class FP
{
    const uint SlowBits = Fpcr.Dn | Fpcr.Fz | (3u << Fpcr.RModeShift);

    // ---------------------------------------------------------------- basic arithmetic

    public static ulong Add(ulong a, ulong b, int n, uint fpcr, ref uint fpsr)
    {
        if ((fpcr & SlowBits) == 0)
        {
            if (n == 64 && FastAdd64(a, b, ref fpsr, out ulong r)) return r;
            if (n == 32 && FastAdd32((uint)a, (uint)b, ref fpsr, out uint r32)) return r32;
        }
        return AddSlow(a, b, false, n, fpcr, ref fpsr);
    }

    public static ulong Sub(ulong a, ulong b, int n, uint fpcr, ref uint fpsr)
    {
        if ((fpcr & SlowBits) == 0)
        {
            if (n == 64 && FastAdd64(a, b ^ SignBit(64), ref fpsr, out ulong r)) return r;
            if (n == 32 && FastAdd32((uint)a, (uint)b ^ 0x8000_0000u, ref fpsr, out uint r32)) return r32;
        }
        return AddSlow(a, b, true, n, fpcr, ref fpsr);
    }

    static ulong AddSlow(ulong a, ulong b, bool subtract, int n, uint fpcr, ref uint fpsr)
    {
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out int e1, out ulong m1);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out int e2, out ulong m2);
        if (ProcessNaNs(t1, t2, a, b, n, fpcr, ref fpsr, out ulong nan)) return nan;
        if (subtract) s2 = !s2;
        var rounding = Fpcr.RMode(fpcr);
        bool inf1 = t1 == FpType.Infinity, inf2 = t2 == FpType.Infinity;
        if (inf1 && inf2 && s1 != s2) return Invalid(n, ref fpsr);
        if (inf1) return Infinity(n, s1);
        if (inf2) return Infinity(n, s2);
        if (t1 == FpType.Zero && t2 == FpType.Zero && s1 == s2) return Zero(n, s1);
        if (!AddExact(s1, m1, e1, s2, m2, e2, out bool s, out UInt128 m, out int e, out bool sticky))
            return Zero(n, rounding == FpRounding.NegInf);
        return Round(s, m, e, sticky, n, fpcr, rounding, ref fpsr);
    }

    public static ulong Mul(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => MulCore(a, b, n, fpcr, ref fpsr, false);

    /// <summary>FMULX: like FMUL except infinity times zero is 2.0 (with the product's sign) instead of invalid.</summary>
    public static ulong MulX(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => MulCore(a, b, n, fpcr, ref fpsr, true);

    static ulong MulCore(ulong a, ulong b, int n, uint fpcr, ref uint fpsr, bool mulx)
    {
        if ((fpcr & SlowBits) == 0)
        {
            if (n == 64 && FastMul64(a, b, ref fpsr, out ulong r)) return r;
            if (n == 32 && FastMul32((uint)a, (uint)b, ref fpsr, out uint r32)) return r32;
        }
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out int e1, out ulong m1);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out int e2, out ulong m2);
        if (ProcessNaNs(t1, t2, a, b, n, fpcr, ref fpsr, out ulong nan)) return nan;
        bool s = s1 != s2;
        bool inf1 = t1 == FpType.Infinity, inf2 = t2 == FpType.Infinity;
        bool zero1 = t1 == FpType.Zero, zero2 = t2 == FpType.Zero;
        if ((inf1 && zero2) || (zero1 && inf2)) return mulx ? Two(n, s) : Invalid(n, ref fpsr);
        if (inf1 || inf2) return Infinity(n, s);
        if (zero1 || zero2) return Zero(n, s);
        return Round(s, (UInt128)m1 * m2, e1 + e2, false, n, fpcr, Fpcr.RMode(fpcr), ref fpsr);
    }

    public static ulong Div(ulong a, ulong b, int n, uint fpcr, ref uint fpsr)
    {
        if ((fpcr & SlowBits) == 0 && n == 64 && FastDiv64(a, b, ref fpsr, out ulong r)) return r;
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out int e1, out ulong m1);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out int e2, out ulong m2);
        if (ProcessNaNs(t1, t2, a, b, n, fpcr, ref fpsr, out ulong nan)) return nan;
        bool s = s1 != s2;
        bool inf1 = t1 == FpType.Infinity, inf2 = t2 == FpType.Infinity;
        bool zero1 = t1 == FpType.Zero, zero2 = t2 == FpType.Zero;
        if ((inf1 && inf2) || (zero1 && zero2)) return Invalid(n, ref fpsr);
        if (inf1 || zero2)
        {
            if (!inf1) fpsr |= Fpsr.Dzc;
            return Infinity(n, s);
        }
        if (zero1 || inf2) return Zero(n, s);
        Normalize53(ref m1, ref e1);
        Normalize53(ref m2, ref e2);
        UInt128 num = (UInt128)m1 << 64;
        UInt128 q = num / m2;
        bool sticky = q * m2 != num;
        return Round(s, q, e1 - e2 - 64, sticky, n, fpcr, Fpcr.RMode(fpcr), ref fpsr);
    }

    public static ulong Sqrt(ulong a, int n, uint fpcr, ref uint fpsr)
    {
        var t = Unpack(a, n, fpcr, ref fpsr, out bool s, out int e, out ulong m);
        if (IsNaN(t)) return ProcessNaN(t, a, n, fpcr, ref fpsr);
        if (t == FpType.Zero) return Zero(n, s);
        if (t == FpType.Infinity && !s) return Infinity(n, false);
        if (s) return Invalid(n, ref fpsr);
        if ((fpcr & SlowBits) == 0 && n == 64 && FastSqrt64(a, ref fpsr, out ulong r)) return r;
        Normalize53(ref m, ref e);
        int k = (e & 1) == 0 ? 64 : 65;        // make the exponent even so the root's exponent is exact
        UInt128 big = (UInt128)m << k;
        ulong root = ISqrt(big);
        bool sticky = (UInt128)root * root != big;
        return Round(false, root, (e - k) / 2, sticky, n, fpcr, Fpcr.RMode(fpcr), ref fpsr);
    }

    /// <summary>FPMulAdd: addend + op1*op2 with a single rounding (FMADD/FMLA; negations are the caller's).</summary>
    public static ulong MulAdd(ulong addend, ulong op1, ulong op2, int n, uint fpcr, ref uint fpsr)
    {
        var tA = Unpack(addend, n, fpcr, ref fpsr, out bool sA, out int eA, out ulong mA);
        var t1 = Unpack(op1, n, fpcr, ref fpsr, out bool s1, out int e1, out ulong m1);
        var t2 = Unpack(op2, n, fpcr, ref fpsr, out bool s2, out int e2, out ulong m2);
        bool inf1 = t1 == FpType.Infinity, inf2 = t2 == FpType.Infinity;
        bool zero1 = t1 == FpType.Zero, zero2 = t2 == FpType.Zero;
        bool infTimesZero = (inf1 && zero2) || (zero1 && inf2);
        if (ProcessNaNs3(tA, t1, t2, addend, op1, op2, n, fpcr, ref fpsr, out ulong nan))
        {
            // A quiet-NaN addend does not hide the invalid operation of inf*0.
            if (tA == FpType.QNaN && infTimesZero) return Invalid(n, ref fpsr);
            return nan;
        }
        bool infA = tA == FpType.Infinity, zeroA = tA == FpType.Zero;
        bool sP = s1 != s2, infP = inf1 || inf2, zeroP = zero1 || zero2;
        if (infTimesZero || (infA && infP && sA != sP)) return Invalid(n, ref fpsr);
        if ((infA && !sA) || (infP && !sP)) return Infinity(n, false);
        if ((infA && sA) || (infP && sP)) return Infinity(n, true);
        if (zeroA && zeroP && sA == sP) return Zero(n, sA);
        var rounding = Fpcr.RMode(fpcr);
        if (!AddExact(sA, mA, eA, sP, (UInt128)m1 * m2, e1 + e2, out bool s, out UInt128 m, out int e, out bool sticky))
            return Zero(n, rounding == FpRounding.NegInf);
        return Round(s, m, e, sticky, n, fpcr, rounding, ref fpsr);
    }

    static ulong Invalid(int n, ref uint fpsr)
    {
        fpsr |= Fpsr.Ioc;
        return DefaultNaN(n);
    }

    public static ulong Neg(ulong a, int n) => a ^ SignBit(n);
    public static ulong Abs(ulong a, int n) => a & ~SignBit(n) & Mask(n);
    /// <summary>FABD: |op1 - op2| (the absolute value clears the sign of a NaN result too).</summary>
    public static ulong Abd(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => Abs(Sub(a, b, n, fpcr, ref fpsr), n);

    // ---------------------------------------------------------------- min / max / compare

    /// <summary>Orders non-NaN operands: zero (flushed denormals included) is 0, otherwise signed magnitude bits.</summary>
    static long Key(FpType t, ulong bits, bool sign, int n)
    {
        if (t == FpType.Zero) return 0;
        long mag = (long)(bits & (Mask(n) >> 1));
        return sign ? -mag : mag;
    }

    public static ulong Max(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => MinMax(a, b, n, fpcr, ref fpsr, true);
    public static ulong Min(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => MinMax(a, b, n, fpcr, ref fpsr, false);

    static ulong MinMax(ulong a, ulong b, int n, uint fpcr, ref uint fpsr, bool max)
    {
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out _, out _);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out _, out _);
        if (ProcessNaNs(t1, t2, a, b, n, fpcr, ref fpsr, out ulong nan)) return nan;
        if (t1 == FpType.Zero && t2 == FpType.Zero) return Zero(n, max ? (s1 && s2) : (s1 || s2));
        long k1 = Key(t1, a, s1, n), k2 = Key(t2, b, s2, n);
        bool first = max ? k1 > k2 : k1 < k2;
        var (t, bits, s) = first ? (t1, a, s1) : (t2, b, s2);
        return t == FpType.Zero ? Zero(n, s) : bits & Mask(n);
    }

    /// <summary>FPMaxNum/FPMinNum (IEEE maxNum): a single quiet NaN operand loses to a number.</summary>
    public static ulong MaxNum(ulong a, ulong b, int n, uint fpcr, ref uint fpsr)
    {
        NumPrepare(ref a, ref b, n, Infinity(n, true));
        return MinMax(a, b, n, fpcr, ref fpsr, true);
    }

    public static ulong MinNum(ulong a, ulong b, int n, uint fpcr, ref uint fpsr)
    {
        NumPrepare(ref a, ref b, n, Infinity(n, false));
        return MinMax(a, b, n, fpcr, ref fpsr, false);
    }

    static void NumPrepare(ref ulong a, ref ulong b, int n, ulong replacement)
    {
        bool q1 = ClassOf(a, n) == FpType.QNaN, q2 = ClassOf(b, n) == FpType.QNaN;
        if (q1 && !q2) a = replacement;
        else if (!q1 && q2) b = replacement;
    }

    /// <summary>NaN classification without FPCR effects (NaN-ness does not depend on FZ).</summary>
    static FpType ClassOf(ulong bits, int n)
    {
        uint dummy = 0;
        return Unpack(bits, n, 0, ref dummy, out _, out _, out _);
    }

    /// <summary>FPCompare: NZCV (in bits 3:0) for FCMP/FCMPE/FCCMP. Unordered = 0011.</summary>
    public static uint Compare(ulong a, ulong b, int n, bool signalNaNs, uint fpcr, ref uint fpsr)
    {
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out _, out _);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out _, out _);
        if (IsNaN(t1) || IsNaN(t2))
        {
            if (signalNaNs || t1 == FpType.SNaN || t2 == FpType.SNaN) fpsr |= Fpsr.Ioc;
            return 0b0011;
        }
        long k1 = Key(t1, a, s1, n), k2 = Key(t2, b, s2, n);
        if (k1 == k2) return 0b0110;
        return k1 < k2 ? 0b1000u : 0b0010u;
    }

    /// <summary>FPCompareEQ (FCMEQ): quiet, only signalling NaNs raise IOC.</summary>
    public static bool CompareEq(ulong a, ulong b, int n, uint fpcr, ref uint fpsr)
    {
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out _, out _);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out _, out _);
        if (IsNaN(t1) || IsNaN(t2))
        {
            if (t1 == FpType.SNaN || t2 == FpType.SNaN) fpsr |= Fpsr.Ioc;
            return false;
        }
        return Key(t1, a, s1, n) == Key(t2, b, s2, n);
    }

    /// <summary>FPCompareGE / FPCompareGT (FCMGE/FCMGT/FACGE/FACGT): any NaN raises IOC.</summary>
    public static bool CompareGe(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => CompareOrdered(a, b, n, fpcr, ref fpsr, true);
    public static bool CompareGt(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => CompareOrdered(a, b, n, fpcr, ref fpsr, false);

    static bool CompareOrdered(ulong a, ulong b, int n, uint fpcr, ref uint fpsr, bool orEqual)
    {
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out _, out _);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out _, out _);
        if (IsNaN(t1) || IsNaN(t2)) { fpsr |= Fpsr.Ioc; return false; }
        long k1 = Key(t1, a, s1, n), k2 = Key(t2, b, s2, n);
        return orEqual ? k1 >= k2 : k1 > k2;
    }

    // ---------------------------------------------------------------- rounding and conversions

    /// <summary>FPRoundInt (FRINTN/P/M/Z/A/I/X): exact = true raises IXC when the value changes (FRINTX).</summary>
    public static ulong RoundInt(ulong a, int n, uint fpcr, FpRounding rounding, bool exact, ref uint fpsr)
    {
        var t = Unpack(a, n, fpcr, ref fpsr, out bool s, out int e, out ulong m);
        if (IsNaN(t)) return ProcessNaN(t, a, n, fpcr, ref fpsr);
        if (t == FpType.Infinity) return Infinity(n, s);
        if (t == FpType.Zero) return Zero(n, s);
        if (e >= 0) return a & Mask(n);        // already an integer
        int sh = -e;
        int err = MagnitudeRound(m, sh, out ulong mag);
        if (RoundMagnitudeUp(err, mag, s, rounding)) mag++;
        if (err != 0 && exact) fpsr |= Fpsr.Ixc;
        if (mag == 0) return Zero(n, s);
        return Round(s, mag, 0, false, n, fpcr, FpRounding.Zero, ref fpsr);
    }

    /// <summary>Integer part of m * 2^-sh and the error class of the fraction (see ErrorClass).</summary>
    static int MagnitudeRound(ulong m, int sh, out ulong mag)
    {
        if (sh >= 64)
        {
            mag = 0;
            if (sh > 64) return 1;
            return m < (1UL << 63) ? 1 : m == (1UL << 63) ? 2 : 3;
        }
        mag = m >> sh;
        ulong rem = m & ((1UL << sh) - 1);
        if (rem == 0) return 0;
        ulong half = 1UL << (sh - 1);
        return rem < half ? 1 : rem == half ? 2 : 3;
    }

    /// <summary>Whether rounding the magnitude of a signed value goes away from zero.</summary>
    static bool RoundMagnitudeUp(int err, ulong mag, bool sign, FpRounding rounding) => rounding switch
    {
        FpRounding.TieEven => err == 3 || (err == 2 && (mag & 1) != 0),
        FpRounding.TieAway => err >= 2,
        FpRounding.PosInf => err != 0 && !sign,
        FpRounding.NegInf => err != 0 && sign,
        _ => false,
    };

    /// <summary>
    /// FPToFixed (FCVTZS/FCVTNS/.../FCVTZU with fbits): converts to an intBits-wide (32 or 64) signed or
    /// unsigned integer, saturating with IOC; NaN gives 0 with IOC.
    /// </summary>
    public static ulong ToFixed(ulong a, int n, int fbits, bool unsigned, int intBits, uint fpcr, FpRounding rounding, ref uint fpsr)
    {
        var t = Unpack(a, n, fpcr, ref fpsr, out bool s, out int e, out ulong m);
        if (IsNaN(t)) { fpsr |= Fpsr.Ioc; return 0; }
        if (t == FpType.Zero) return 0;
        if (t == FpType.Infinity) return Saturate(s, unsigned, intBits, ref fpsr);
        e += fbits;
        ulong mag;
        int err;
        if (e >= 0)
        {
            if (e + (64 - System.Numerics.BitOperations.LeadingZeroCount(m)) > 64) return Saturate(s, unsigned, intBits, ref fpsr);
            mag = m << e;
            err = 0;
        }
        else err = MagnitudeRound(m, -e, out mag);
        if (RoundMagnitudeUp(err, mag, s, rounding))
        {
            if (mag == ulong.MaxValue) return Saturate(s, unsigned, intBits, ref fpsr);
            mag++;
        }
        ulong limit;   // largest magnitude representable in the destination for this sign
        if (unsigned) limit = s ? 0 : (intBits == 64 ? ulong.MaxValue : (1UL << intBits) - 1);
        else limit = s ? 1UL << (intBits - 1) : (1UL << (intBits - 1)) - 1;
        if (mag > limit) return Saturate(s, unsigned, intBits, ref fpsr);
        if (err != 0) fpsr |= Fpsr.Ixc;
        ulong r = s ? (ulong)(-(long)mag) : mag;
        return intBits == 64 ? r : r & 0xFFFF_FFFF;
    }

    static ulong Saturate(bool sign, bool unsigned, int intBits, ref uint fpsr)
    {
        fpsr |= Fpsr.Ioc;
        if (unsigned) return sign ? 0 : (intBits == 64 ? ulong.MaxValue : (1UL << intBits) - 1);
        ulong r = sign ? 1UL << (intBits - 1) : (1UL << (intBits - 1)) - 1;
        return r;
    }

    /// <summary>FixedToFP (SCVTF/UCVTF): the low intBits of v as a signed or unsigned fixed-point number with fbits fraction bits.</summary>
    public static ulong FromFixed(ulong v, int intBits, int fbits, bool unsigned, int n, uint fpcr, FpRounding rounding, ref uint fpsr)
    {
        bool sign = false;
        ulong mag;
        if (intBits == 32) v &= 0xFFFF_FFFF;
        if (!unsigned && ((v >> (intBits - 1)) & 1) != 0)
        {
            sign = true;
            mag = intBits == 64 ? (ulong)(-(long)v) : (ulong)(-(long)(int)(uint)v);
        }
        else mag = v;
        if (mag == 0) return 0;
        return Round(sign, mag, -fbits, false, n, fpcr, rounding, ref fpsr);
    }

    /// <summary>FPConvert (FCVT between half, single and double; FCVTN/FCVTL/FCVTXN with the given rounding).</summary>
    public static ulong Convert(ulong a, int fromN, int toN, uint fpcr, FpRounding rounding, ref uint fpsr)
    {
        var t = Unpack(a, fromN, fpcr, ref fpsr, out bool s, out int e, out ulong m);
        bool altHp = toN == 16 && (fpcr & Fpcr.Ahp) != 0;
        if (IsNaN(t))
        {
            ulong r;
            if (altHp) r = Zero(16, s);
            else if ((fpcr & Fpcr.Dn) != 0) r = DefaultNaN(toN);
            else
            {
                Format(fromN, out _, out int f1);
                Format(toN, out _, out int f2);
                ulong frac = a & ((1UL << f1) - 1);
                frac = f2 < f1 ? frac >> (f1 - f2) : frac << (f2 - f1);
                r = Infinity(toN, s) | frac | QuietBit(toN);
            }
            if (t == FpType.SNaN || altHp) fpsr |= Fpsr.Ioc;
            return r;
        }
        if (t == FpType.Infinity)
        {
            if (altHp) { fpsr |= Fpsr.Ioc; return SignMask(16, s) | 0x7FFF; }
            return Infinity(toN, s);
        }
        if (t == FpType.Zero) return Zero(toN, s);
        return Round(s, m, e, false, toN, fpcr, rounding, ref fpsr);
    }

    // ---------------------------------------------------------------- estimates and Newton steps

    /// <summary>RecipEstimate: 9-bit input in [256, 511] (0.5 &lt;= a &lt; 1.0) to a 9-bit estimate of 1/a.</summary>
    public static int RecipEstimate(int a)
    {
        a = a * 2 + 1;
        int b = (1 << 19) / a;
        return (b + 1) / 2;
    }

    /// <summary>RecipSqrtEstimate: 9-bit input in [128, 511] (0.25 &lt;= a &lt; 1.0) to a 9-bit estimate of 1/sqrt(a).</summary>
    public static int RecipSqrtEstimate(int a)
    {
        if (a < 256) a = a * 2 + 1;
        else { a = (a >> 1) << 1; a = (a + 1) * 2; }
        long b = 512;
        while ((long)a * (b + 1) * (b + 1) < (1L << 28)) b++;
        return (int)((b + 1) / 2);
    }

    /// <summary>FPRecipEstimate (FRECPE).</summary>
    public static ulong RecipEstimate(ulong a, int n, uint fpcr, ref uint fpsr)
    {
        var t = Unpack(a, n, fpcr, ref fpsr, out bool s, out int e, out ulong m);
        if (IsNaN(t)) return ProcessNaN(t, a, n, fpcr, ref fpsr);
        if (t == FpType.Infinity) return Zero(n, s);
        if (t == FpType.Zero) { fpsr |= Fpsr.Dzc; return Infinity(n, s); }
        Format(n, out int ew, out int f);
        int vexp = e + (63 - System.Numerics.BitOperations.LeadingZeroCount(m));
        // So small that 1/x overflows.
        int tiny = n switch { 16 => -16, 32 => -128, _ => -1024 };
        if (vexp < tiny)
        {
            var rm = Fpcr.RMode(fpcr);
            bool toInf = rm switch { FpRounding.TieEven => true, FpRounding.PosInf => !s, FpRounding.NegInf => s, _ => false };
            fpsr |= Fpsr.Ofc | Fpsr.Ixc;
            return toInf ? Infinity(n, s) : MaxNormal(n, s);
        }
        int huge = n switch { 16 => 16, 32 => 126, _ => 1022 };
        if ((fpcr & Fpcr.Fz) != 0 && n != 16 && vexp >= huge)
        {
            fpsr |= Fpsr.Ufc;
            return Zero(n, s);
        }
        ulong fraction = (a & ((1UL << f) - 1)) << (52 - f);
        int exp = (int)((a >> f) & (uint)((1 << ew) - 1));
        if (exp == 0)
        {
            if ((fraction >> 51 & 1) == 0) { exp = -1; fraction = (fraction << 2) & ((1UL << 52) - 1); }
            else fraction = (fraction << 1) & ((1UL << 52) - 1);
        }
        int scaled = (int)(0x100 | (fraction >> 44));
        int resultExp = n switch { 16 => 29, 32 => 253, _ => 2045 } - exp;
        int estimate = RecipEstimate(scaled);
        fraction = (ulong)(estimate & 0xFF) << 44;
        if (resultExp == 0) fraction = (1UL << 51) | (fraction >> 1);
        else if (resultExp == -1) { fraction = (1UL << 50) | (fraction >> 2); resultExp = 0; }
        return SignMask(n, s) | ((ulong)resultExp << f) | (fraction >> (52 - f));
    }

    /// <summary>FPRSqrtEstimate (FRSQRTE).</summary>
    public static ulong RSqrtEstimate(ulong a, int n, uint fpcr, ref uint fpsr)
    {
        var t = Unpack(a, n, fpcr, ref fpsr, out bool s, out _, out _);
        if (IsNaN(t)) return ProcessNaN(t, a, n, fpcr, ref fpsr);
        if (t == FpType.Zero) { fpsr |= Fpsr.Dzc; return Infinity(n, s); }
        if (s) return Invalid(n, ref fpsr);
        if (t == FpType.Infinity) return Zero(n, false);
        Format(n, out int ew, out int f);
        ulong fraction = (a & ((1UL << f) - 1)) << (52 - f);
        int exp = (int)((a >> f) & (uint)((1 << ew) - 1));
        if (exp == 0)
        {
            while ((fraction >> 51 & 1) == 0) { fraction = (fraction << 1) & ((1UL << 52) - 1); exp--; }
            fraction = (fraction << 1) & ((1UL << 52) - 1);
        }
        int scaled = (exp & 1) == 0 ? (int)(0x100 | (fraction >> 44)) : (int)(0x80 | (fraction >> 45));
        int resultExp = FloorDiv(n switch { 16 => 44, 32 => 380, _ => 3068 } - exp, 2);
        int estimate = RecipSqrtEstimate(scaled);
        return ((ulong)(uint)resultExp << f) & (Mask(n) >> 1) | ((ulong)(estimate & 0xFF) << (f - 8));
    }

    static int FloorDiv(int a, int b) => (int)Math.Floor((double)a / b);

    /// <summary>URECPE on one 32-bit element.</summary>
    public static uint UnsignedRecipEstimate(uint a)
    {
        if ((a >> 31) == 0) return 0xFFFF_FFFF;
        return (uint)RecipEstimate((int)(a >> 23)) << 23;
    }

    /// <summary>URSQRTE on one 32-bit element.</summary>
    public static uint UnsignedRSqrtEstimate(uint a)
    {
        if ((a >> 30) == 0) return 0xFFFF_FFFF;
        return (uint)RecipSqrtEstimate((int)(a >> 23)) << 23;
    }

    /// <summary>FPRecipStepFused (FRECPS): 2.0 - op1*op2 with one rounding.</summary>
    public static ulong RecipStepFused(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => StepFused(a, b, n, fpcr, ref fpsr, false);

    /// <summary>FPRSqrtStepFused (FRSQRTS): (3.0 - op1*op2) / 2 with one rounding.</summary>
    public static ulong RSqrtStepFused(ulong a, ulong b, int n, uint fpcr, ref uint fpsr) => StepFused(a, b, n, fpcr, ref fpsr, true);

    static ulong StepFused(ulong a, ulong b, int n, uint fpcr, ref uint fpsr, bool rsqrt)
    {
        a = Neg(a, n);
        var t1 = Unpack(a, n, fpcr, ref fpsr, out bool s1, out int e1, out ulong m1);
        var t2 = Unpack(b, n, fpcr, ref fpsr, out bool s2, out int e2, out ulong m2);
        if (ProcessNaNs(t1, t2, a, b, n, fpcr, ref fpsr, out ulong nan)) return nan;
        bool inf1 = t1 == FpType.Infinity, inf2 = t2 == FpType.Infinity;
        bool zero1 = t1 == FpType.Zero, zero2 = t2 == FpType.Zero;
        if ((inf1 && zero2) || (zero1 && inf2)) return rsqrt ? OnePointFive(n, false) : Two(n, false);
        if (inf1 || inf2) return Infinity(n, s1 != s2);
        var rounding = Fpcr.RMode(fpcr);
        // 2.0 = 1 * 2^1; 3.0 = 3 * 2^0. Halving for FRSQRTS is exact, so only the final rounding remains.
        ulong cm = rsqrt ? 3UL : 1UL;
        int ce = rsqrt ? 0 : 1;
        if (!AddExact(false, cm, ce, s1 != s2, (UInt128)m1 * m2, e1 + e2, out bool s, out UInt128 m, out int e, out bool sticky))
            return Zero(n, rounding == FpRounding.NegInf);
        if (rsqrt) e--;
        return Round(s, m, e, sticky, n, fpcr, rounding, ref fpsr);
    }

    /// <summary>FPRecpX (FRECPX): inverts the exponent, zero fraction.</summary>
    public static ulong Recpx(ulong a, int n, uint fpcr, ref uint fpsr)
    {
        var t = Unpack(a, n, fpcr, ref fpsr, out bool s, out _, out _);
        if (IsNaN(t)) return ProcessNaN(t, a, n, fpcr, ref fpsr);
        Format(n, out int ew, out int f);
        ulong expMask = (1UL << ew) - 1;
        ulong exp = (a >> f) & expMask;
        ulong r = exp == 0 || t == FpType.Zero ? expMask - 1 : ~exp & expMask;
        return SignMask(n, s) | (r << f);
    }

    // ---------------------------------------------------------------- host fast paths (RN, no FZ/DN, doubles)
    // The host computes the correctly rounded result in round-to-nearest. The result bits match FPRound
    // whenever inputs and result are normal and finite; IXC is then decided from the exact error term
    // (FMA), and UFC/OFC cannot arise. Anything else falls back to the soft path.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool IsNormal64(ulong bits)
    {
        ulong e = (bits >> 52) & 0x7FF;
        return e != 0 && e != 0x7FF;
    }

    const double Tiny = 1.0481622851371e-289; // about 2^-960: below this the error terms could underflow

    static bool FastAdd64(ulong a, ulong b, ref uint fpsr, out ulong result)
    {
        result = 0;
        if (!IsNormal64(a) || !IsNormal64(b)) return false;
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        double s = x + y;
        ulong r = BitConverter.DoubleToUInt64Bits(s);
        if (!IsNormal64(r)) return false;
        // TwoSum: the exact rounding error of s = x + y.
        double bb = s - x;
        double err = (x - (s - bb)) + (y - bb);
        if (err != 0) fpsr |= Fpsr.Ixc;
        result = r;
        return true;
    }

    static bool FastMul64(ulong a, ulong b, ref uint fpsr, out ulong result)
    {
        result = 0;
        if (!IsNormal64(a) || !IsNormal64(b)) return false;
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        double p = x * y;
        ulong r = BitConverter.DoubleToUInt64Bits(p);
        if (!IsNormal64(r) || Math.Abs(p) < Tiny) return false;   // keep the error term itself exact
        if (Math.FusedMultiplyAdd(x, y, -p) != 0) fpsr |= Fpsr.Ixc;
        result = r;
        return true;
    }

    static bool FastDiv64(ulong a, ulong b, ref uint fpsr, out ulong result)
    {
        result = 0;
        if (!IsNormal64(a) || !IsNormal64(b)) return false;
        double x = BitConverter.UInt64BitsToDouble(a), y = BitConverter.UInt64BitsToDouble(b);
        double q = x / y;
        ulong r = BitConverter.DoubleToUInt64Bits(q);
        if (!IsNormal64(r) || Math.Abs(q) < Tiny || Math.Abs(x) < Tiny) return false;
        if (Math.FusedMultiplyAdd(q, y, -x) != 0) fpsr |= Fpsr.Ixc;
        result = r;
        return true;
    }

    static bool FastSqrt64(ulong a, ref uint fpsr, out ulong result)
    {
        result = 0;
        if (!IsNormal64(a)) return false;
        double x = BitConverter.UInt64BitsToDouble(a);
        double q = Math.Sqrt(x);
        if (x < Tiny) return false;
        if (Math.FusedMultiplyAdd(q, q, -x) != 0) fpsr |= Fpsr.Ixc;
        result = BitConverter.DoubleToUInt64Bits(q);
        return true;
    }

    // Single precision: the same reasoning with the host's binary32 arithmetic.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static bool IsNormal32(uint bits)
    {
        uint e = (bits >> 23) & 0xFF;
        return e != 0 && e != 0xFF;
    }

    const float Tiny32 = 1.0e-30f;   // about 2^-100: far enough above the denormal range for exact error terms

    static bool FastAdd32(uint a, uint b, ref uint fpsr, out uint result)
    {
        result = 0;
        if (!IsNormal32(a) || !IsNormal32(b)) return false;
        float x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b);
        float s = x + y;
        uint r = BitConverter.SingleToUInt32Bits(s);
        if (!IsNormal32(r)) return false;
        float bb = s - x;
        float err = (x - (s - bb)) + (y - bb);
        if (err != 0) fpsr |= Fpsr.Ixc;
        result = r;
        return true;
    }

    static bool FastMul32(uint a, uint b, ref uint fpsr, out uint result)
    {
        result = 0;
        if (!IsNormal32(a) || !IsNormal32(b)) return false;
        float x = BitConverter.UInt32BitsToSingle(a), y = BitConverter.UInt32BitsToSingle(b);
        float p = x * y;
        uint r = BitConverter.SingleToUInt32Bits(p);
        if (!IsNormal32(r) || MathF.Abs(p) < Tiny32) return false;
        // The exact product of two binary32 values fits a double, so the error is exact there.
        if ((double)x * y != p) fpsr |= Fpsr.Ixc;
        result = r;
        return true;
    }
}
