using Kvmfs.Emulator.Fpu;
using static Kvmfs.Emulator.Cpu.AdvSimd.Simd;

namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// Handlers for the A64 "Floating-point data-processing" classes (scalar): FMOV, arithmetic, FMADD
/// family, compares, conditional compare/select, FCVT, FRINT*, and the FP&lt;-&gt;integer and
/// FP&lt;-&gt;fixed-point conversions. One handler per encoding class; the opcode fields select the
/// operation. Half precision (ptype 11) exists only as a FCVT source/destination (no FEAT_FP16).
/// </summary>
internal static unsafe class FpScalar
{
    /// <summary>ptype (bits 23:22): 00 single, 01 double, 11 half (FP16 arithmetic not implemented).</summary>
    static int Width(uint insn) => ((insn >> 22) & 3) switch { 0 => 32, 1 => 64, 3 => 16, _ => 0 };

    // FMOV/FABS/FNEG/FSQRT/FCVT/FRINT*: M 0 S 11110 ptype 1 opcode(6) 10000 Rn Rd
    public static void DataProc1(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &DataProc1Core);

    internal static bool DataProc1Core(CpuState* s, uint insn)
    {
        int n = Width(insn);
        uint opc = (insn >> 15) & 63;
        if (n == 0) return false;
        if (n == 16 && (opc & 0b111100) != 0b000100) return false;
        ulong a = ReadScalar(s, Rn(insn), n);
        uint fpcr = s->Fpcr;
        var rm = Fpcr.RMode(fpcr);
        ulong r;
        switch (opc)
        {
            case 0b000000: r = a; break;
            case 0b000001: r = FP.Abs(a, n); break;
            case 0b000010: r = FP.Neg(a, n); break;
            case 0b000011: r = FP.Sqrt(a, n, fpcr, ref s->Fpsr); break;
            case 0b000100 or 0b000101 or 0b000111:
            {
                int to = opc == 0b000100 ? 32 : opc == 0b000101 ? 64 : 16;
                if (to == n) return false;
                r = FP.Convert(a, n, to, fpcr, rm, ref s->Fpsr);
                break;
            }
            case 0b001000: r = FP.RoundInt(a, n, fpcr, FpRounding.TieEven, false, ref s->Fpsr); break;
            case 0b001001: r = FP.RoundInt(a, n, fpcr, FpRounding.PosInf, false, ref s->Fpsr); break;
            case 0b001010: r = FP.RoundInt(a, n, fpcr, FpRounding.NegInf, false, ref s->Fpsr); break;
            case 0b001011: r = FP.RoundInt(a, n, fpcr, FpRounding.Zero, false, ref s->Fpsr); break;
            case 0b001100: r = FP.RoundInt(a, n, fpcr, FpRounding.TieAway, false, ref s->Fpsr); break;
            case 0b001110: r = FP.RoundInt(a, n, fpcr, rm, true, ref s->Fpsr); break;
            case 0b001111: r = FP.RoundInt(a, n, fpcr, rm, false, ref s->Fpsr); break;
            default: return false;
        }
        WriteScalar(s, Rd(insn), r);
        return true;
    }

    // FCMP/FCMPE: M 0 S 11110 ptype 1 Rm op(2) 1000 Rn opcode2(5)
    public static void Compare(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &CompareCore);

    internal static bool CompareCore(CpuState* s, uint insn)
    {
        int n = Width(insn);
        if (n == 0 || n == 16 || (insn & 7) != 0 || ((insn >> 14) & 3) != 0) return false;
        ulong a = ReadScalar(s, Rn(insn), n);
        ulong b = (insn & 8) != 0 ? 0 : ReadScalar(s, Rm(insn), n);
        uint nzcv = FP.Compare(a, b, n, (insn & 16) != 0, s->Fpcr, ref s->Fpsr);
        s->Nzcv = nzcv << 28;
        return true;
    }

    // FCCMP/FCCMPE: M 0 S 11110 ptype 1 Rm cond 01 Rn op nzcv
    public static void CondCompare(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &CondCompareCore);

