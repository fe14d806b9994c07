using Kvmfs.Emulator.Fpu;

namespace Kvmfs.Emulator.Tests.Fpu;

/// <summary>Hand-checked cases of the FP library (values worked out from the Arm pseudo-code).</summary>
public class FpUnitTests
{
    static ulong D(double v) => BitConverter.DoubleToUInt64Bits(v);
    static ulong S(float v) => BitConverter.SingleToUInt32Bits(v);
    const uint RN = 0, RP = 1u << 22, RM = 2u << 22, RZ = 3u << 22;

    [Fact]
    public void AddRoundsTiesToEvenAndFlagsInexact()
    {
        uint fpsr = 0;
        // 1 + 2^-53 is exactly half an ulp above 1.0: ties to even gives 1.0.
        Assert.Equal(D(1.0), FP.Add(D(1.0), D(Math.Pow(2, -53)), 64, RN, ref fpsr));
        Assert.Equal(Fpsr.Ixc, fpsr);
        fpsr = 0;
        Assert.Equal(D(1.0) + 1, FP.Add(D(1.0), D(Math.Pow(2, -53)), 64, RP, ref fpsr));
        Assert.Equal(Fpsr.Ixc, fpsr);
        fpsr = 0;
        Assert.Equal(D(3.0), FP.Add(D(1.0), D(2.0), 64, RN, ref fpsr));
        Assert.Equal(0u, fpsr);
    }

    [Fact]
    public void ExactZeroSumIsNegativeOnlyWhenRoundingDown()
    {
        uint fpsr = 0;
        Assert.Equal(D(0.0), FP.Sub(D(1.5), D(1.5), 64, RN, ref fpsr));
        Assert.Equal(D(-0.0), FP.Sub(D(1.5), D(1.5), 64, RM, ref fpsr));
        Assert.Equal(S(-0.0f), FP.Add(S(-0.0f), S(-0.0f), 32, RN, ref fpsr));
    }

    [Fact]
    public void NaNPropagationPrefersSignallingThenFirstOperand()
    {
        uint fpsr = 0;
        ulong qnan1 = 0x7FF8_0000_0000_0001, snan2 = 0x7FF0_0000_0000_0002;
        Assert.Equal(0x7FF8_0000_0000_0002UL, FP.Add(qnan1, snan2, 64, RN, ref fpsr));
        Assert.Equal(Fpsr.Ioc, fpsr);
        fpsr = 0;
        Assert.Equal(qnan1, FP.Mul(qnan1, 0x7FF8_0000_0000_0009UL, 64, RN, ref fpsr));
        Assert.Equal(0u, fpsr);
        // Default NaN mode.
        Assert.Equal(0x7FC0_0000UL, FP.Add(0x7FC0_1234UL, S(1f), 32, Fpcr.Dn, ref fpsr));
    }

    [Fact]
    public void FlushToZeroFlagsInputDenormalAndFlushedUnderflow()
    {
        uint fpsr = 0;
        Assert.Equal(D(1.0), FP.Add(D(1.0), 1, 64, Fpcr.Fz, ref fpsr));
        Assert.Equal(Fpsr.Idc, fpsr);
        fpsr = 0;
        double tinyNormal = BitConverter.UInt64BitsToDouble(0x0010_0000_0000_0000);
        Assert.Equal(0UL, FP.Mul(D(tinyNormal), D(0.5), 64, Fpcr.Fz, ref fpsr));
        Assert.Equal(Fpsr.Ufc, fpsr);
        fpsr = 0;
        // Without FZ the same exact halving is a denormal: exact, so no underflow flag.
        Assert.Equal(0x0008_0000_0000_0000UL, FP.Mul(D(tinyNormal), D(0.5), 64, RN, ref fpsr));
        Assert.Equal(0u, fpsr);
    }

    [Fact]
    public void OverflowDependsOnRoundingMode()
    {
        uint fpsr = 0;
        Assert.Equal(D(double.PositiveInfinity), FP.Mul(D(double.MaxValue), D(2.0), 64, RN, ref fpsr));
        Assert.Equal(Fpsr.Ofc | Fpsr.Ixc, fpsr);
        Assert.Equal(D(double.MaxValue), FP.Mul(D(double.MaxValue), D(2.0), 64, RZ, ref fpsr));
        Assert.Equal(D(-double.MaxValue), FP.Mul(D(double.MaxValue), D(-2.0), 64, RP, ref fpsr));
    }

    [Fact]
    public void FusedMultiplyAddRoundsOnce()
    {
        uint fpsr = 0;
        double a = 1.0 + Math.Pow(2, -30);
        // a*a - (1 + 2^-29) = 2^-60 exactly; an unfused multiply would lose it.
        ulong r = FP.MulAdd(D(-(1.0 + Math.Pow(2, -29))), D(a), D(a), 64, RN, ref fpsr);
        Assert.Equal(D(Math.Pow(2, -60)), r);
        Assert.Equal(0u, fpsr);
        // inf*0 + qNaN is still invalid.
        fpsr = 0;
        Assert.Equal(0x7FF8_0000_0000_0000UL, FP.MulAdd(0x7FF8_0000_0000_0001, D(double.PositiveInfinity), 0, 64, RN, ref fpsr));
        Assert.Equal(Fpsr.Ioc, fpsr);
    }

