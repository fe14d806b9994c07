using Kvmfs.Emulator.Fpu;
using static Kvmfs.Emulator.Cpu.AdvSimd.Simd;

namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// Handlers for the AdvSIMD scalar encoding classes (bit 28 = 1 in the SIMD space): the one-element
/// forms of three same, two-register misc, pairwise, copy (DUP), shift by immediate, by element and
/// three different. Results are written as scalars (all higher bits of Vd cleared).
/// </summary>
internal static unsafe class SimdScalar
{
    static bool U(uint insn) => ((insn >> 29) & 1) != 0;
    static int Size(uint insn) => (int)((insn >> 22) & 3);

    // 01 U 11110 size 1 Rm opcode 1 Rn Rd
    public static void ThreeSame(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ThreeSameCore);

    internal static bool ThreeSameCore(CpuState* state, uint insn)
    {
        bool u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 11) & 31;
        bool ok;
        if (opc >= 0b11000)
        {
            int n = (size & 1) != 0 ? 64 : 32;
            bool a = (size & 2) != 0;
            int key = (u ? 16 : 0) | (a ? 8 : 0) | (int)(opc & 7);
            // Only FMULX, FCMEQ, FRECPS, FRSQRTS, FCMGE, FACGE, FABD, FCMGT, FACGT have scalar forms.
            ok = key is 0b0_0_011 or 0b0_0_100 or 0b0_0_111 or 0b0_1_111 or 0b1_0_100 or 0b1_0_101 or 0b1_1_010 or 0b1_1_100 or 0b1_1_101;
            if (!ok) return false;
            CpuState* fs = state;
            ulong x = ReadScalar(fs, Rn(insn), n), y = ReadScalar(fs, Rm(insn), n);
            SimdElement.FpThreeSame(u, a, opc, x, y, 0, n, fs->Fpcr, ref fs->Fpsr, out ulong fr);
            WriteScalar(fs, Rd(insn), fr);
            return true;
        }
        ok = opc switch
        {
            0b00001 or 0b00101 or 0b01001 or 0b01011 => true,
            0b00110 or 0b00111 or 0b01000 or 0b01010 or 0b10000 or 0b10001 => size == 3,
            0b10110 => size == 1 || size == 2,
            _ => false,
        };
        if (!ok) return false;
        CpuState* s = state;
        int esize = 8 << size;
        ulong xa = ReadScalar(s, Rn(insn), esize), xb = ReadScalar(s, Rm(insn), esize);
        SimdElement.IntThreeSame(u, opc, xa, xb, 0, esize, ref s->Fpsr, out ulong r);
        WriteScalar(s, Rd(insn), r);
        return true;
    }

    // 01 U 11110 size 10000 opcode 10 Rn Rd
    public static void TwoRegMisc(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &TwoRegMiscCore);

    internal static bool TwoRegMiscCore(CpuState* state, uint insn)
    {
        bool u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 12) & 31;
        if (opc is 0b10010 or 0b10100)
        {
            // SQXTUN / SQXTN / UQXTN
            if (size == 3 || (opc == 0b10010 && !u)) return false;
            CpuState* ns = state;
            int esize = 8 << size;
            ulong w = ReadScalar(ns, Rn(insn), 2 * esize);
            ulong res = opc == 0b10010 || u
                ? SatUnsigned(Ext(w, 2 * esize, opc != 0b10010), esize, ref ns->Fpsr)
                : SatSigned(Ext(w, 2 * esize, false), esize, ref ns->Fpsr);
            WriteScalar(ns, Rd(insn), res);
            return true;
        }
        if (opc == 0b10110)
        {
            // FCVTXN (scalar): double to single, round to odd.
            if (!u || size != 1) return false;
            CpuState* cs = state;
            WriteScalar(cs, Rd(insn), FP.Convert(ReadScalar(cs, Rn(insn), 64), 64, 32, cs->Fpcr, FpRounding.Odd, ref cs->Fpsr));
            return true;
        }
        bool fp = opc >= 0b11000 || (opc >= 0b01100 && opc <= 0b01110);
        if (fp)
        {
            int n = (size & 1) != 0 ? 64 : 32;
            bool a = (size & 2) != 0;
            bool frecpx = opc == 0b11111 && !u && a;
            bool allowed = frecpx || opc is 0b11010 or 0b11011 or 0b01100 or 0b01101 or 0b01110 or 0b11101 ||
                           (opc == 0b11100 && !a);
            if (!allowed) return false;
            CpuState* fs = state;
            ulong x = ReadScalar(fs, Rn(insn), n), r;
            if (frecpx) r = FP.Recpx(x, n, fs->Fpcr, ref fs->Fpsr);
            else if (!SimdElement.FpMisc(u, a, opc, x, n, fs->Fpcr, ref fs->Fpsr, out r)) return false;
            WriteScalar(fs, Rd(insn), r);
            return true;
        }
        bool ok = opc switch
        {
            0b00011 or 0b00111 => true,
            0b01000 or 0b01001 or 0b01011 => size == 3,
            0b01010 => size == 3 && !u,
            _ => false,
        };
        if (!ok) return false;
        CpuState* s = state;
        int es = 8 << size;
        SimdElement.IntMisc(u, opc, ReadScalar(s, Rn(insn), es), ReadScalar(s, Rd(insn), es), es, ref s->Fpsr, out ulong ir);
        WriteScalar(s, Rd(insn), ir);
        return true;
    }

    // 01 U 11110 size 11000 opcode 10 Rn Rd
    public static void Pairwise(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &PairwiseCore);

    internal static bool PairwiseCore(CpuState* state, uint insn)
    {
        bool u = U(insn);
        int size = Size(insn);
        uint opc = (insn >> 12) & 31;
        if (!u)
        {
            if (opc != 0b11011 || size != 3) return false;
            CpuState* st = state;
            WriteScalar(st, Rd(insn), st->V[2 * Rn(insn)] + st->V[2 * Rn(insn) + 1]);   // ADDP Dd, Vn.2D
            return true;
        }
        int n = (size & 1) != 0 ? 64 : 32;
        bool a = (size & 2) != 0;
        // FMAXNMP 01100, FADDP 01101 (a=0 only), FMAXP 01111; the min forms set a.
        uint pairOpc = opc switch { 0b01100 => 0b000u, 0b01101 => 0b010u, 0b01111 => 0b110u, _ => 99u };
        if (pairOpc == 99 || (opc == 0b01101 && a)) return false;
        CpuState* s = state;
        V128 v = ReadV(s, Rn(insn));
        int es = n == 64 ? 3 : 2;
        SimdElement.FpPairOp(a, pairOpc, v.Get(0, es), v.Get(1, es), n, s->Fpcr, ref s->Fpsr, out ulong r);
        WriteScalar(s, Rd(insn), r);
        return true;
    }

    // 01 0 11110000 imm5 0 0000 1 Rn Rd: DUP (element) to scalar, alias MOV
    public static void Copy(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &CopyCore);

    internal static bool CopyCore(CpuState* s, uint insn)
    {
        uint imm5 = (insn >> 16) & 31;
        int size = System.Numerics.BitOperations.TrailingZeroCount(imm5 | 32);
        if (size > 3) return false;
        WriteScalar(s, Rd(insn), ReadV(s, Rn(insn)).Get((int)(imm5 >> (size + 1)), size));
        return true;
    }

    // 01 U 111110 immh immb opcode 1 Rn Rd
    public static void ShiftImmediate(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ShiftImmediateCore);

    internal static bool ShiftImmediateCore(CpuState* s, uint insn)
    {
        bool u = U(insn);
        uint immh = (insn >> 19) & 15, immhb = (insn >> 16) & 127, opc = (insn >> 11) & 31;
        int size = 3 - System.Numerics.BitOperations.LeadingZeroCount(immh) + 28;
        if (immh == 0 || !SimdVector.ShiftImmValid(u, opc, size, true, false)) return false;
        int esize = 8 << size;
        ulong r;
        if (opc is >= 0b10000 and <= 0b10011)
            r = SimdVector.NarrowShift(u, opc, ReadScalar(s, Rn(insn), 2 * esize), esize, 2 * esize - (int)immhb, ref s->Fpsr);
        else
            r = SimdVector.ShiftElement(u, opc, ReadScalar(s, Rn(insn), esize), ReadScalar(s, Rd(insn), esize), esize, immhb, s->Fpcr, ref s->Fpsr);
        WriteScalar(s, Rd(insn), r);
        return true;
    }

    // 01 U 11111 size L M Rm opcode H 0 Rn Rd
    public static void ByElement(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ByElementScalar);

    internal static bool ByElementScalar(CpuState* state, uint insn) => SimdVector.ByElementCore(state, insn, true);

    // 01 0 11110 size 1 Rm opcode 00 Rn Rd: SQDMLAL / SQDMLSL / SQDMULL (scalar)
    public static void ThreeDifferent(ArmCpu cpu, uint insn) => Guard.Run(cpu, insn, &ThreeDifferentCore);

    internal static bool ThreeDifferentCore(CpuState* s, uint insn)
    {
        int size = Size(insn);
        uint opc = (insn >> 12) & 15;
        if (U(insn) || (size != 1 && size != 2) || !(opc is 0b1001 or 0b1011 or 0b1101)) return false;
        int esize = 8 << size;
        Int128 a = Ext(ReadScalar(s, Rn(insn), esize), esize, false), b = Ext(ReadScalar(s, Rm(insn), esize), esize, false);
        ulong prod = SatSigned(2 * a * b, 2 * esize, ref s->Fpsr);
        ulong r = prod;
        if (opc != 0b1101)
        {
            Int128 acc = Ext(ReadScalar(s, Rd(insn), 2 * esize), 2 * esize, false), p = Ext(prod, 2 * esize, false);
            r = SatSigned(opc == 0b1001 ? acc + p : acc - p, 2 * esize, ref s->Fpsr);
        }
        WriteScalar(s, Rd(insn), r);
        return true;
    }
}