    internal static bool CondCompareCore(CpuState* s, uint insn)
    {
        int n = Width(insn);
        if (n == 0 || n == 16) return false;
        uint cond = (insn >> 12) & 15;
        if (ConditionHolds(s->Nzcv, cond))
        {
            ulong a = ReadScalar(s, Rn(insn), n), b = ReadScalar(s, Rm(insn), n);
            s->Nzcv = FP.Compare(a, b, n, (insn & 16) != 0, s->Fpcr, ref s->Fpsr) << 28;
        }
        else s->Nzcv = (insn & 15) << 28;
        return true;
    }

    // FMUL..FNMUL: M 0 S 11110 ptype 1 Rm opcode(4) 10 Rn Rd
    public static void DataProc2(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &DataProc2Core);

    internal static bool DataProc2Core(CpuState* s, uint insn)
    {
        int n = Width(insn);
        uint opc = (insn >> 12) & 15;
        if (n == 0 || n == 16 || opc > 8) return false;
        ulong a = ReadScalar(s, Rn(insn), n), b = ReadScalar(s, Rm(insn), n);
        uint fpcr = s->Fpcr;
        ulong r = opc switch
        {
            0 => FP.Mul(a, b, n, fpcr, ref s->Fpsr),
            1 => FP.Div(a, b, n, fpcr, ref s->Fpsr),
            2 => FP.Add(a, b, n, fpcr, ref s->Fpsr),
            3 => FP.Sub(a, b, n, fpcr, ref s->Fpsr),
            4 => FP.Max(a, b, n, fpcr, ref s->Fpsr),
            5 => FP.Min(a, b, n, fpcr, ref s->Fpsr),
            6 => FP.MaxNum(a, b, n, fpcr, ref s->Fpsr),
            7 => FP.MinNum(a, b, n, fpcr, ref s->Fpsr),
            _ => FP.Neg(FP.Mul(a, b, n, fpcr, ref s->Fpsr), n),
        };
        WriteScalar(s, Rd(insn), r);
        return true;
    }

    // FCSEL: M 0 S 11110 ptype 1 Rm cond 11 Rn Rd
    public static void CondSelect(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &CondSelectCore);

    internal static bool CondSelectCore(CpuState* s, uint insn)
    {
        int n = Width(insn);
        if (n == 0 || n == 16) return false;
        bool take = ConditionHolds(s->Nzcv, (insn >> 12) & 15);
        WriteScalar(s, Rd(insn), ReadScalar(s, take ? Rn(insn) : Rm(insn), n));
        return true;
    }

    // FMOV (scalar, immediate): M 0 S 11110 ptype 1 imm8 100 imm5 Rd
    public static void MoveImmediate(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &MoveImmediateCore);

    internal static bool MoveImmediateCore(CpuState* s, uint insn)
    {
        int n = Width(insn);
        if (n == 0 || n == 16 || ((insn >> 5) & 31) != 0) return false;
        WriteScalar(s, Rd(insn), VfpExpandImm((insn >> 13) & 0xFF, n));
        return true;
    }

    // FMADD/FMSUB/FNMADD/FNMSUB: M 0 S 11111 ptype o1 Rm o0 Ra Rn Rd
    public static void DataProc3(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &DataProc3Core);

    internal static bool DataProc3Core(CpuState* s, uint insn)
    {
        int n = Width(insn);
        if (n == 0 || n == 16) return false;
        ulong a = ReadScalar(s, Ra(insn), n), op1 = ReadScalar(s, Rn(insn), n), op2 = ReadScalar(s, Rm(insn), n);
        bool o1 = ((insn >> 21) & 1) != 0, o0 = ((insn >> 15) & 1) != 0;
        if (o1) a = FP.Neg(a, n);              // FNMADD / FNMSUB negate the addend
        if (o0 != o1) op1 = FP.Neg(op1, n);    // FMSUB / FNMADD negate the product
        WriteScalar(s, Rd(insn), FP.MulAdd(a, op1, op2, n, s->Fpcr, ref s->Fpsr));
        return true;
    }

