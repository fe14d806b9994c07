using System.Runtime.CompilerServices;

namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>A 128-bit SIMD&amp;FP register value on the stack, so an instruction can read all its
/// sources before it writes the destination (Vd may alias Vn/Vm).</summary>
internal unsafe struct V128
{
    public ulong Lo, Hi;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Get(int index, int size)
    {
        ref byte b = ref Unsafe.As<ulong, byte>(ref Lo);
        return size switch
        {
            0 => Unsafe.Add(ref b, index),
            1 => Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref b, index * 2)),
            2 => Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, index * 4)),
            _ => Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, index * 8)),
        };
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(int index, int size, ulong value)
    {
        ref byte b = ref Unsafe.As<ulong, byte>(ref Lo);
        switch (size)
        {
            case 0: Unsafe.Add(ref b, index) = (byte)value; break;
            case 1: Unsafe.WriteUnaligned(ref Unsafe.Add(ref b, index * 2), (ushort)value); break;
            case 2: Unsafe.WriteUnaligned(ref Unsafe.Add(ref b, index * 4), (uint)value); break;
            default: Unsafe.WriteUnaligned(ref Unsafe.Add(ref b, index * 8), value); break;
        }
    }

    public byte Byte(int index) => (byte)Get(index, 0);
}

/// <summary>
/// Register-file access shared by the FP and AdvSIMD handlers: V registers, general registers
/// with register 31 as XZR (every GPR operand of these instructions is ZR, never SP), element
/// helpers and the sign/zero extension and saturation the Arm pseudo-code uses.
/// </summary>
internal static unsafe class Simd
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V128 ReadV(CpuState* s, int r) => new V128 { Lo = s->V[2 * r], Hi = s->V[2 * r + 1] };

    /// <summary>Writes Vd; a 64-bit (Q=0) result clears the upper half, as every AdvSIMD write does.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteV(CpuState* s, int r, in V128 v, bool q)
    {
        s->V[2 * r] = v.Lo;
        s->V[2 * r + 1] = q ? v.Hi : 0;
    }

    /// <summary>Scalar FP/SIMD read of the low n bits of Vr.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadScalar(CpuState* s, int r, int n) => s->V[2 * r] & Mask(n);

    /// <summary>Scalar write: the value goes to the low bits, everything above is zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteScalar(CpuState* s, int r, ulong value)
    {
        s->V[2 * r] = value;
        s->V[2 * r + 1] = 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong ReadX(CpuState* s, int r) => r == 31 ? 0 : s->X[r];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WriteX(CpuState* s, int r, ulong v)
    {
        if (r != 31) s->X[r] = v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Mask(int bits) => bits >= 64 ? ulong.MaxValue : (1UL << bits) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long SignExtend(ulong v, int bits) => bits >= 64 ? (long)v : ((long)(v << (64 - bits))) >> (64 - bits);

    public static int Rd(uint insn) => (int)(insn & 31);
    public static int Rn(uint insn) => (int)((insn >> 5) & 31);
    public static int Rm(uint insn) => (int)((insn >> 16) & 31);
    public static int Ra(uint insn) => (int)((insn >> 10) & 31);

    /// <summary>ConditionHolds for FCCMP/FCSEL, on PSTATE.NZCV.</summary>
    public static bool ConditionHolds(uint nzcv, uint cond)
    {
        bool n = (nzcv & Pstate.N) != 0, z = (nzcv & Pstate.Z) != 0, c = (nzcv & Pstate.C) != 0, v = (nzcv & Pstate.V) != 0;
        bool result = (cond >> 1) switch
        {
            0 => z,
            1 => c,
            2 => n,
            3 => v,
            4 => c && !z,
            5 => n == v,
            6 => n == v && !z,
            _ => true,
        };
        return (cond & 1) != 0 && cond != 15 ? !result : result;
    }

    /// <summary>SignedSatQ / UnsignedSatQ of a wide intermediate into esize bits; sets FPSR.QC on saturation.</summary>
    public static ulong SatSigned(Int128 v, int bits, ref uint fpsr)
    {
        Int128 max = (Int128.One << (bits - 1)) - 1, min = -(Int128.One << (bits - 1));
        if (v > max) { fpsr |= Fpu.Fpsr.Qc; v = max; }
        else if (v < min) { fpsr |= Fpu.Fpsr.Qc; v = min; }
        return (ulong)v & Mask(bits);
    }

    public static ulong SatUnsigned(Int128 v, int bits, ref uint fpsr)
    {
        Int128 max = (Int128.One << bits) - 1;
        if (v > max) { fpsr |= Fpu.Fpsr.Qc; v = max; }
        else if (v < 0) { fpsr |= Fpu.Fpsr.Qc; v = 0; }
        return (ulong)v;
    }

    /// <summary>Element value as a signed or unsigned 128-bit integer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Int128 Ext(ulong v, int bits, bool unsigned) => unsigned ? (Int128)(v & Mask(bits)) : (Int128)SignExtend(v, bits);

    /// <summary>VFPExpandImm: the 8-bit FMOV immediate as an n-bit FP value.</summary>
    public static ulong VfpExpandImm(uint imm8, int n)
    {
        int e = n == 16 ? 5 : n == 32 ? 8 : 11, f = n - e - 1;
        ulong sign = (imm8 >> 7) & 1;
        ulong b6 = (imm8 >> 6) & 1;
        ulong exp = ((b6 ^ 1) << (e - 1)) | ((b6 != 0 ? Mask(e - 3) : 0) << 2) | ((imm8 >> 4) & 3);
        ulong frac = (ulong)(imm8 & 15) << (f - 4);
        return (sign << (n - 1)) | (exp << f) | frac;
    }

    /// <summary>AdvSIMDExpandImm: the 64-bit pattern of MOVI/MVNI/ORR/BIC/FMOV (vector, immediate).</summary>
    public static ulong AdvSimdExpandImm(uint op, uint cmode, ulong imm8)
    {
        switch (cmode >> 1)
        {
            case 0: return Rep32(imm8);
            case 1: return Rep32(imm8 << 8);
            case 2: return Rep32(imm8 << 16);
            case 3: return Rep32(imm8 << 24);
            case 4: return Rep16(imm8);
            case 5: return Rep16(imm8 << 8);
            case 6:
                return (cmode & 1) == 0 ? Rep32((imm8 << 8) | 0xFF) : Rep32((imm8 << 16) | 0xFFFF);
            default:
                if ((cmode & 1) == 0 && op == 0) return imm8 * 0x0101_0101_0101_0101UL;
                if ((cmode & 1) == 0)
                {
                    ulong r = 0;
                    for (int i = 0; i < 8; i++) if (((imm8 >> i) & 1) != 0) r |= 0xFFUL << (8 * i);
                    return r;
                }
                if (op == 0) return Rep32(VfpExpandImm((uint)imm8, 32));
                return VfpExpandImm((uint)imm8, 64);
        }
    }

    static ulong Rep32(ulong v) => (v & 0xFFFF_FFFF) | (v << 32);
    static ulong Rep16(ulong v) { v &= 0xFFFF; return v | (v << 16) | (v << 32) | (v << 48); }
}
