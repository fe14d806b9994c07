using System.Runtime.CompilerServices;
using Xunit.Abstractions;

namespace Kvmfs.Emulator.Tests.AdvSimd;

/// <summary>
/// The FP and AdvSIMD instructions, executed one at a time by a real ArmCpu at EL0, against qemu-aarch64-static (-cpu cortex-a57, an ARMv8.0
/// core with the same optional features as ours): (1) random words inside every encoding class,
/// (2) the directed list in directed.s (the forms glibc, busybox and vectorised gcc code use), each
/// from random register states and FPCR settings. Every V register, X0-X7, FPSR, NZCV and the
/// defined/UNDEFINED outcome must match. Prints the coverage by encoding class.
/// Needs aarch64-linux-gnu-gcc/as and qemu-aarch64-static (`make setup`); takes ~10 s.
/// </summary>
public class SimdDifferentialTests(ITestOutputHelper output)
{
    static string SourceDirectory([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    [Fact]
    [Trait("Category", "Qemu")]
    public void RandomEncodingsPerClassMatchQemu()
    {
        var input = SimdDiff.Generate(20261125, 1500, SimdHarness.IsDefined);
        Check(input, SimdDiff.ClassOf);
    }

    [Fact]
    [Trait("Category", "Qemu")]
    public void DirectedInstructionsMatchQemu()
    {
        uint[] words = SimdDiff.AssembleDirected(SourceDirectory());
        Assert.True(words.Length > 250, $"directed.s gave only {words.Length} instructions");
        var input = SimdDiff.GenerateDirected(words, 42, 24);
        Check(input, w => $"{w:x8}");
    }

    void Check(SimdRecord[] input, Func<uint, string> group)
    {
        var expected = SimdDiff.RunQemu(input, SourceDirectory());
        using var armCpu = new SimdHarness.OnArmCpu();
        var total = new SortedDictionary<string, (int cases, int defined, int bad)>();
        var report = new System.Text.StringBuilder();
        int bad = 0;
        for (int i = 0; i < input.Length; i++)
        {
            var actual = input[i];
            armCpu.Execute(ref actual);
            string g = group(input[i].Insn);
            var t = total.GetValueOrDefault(g);
            t.cases++;
            if (expected[i].Undef == 0) t.defined++;
            string? diff = SimdDiff.Compare(expected[i], actual);
            if (diff != null)
            {
                t.bad++;
                if (bad++ < 30) report.AppendLine($"{SimdDiff.ClassOf(input[i].Insn)}: {diff}");
            }
            total[g] = t;
        }
        if (total.Count < 40)
            foreach (var (g, t) in total)
                output.WriteLine($"{g,-32} {t.cases,6} cases {t.defined,6} defined {t.bad,4} mismatches");
        else
            output.WriteLine($"{total.Count} instructions, {input.Length} cases, {bad} mismatches");
        Assert.True(bad == 0, $"{bad} of {input.Length} differ from qemu:\n{report}");
    }
}
