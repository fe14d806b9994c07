using System.Diagnostics;
using Kvmfs.Emulator.Fpu;

namespace Kvmfs.Emulator.Tests.Fpu;

/// <summary>
/// Differential test of the FP library against qemu-aarch64-static: fpdiff.c runs ~140 scalar FP
/// instruction forms over interesting operands (zeros, denormals, infinities, NaNs with payloads,
/// extremes, halfway cases, random short-fraction values) under nine FPCR settings (every RMode,
/// FZ, DN, AHP) and prints the result bits and FPSR; every line must match the C# library.
/// Needs aarch64-linux-gnu-gcc and qemu-aarch64-static (installed by `make setup`); takes ~10 s.
/// </summary>
public class FpDifferentialTests
{
    [Fact]
    [Trait("Category", "Qemu")]
    public void ScalarOperationsMatchQemu()
    {
        string source = Path.Combine(SourceDirectory(), "fpdiff.c");
        string exe = Path.Combine(Path.GetTempPath(), $"kvmfs-fpdiff-{Environment.ProcessId}");
        try
        {
            Run("aarch64-linux-gnu-gcc", $"-O1 -static -o {exe} {source}", out _);
            Run("qemu-aarch64-static", exe, out string output);
            int lines = 0, mismatches = 0;
            var report = new System.Text.StringBuilder();
            var seen = new HashSet<string>();
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var p = line.Split(' ');
                uint fpcr = Convert.ToUInt32(p[1], 16);
                ulong a = Convert.ToUInt64(p[2], 16), b = Convert.ToUInt64(p[3], 16), c = Convert.ToUInt64(p[4], 16);
                ulong expected = Convert.ToUInt64(p[5], 16);
                uint expectedFpsr = Convert.ToUInt32(p[6], 16);
                Assert.True(FpReference.TryCompute(p[0], fpcr, a, b, c, out ulong r, out uint fpsr), "unknown op " + p[0]);
                seen.Add(p[0]);
                lines++;
                if (r != expected || fpsr != expectedFpsr)
                {
                    if (mismatches++ < 20) report.AppendLine($"{line}  ->  ours {r:x} fpsr {fpsr:x}");
                }
            }
            Assert.True(lines > 1_000_000, $"only {lines} lines from the oracle");
            Assert.True(seen.Count > 130, $"only {seen.Count} operations");
            Assert.True(mismatches == 0, $"{mismatches} of {lines} differ:\n{report}");
        }
        finally
        {
            File.Delete(exe);
        }
    }

    // The C oracle sits next to this file in the source tree (it is not copied to the build output).
    static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    static void Run(string file, string args, out string stdout)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{file} {args} failed ({p.ExitCode}): {err.Result}");
    }
}
