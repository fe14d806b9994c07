using Kvmfs.Emulator.Fpu;

namespace Kvmfs.Emulator.Tests.Fpu;

/// <summary>
/// Computes one line of fpdiff.c's output with the C# library: the instruction named by the C
/// program (e.g. "fmadd_d", "fcvtzs_sw", "scvtf_xd_f5") applied to the same operands and FPCR.
/// </summary>
public static class FpReference
{
    public static bool TryCompute(string op, uint fpcr, ulong a, ulong b, ulong c, out ulong result, out uint fpsr)
    {
        fpsr = 0;
        result = 0;
        int us = op.IndexOf('_');
        string name = op[..us], suffix = op[(us + 1)..];
        int n = suffix.StartsWith('s') ? 32 : suffix.StartsWith('d') ? 64 : suffix.StartsWith('h') ? 16 : 0;
        var rm = Fpcr.RMode(fpcr);
        ulong ones = n == 64 ? ulong.MaxValue : (1UL << n) - 1;
        switch (name)
        {
            case "fadd": result = FP.Add(a, b, n, fpcr, ref fpsr); break;
            case "fsub": result = FP.Sub(a, b, n, fpcr, ref fpsr); break;
            case "fmul": result = FP.Mul(a, b, n, fpcr, ref fpsr); break;
            case "fnmul": result = FP.Neg(FP.Mul(a, b, n, fpcr, ref fpsr), n); break;
            case "fdiv": result = FP.Div(a, b, n, fpcr, ref fpsr); break;
            case "fmax": result = FP.Max(a, b, n, fpcr, ref fpsr); break;
            case "fmin": result = FP.Min(a, b, n, fpcr, ref fpsr); break;
            case "fmaxnm": result = FP.MaxNum(a, b, n, fpcr, ref fpsr); break;
            case "fminnm": result = FP.MinNum(a, b, n, fpcr, ref fpsr); break;
            case "fabd": result = FP.Abd(a, b, n, fpcr, ref fpsr); break;
            case "fmulx": result = FP.MulX(a, b, n, fpcr, ref fpsr); break;
            case "frecps": result = FP.RecipStepFused(a, b, n, fpcr, ref fpsr); break;
            case "frsqrts": result = FP.RSqrtStepFused(a, b, n, fpcr, ref fpsr); break;
            case "fcmeq": result = FP.CompareEq(a, b, n, fpcr, ref fpsr) ? ones : 0; break;
            case "fcmge": result = FP.CompareGe(a, b, n, fpcr, ref fpsr) ? ones : 0; break;
            case "fcmgt": result = FP.CompareGt(a, b, n, fpcr, ref fpsr) ? ones : 0; break;
            case "facge": result = FP.CompareGe(FP.Abs(a, n), FP.Abs(b, n), n, fpcr, ref fpsr) ? ones : 0; break;
            case "facgt": result = FP.CompareGt(FP.Abs(a, n), FP.Abs(b, n), n, fpcr, ref fpsr) ? ones : 0; break;
            case "fcmp": result = (ulong)FP.Compare(a, b, n, false, fpcr, ref fpsr) << 28; break;
            case "fcmpe": result = (ulong)FP.Compare(a, b, n, true, fpcr, ref fpsr) << 28; break;
            case "fmadd": result = FP.MulAdd(c, a, b, n, fpcr, ref fpsr); break;
            case "fmsub": result = FP.MulAdd(c, FP.Neg(a, n), b, n, fpcr, ref fpsr); break;
            case "fnmadd": result = FP.MulAdd(FP.Neg(c, n), FP.Neg(a, n), b, n, fpcr, ref fpsr); break;
            case "fnmsub": result = FP.MulAdd(FP.Neg(c, n), a, b, n, fpcr, ref fpsr); break;
            case "fsqrt": result = FP.Sqrt(a, n, fpcr, ref fpsr); break;
            case "frintn": result = FP.RoundInt(a, n, fpcr, FpRounding.TieEven, false, ref fpsr); break;
            case "frintp": result = FP.RoundInt(a, n, fpcr, FpRounding.PosInf, false, ref fpsr); break;
            case "frintm": result = FP.RoundInt(a, n, fpcr, FpRounding.NegInf, false, ref fpsr); break;
            case "frintz": result = FP.RoundInt(a, n, fpcr, FpRounding.Zero, false, ref fpsr); break;
            case "frinta": result = FP.RoundInt(a, n, fpcr, FpRounding.TieAway, false, ref fpsr); break;
            case "frinti": result = FP.RoundInt(a, n, fpcr, rm, false, ref fpsr); break;
            case "frintx": result = FP.RoundInt(a, n, fpcr, rm, true, ref fpsr); break;
            case "frecpe": result = FP.RecipEstimate(a, n, fpcr, ref fpsr); break;
            case "frsqrte": result = FP.RSqrtEstimate(a, n, fpcr, ref fpsr); break;
            case "frecpx": result = FP.Recpx(a, n, fpcr, ref fpsr); break;
            case "fneg": result = FP.Neg(a, n); break;
            case "fabs": result = FP.Abs(a, n); break;
            case "fcvt":
            {
                int from = Width(suffix[0]), to = Width(suffix[1]);
                result = FP.Convert(a & Mask(from), from, to, fpcr, rm, ref fpsr);
                break;
            }
            case "fcvtxn": result = FP.Convert(a, 64, 32, fpcr, FpRounding.Odd, ref fpsr); break;
            case "urecpe": result = FP.UnsignedRecipEstimate((uint)a); break;
            case "ursqrte": result = FP.UnsignedRSqrtEstimate((uint)a); break;
            case "scvtf" or "ucvtf":
            {
                int intBits = suffix[0] == 'w' ? 32 : 64;
                int to = Width(suffix[1]);
                int fbits = suffix.Length > 3 ? int.Parse(suffix[4..]) : 0;
                result = FP.FromFixed(a, intBits, fbits, name[0] == 'u', to, fpcr, rm, ref fpsr);
                break;
            }
            default:
                if (name.StartsWith("fcvt") && name.Length == 6)
                {
                    var r = name[4] switch
                    {
                        'z' => FpRounding.Zero, 'n' => FpRounding.TieEven, 'p' => FpRounding.PosInf,
                        'm' => FpRounding.NegInf, 'a' => FpRounding.TieAway, _ => throw new ArgumentException(op),
                    };
                    int intBits = suffix[1] == 'w' ? 32 : 64;
                    int fbits = suffix.Length > 3 ? int.Parse(suffix[4..]) : 0;
                    result = FP.ToFixed(a, n, fbits, name[5] == 'u', intBits, fpcr, r, ref fpsr);
                    break;
                }
                return false;
        }
        return true;
    }

    static int Width(char c) => c == 'h' ? 16 : c == 's' ? 32 : 64;
    static ulong Mask(int n) => n == 64 ? ulong.MaxValue : (1UL << n) - 1;
}
