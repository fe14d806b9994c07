using Kvmfs.Emulator.Cpu.AdvSimd;

namespace Kvmfs.Emulator.Tests.AdvSimd;

/// <summary>Shape of the FP/AdvSIMD decode lines: inside the SIMD&amp;FP data-processing space, never ambiguous.</summary>
public class FpSimdTableTests
{
    [Fact]
    public void EveryLineIsInTheScalarFpAndAdvSimdDataProcessingSpace()
    {
        // A64 top level: op0 (bits 28:25) = x111 is "Data Processing -- Scalar FP and Advanced SIMD".
        foreach (var line in FpSimdTable.Lines)
        {
            Assert.True((line.Mask & 0x0E00_0000) == 0x0E00_0000, $"{line.Name} does not fix bits 27:25");
            Assert.True((line.Value & 0x0E00_0000) == 0x0E00_0000, $"{line.Name} is outside op0 = x111");
        }
    }

    [Fact]
    public void NoWordMatchesTwoLinesOfEqualSpecificity()
    {
        var rng = new Random(3);
        var lines = FpSimdTable.Lines;
        for (int i = 0; i < 200_000; i++)
        {
            uint w = (uint)rng.NextInt64() | 0x0E00_0000;
            int best = -1, count = 0;
            foreach (var l in lines)
            {
                if ((w & l.Mask) != l.Value) continue;
                int bits = System.Numerics.BitOperations.PopCount(l.Mask);
                if (bits > best) { best = bits; count = 1; }
                else if (bits == best) count++;
            }
            Assert.True(count <= 1, $"word {w:x8} matches {count} lines with {best} fixed bits");
        }
    }
}