    [Fact]
    public void CompareReturnsNzcv()
    {
        uint fpsr = 0;
        Assert.Equal(0b0110u, FP.Compare(D(0.0), D(-0.0), 64, false, RN, ref fpsr));
        Assert.Equal(0b1000u, FP.Compare(D(-1.0), D(2.0), 64, false, RN, ref fpsr));
        Assert.Equal(0b0010u, FP.Compare(D(3.0), D(2.0), 64, false, RN, ref fpsr));
        Assert.Equal(0u, fpsr);
        Assert.Equal(0b0011u, FP.Compare(0x7FF8_0000_0000_0000, D(2.0), 64, false, RN, ref fpsr));
        Assert.Equal(0u, fpsr);
        Assert.Equal(0b0011u, FP.Compare(0x7FF8_0000_0000_0000, D(2.0), 64, true, RN, ref fpsr));
        Assert.Equal(Fpsr.Ioc, fpsr);
    }

    [Fact]
    public void ConversionsToIntegerSaturateAndRound()
    {
        uint fpsr = 0;
        Assert.Equal(0x7FFF_FFFFUL, FP.ToFixed(D(1e10), 64, 0, false, 32, RN, FpRounding.Zero, ref fpsr));
        Assert.Equal(Fpsr.Ioc, fpsr);
        fpsr = 0;
        Assert.Equal(unchecked((ulong)-2L), FP.ToFixed(D(-2.5), 64, 0, false, 64, RN, FpRounding.TieEven, ref fpsr));
        Assert.Equal(Fpsr.Ixc, fpsr);
        Assert.Equal(unchecked((ulong)-3L), FP.ToFixed(D(-2.5), 64, 0, false, 64, RN, FpRounding.TieAway, ref fpsr));
        Assert.Equal(0UL, FP.ToFixed(D(double.NaN), 64, 0, false, 64, RN, FpRounding.Zero, ref fpsr));
        fpsr = 0;
        // 2^53 + 1 does not fit a double: SCVTF rounds to even.
        Assert.Equal(D(9007199254740992.0), FP.FromFixed((1UL << 53) + 1, 64, 0, false, 64, RN, FpRounding.TieEven, ref fpsr));
        Assert.Equal(Fpsr.Ixc, fpsr);
    }

    [Fact]
    public void RoundIntHonoursModesAndExactness()
    {
        uint fpsr = 0;
        Assert.Equal(D(2.0), FP.RoundInt(D(2.5), 64, RN, FpRounding.TieEven, false, ref fpsr));
        Assert.Equal(D(3.0), FP.RoundInt(D(2.5), 64, RN, FpRounding.TieAway, false, ref fpsr));
        Assert.Equal(D(-0.0), FP.RoundInt(D(-0.3), 64, RN, FpRounding.Zero, false, ref fpsr));
        Assert.Equal(0u, fpsr);
        Assert.Equal(D(-1.0), FP.RoundInt(D(-0.3), 64, RN, FpRounding.NegInf, true, ref fpsr));
        Assert.Equal(Fpsr.Ixc, fpsr);
    }

    [Fact]
    public void HalfPrecisionConversions()
    {
        uint fpsr = 0;
        Assert.Equal(0x3C00UL, FP.Convert(S(1f), 32, 16, RN, FpRounding.TieEven, ref fpsr));
        Assert.Equal(0x7C00UL, FP.Convert(S(65520f), 32, 16, RN, FpRounding.TieEven, ref fpsr));
        Assert.Equal(Fpsr.Ofc | Fpsr.Ixc, fpsr);
        fpsr = 0;
        // Alternative half precision: exponent 31 is a normal number, infinity saturates with IOC.
        Assert.Equal(S(65536f), FP.Convert(0x7C00, 16, 32, Fpcr.Ahp, FpRounding.TieEven, ref fpsr));
        Assert.Equal(0x7FFFUL, FP.Convert(S(float.PositiveInfinity), 32, 16, Fpcr.Ahp, FpRounding.TieEven, ref fpsr));
        Assert.Equal(Fpsr.Ioc, fpsr);
    }

    [Fact]
    public void EstimatesMatchTheArchitectedTables()
    {
        uint fpsr = 0;
        // FRECPE(1.0) = 0.998046875 and FRSQRTE(1.0) = 0.998046875 (the 8-bit estimates for 0.5..1).
        Assert.Equal(S(0.998046875f), FP.RecipEstimate(S(1f), 32, RN, ref fpsr));
        Assert.Equal(S(0.998046875f), FP.RSqrtEstimate(S(1f), 32, RN, ref fpsr));
        Assert.Equal(0u, fpsr);
        Assert.Equal(S(float.PositiveInfinity), FP.RecipEstimate(0, 32, RN, ref fpsr));
        Assert.Equal(Fpsr.Dzc, fpsr);
    }
}