    // Conversions between FP and integer, and FMOV general: sf 0 S 11110 ptype 1 rmode opcode 000000 Rn Rd
    public static void IntConvert(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &IntConvertCore);

    internal static bool IntConvertCore(CpuState* state, uint insn)
    {
        bool sf = (insn >> 31) != 0;
        uint ptype = (insn >> 22) & 3, rmode = (insn >> 19) & 3, opc = (insn >> 16) & 7;
        int intBits = sf ? 64 : 32;
        if (opc >= 6)
        {
            // FMOV between general and SIMD&FP registers (no FP16 forms).
            bool toGeneral = opc == 6;
            int form = (sf ? 1 : 0) | (int)(ptype << 1) | (int)(rmode << 3);
            if (form != 0b00000 && form != 0b00011 && form != 0b01101) return false;
            CpuState* st = state;
            int d = Rd(insn), nn = Rn(insn);
            if (form == 0b01101)
            {
                // FMOV Xd, Vn.D[1] / FMOV Vd.D[1], Xn: the other half of Vd is kept.
                if (toGeneral) WriteX(st, d, st->V[2 * nn + 1]);
                else st->V[2 * d + 1] = ReadX(st, nn);
            }
            else if (toGeneral) WriteX(st, d, st->V[2 * nn] & Mask(intBits));
            else WriteScalar(st, d, ReadX(st, nn) & Mask(intBits));
            return true;
        }
        int n = ptype switch { 0 => 32, 1 => 64, _ => 0 };
        if (n == 0) return false;
        if (opc >= 2 && rmode != 0) return false;
        CpuState* s = state;
        uint fpcr = s->Fpcr;
        switch (opc)
        {
            case 0 or 1:
            {
                var rounding = rmode switch { 0 => FpRounding.TieEven, 1 => FpRounding.PosInf, 2 => FpRounding.NegInf, _ => FpRounding.Zero };
                ulong v = FP.ToFixed(ReadScalar(s, Rn(insn), n), n, 0, opc == 1, intBits, fpcr, rounding, ref s->Fpsr);
                WriteX(s, Rd(insn), v);
                break;
            }
            case 2 or 3:
                WriteScalar(s, Rd(insn), FP.FromFixed(ReadX(s, Rn(insn)), intBits, 0, opc == 3, n, fpcr, Fpcr.RMode(fpcr), ref s->Fpsr));
                break;
            default: // 4 FCVTAS, 5 FCVTAU
                WriteX(s, Rd(insn), FP.ToFixed(ReadScalar(s, Rn(insn), n), n, 0, opc == 5, intBits, fpcr, FpRounding.TieAway, ref s->Fpsr));
                break;
        }
        return true;
    }

    // Conversions between FP and fixed point: sf 0 S 11110 ptype 0 rmode opcode scale Rn Rd
    public static void FixedConvert(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &FixedConvertCore);

    internal static bool FixedConvertCore(CpuState* s, uint insn)
    {
        bool sf = (insn >> 31) != 0;
        uint ptype = (insn >> 22) & 3, rmode = (insn >> 19) & 3, opc = (insn >> 16) & 7, scale = (insn >> 10) & 63;
        int n = ptype switch { 0 => 32, 1 => 64, _ => 0 };
        int intBits = sf ? 64 : 32;
        bool valid = n != 0 && (sf || scale >= 32) &&
                     ((rmode == 0 && (opc == 2 || opc == 3)) || (rmode == 3 && (opc == 0 || opc == 1)));
        if (!valid) return false;
        int fbits = 64 - (int)scale;
        uint fpcr = s->Fpcr;
        if (rmode == 3)
            WriteX(s, Rd(insn), FP.ToFixed(ReadScalar(s, Rn(insn), n), n, fbits, opc == 1, intBits, fpcr, FpRounding.Zero, ref s->Fpsr));
        else
            WriteScalar(s, Rd(insn), FP.FromFixed(ReadX(s, Rn(insn)), intBits, fbits, opc == 3, n, fpcr, Fpcr.RMode(fpcr), ref s->Fpsr));
        return true;
    }
}
