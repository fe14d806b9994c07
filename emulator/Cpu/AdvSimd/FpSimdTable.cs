namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// The decode-table lines of the scalar floating-point and AdvSIMD data-processing classes, one line
/// per encoding class as laid out in the Arm ARM's A64 encoding index. The handlers decode the opcode
/// fields and raise Undefined for unallocated combinations. Not covered (so they decode as Undefined):
/// FP16 arithmetic, SHA512/SHA3/SM3/SM4, RDM, dot product, complex FP, and the
/// SIMD loads/stores, which live with the other loads/stores.
/// </summary>
public static unsafe class FpSimdTable
{
    public readonly struct Line
    {
        public readonly string Name, Pattern;
        public readonly uint Mask, Value;
        public readonly delegate* managed<ArmCpu, uint, void> Handler;
        internal readonly delegate*<CpuState*, uint, bool> Core;

        public Line(string name, string pattern, delegate* managed<ArmCpu, uint, void> handler, delegate*<CpuState*, uint, bool> core)
        {
            Name = name; Pattern = pattern; Handler = handler; Core = core;
            var e = new Encoding(name, pattern, handler);
            Mask = e.Mask; Value = e.Value;
        }
    }

    public static readonly Line[] Lines =
    {
        new("FP<->fixed", "x0011110 xx0xxxxx xxxxxxxx xxxxxxxx", &FpScalar.FixedConvert, &FpScalar.FixedConvertCore),
        new("FP<->int", "x0011110 xx1xxxxx 000000xx xxxxxxxx", &FpScalar.IntConvert, &FpScalar.IntConvertCore),
        new("FP 1-source", "00011110 xx1xxxxx x10000xx xxxxxxxx", &FpScalar.DataProc1, &FpScalar.DataProc1Core),
        new("FP compare", "00011110 xx1xxxxx xx1000xx xxxxxxxx", &FpScalar.Compare, &FpScalar.CompareCore),
        new("FP immediate", "00011110 xx1xxxxx xxx100xx xxxxxxxx", &FpScalar.MoveImmediate, &FpScalar.MoveImmediateCore),
        new("FP cond compare", "00011110 xx1xxxxx xxxx01xx xxxxxxxx", &FpScalar.CondCompare, &FpScalar.CondCompareCore),
        new("FP 2-source", "00011110 xx1xxxxx xxxx10xx xxxxxxxx", &FpScalar.DataProc2, &FpScalar.DataProc2Core),
        new("FP cond select", "00011110 xx1xxxxx xxxx11xx xxxxxxxx", &FpScalar.CondSelect, &FpScalar.CondSelectCore),
        new("FP 3-source", "00011111 xxxxxxxx xxxxxxxx xxxxxxxx", &FpScalar.DataProc3, &FpScalar.DataProc3Core),
        new("SIMD three same", "0xx01110 xx1xxxxx xxxxx1xx xxxxxxxx", &SimdVector.ThreeSame, &SimdVector.ThreeSameCore),
        new("SIMD three different", "0xx01110 xx1xxxxx xxxx00xx xxxxxxxx", &SimdVector.ThreeDifferent, &SimdVector.ThreeDifferentCore),
        new("SIMD two-reg misc", "0xx01110 xx10000x xxxx10xx xxxxxxxx", &SimdVector.TwoRegMisc, &SimdVector.TwoRegMiscCore),
        new("SIMD across lanes", "0xx01110 xx11000x xxxx10xx xxxxxxxx", &SimdVector.AcrossLanes, &SimdVector.AcrossLanesCore),
        new("SIMD copy", "0xx01110 000xxxxx 0xxxx1xx xxxxxxxx", &SimdVector.Copy, &SimdVector.CopyCore),
        new("SIMD permute", "0x001110 xx0xxxxx 0xxx10xx xxxxxxxx", &SimdVector.Permute, &SimdVector.PermuteCore),
        new("SIMD EXT", "0x101110 000xxxxx 0xxxx0xx xxxxxxxx", &SimdVector.Extract, &SimdVector.ExtractCore),
        new("SIMD TBL/TBX", "0x001110 000xxxxx 0xxx00xx xxxxxxxx", &SimdVector.TableLookup, &SimdVector.TableLookupCore),
        new("SIMD modified immediate", "0xx01111 00000xxx xxxxx1xx xxxxxxxx", &SimdVector.ModifiedImmediate, &SimdVector.ModifiedImmediateCore),
        new("SIMD shift by immediate", "0xx01111 0xxxxxxx xxxxx1xx xxxxxxxx", &SimdVector.ShiftImmediate, &SimdVector.ShiftImmediateCore),
        new("SIMD by element", "0xx01111 xxxxxxxx xxxxx0xx xxxxxxxx", &SimdVector.ByElement, &SimdVector.ByElementVector),
        new("SIMD scalar three same", "01x11110 xx1xxxxx xxxxx1xx xxxxxxxx", &SimdScalar.ThreeSame, &SimdScalar.ThreeSameCore),
        new("SIMD scalar three different", "01x11110 xx1xxxxx xxxx00xx xxxxxxxx", &SimdScalar.ThreeDifferent, &SimdScalar.ThreeDifferentCore),
        new("SIMD scalar two-reg misc", "01x11110 xx10000x xxxx10xx xxxxxxxx", &SimdScalar.TwoRegMisc, &SimdScalar.TwoRegMiscCore),
        new("SIMD scalar pairwise", "01x11110 xx11000x xxxx10xx xxxxxxxx", &SimdScalar.Pairwise, &SimdScalar.PairwiseCore),
        new("SIMD scalar copy", "01011110 000xxxxx 000001xx xxxxxxxx", &SimdScalar.Copy, &SimdScalar.CopyCore),
        new("SIMD scalar shift by immediate", "01x11111 0xxxxxxx xxxxx1xx xxxxxxxx", &SimdScalar.ShiftImmediate, &SimdScalar.ShiftImmediateCore),
        new("SIMD scalar by element", "01x11111 xxxxxxxx xxxxx0xx xxxxxxxx", &SimdScalar.ByElement, &SimdScalar.ByElementScalar),
        new("Crypto AES", "01001110 00101000 0xxx10xx xxxxxxxx", &Crypto.Aes, &Crypto.AesCore),
        new("Crypto SHA three-reg", "01011110 000xxxxx 0xxx00xx xxxxxxxx", &Crypto.ShaThreeReg, &Crypto.ShaThreeRegCore),
        new("Crypto SHA two-reg", "01011110 00101000 0xxx10xx xxxxxxxx", &Crypto.ShaTwoReg, &Crypto.ShaTwoRegCore),
    };

    /// <summary>Adds every FP/AdvSIMD encoding class to the CPU's decode table.</summary>
    public static void Register(DecodeTable t)
    {
        foreach (var l in Lines) t.Add(l.Name, l.Pattern, l.Handler);
    }

    /// <summary>
    /// Executes one FP/AdvSIMD instruction directly on a register state, choosing the line the decode
    /// table would (most fixed bits wins). False when the word is UNDEFINED. For tests and tools; the
    /// CPU goes through <see cref="Register"/>.
    /// </summary>
    public static bool Execute(CpuState* state, uint insn)
    {
        int best = -1, bestBits = -1;
        for (int i = 0; i < Lines.Length; i++)
        {
            int bits = System.Numerics.BitOperations.PopCount(Lines[i].Mask);
            if ((insn & Lines[i].Mask) == Lines[i].Value && bits > bestBits) { best = i; bestBits = bits; }
        }
        return best >= 0 && Lines[best].Core(state, insn);
    }
}
