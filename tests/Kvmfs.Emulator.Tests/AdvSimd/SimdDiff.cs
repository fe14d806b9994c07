using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Kvmfs.Emulator.Tests.AdvSimd;

/// <summary>The record simdrun.c reads and writes: registers in, registers out (600 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct SimdRecord
{
    public fixed ulong V[64];
    public fixed ulong X[8];
    public uint Insn, Fpcr, Nzcv, Fpsr, Undef, Pad;
}

/// <summary>
/// Random-instruction differential testing of the FP/AdvSIMD encoding classes against
/// qemu-aarch64-static: random words inside each class's pattern (Rd/Rn limited to 0-7 so general
/// registers stay within X0-X7), random register contents mixed with FP special values, random FPCR;
/// every register, FPSR, NZCV and the undefined/defined outcome must match.
/// </summary>
public static unsafe class SimdDiff
{
    /// <summary>The classes exercised: name, pattern (as in the decode table), and bits forced to zero/one for sane operands.</summary>
    public static readonly (string Name, string Pattern)[] Classes =
    {
        ("FP<->fixed", "x0011110 xx0xxxxx xxxxxxxx xxxxxxxx"),
        ("FP<->int", "x0011110 xx1xxxxx 000000xx xxxxxxxx"),
        ("FP 1-source", "00011110 xx1xxxxx x10000xx xxxxxxxx"),
        ("FP compare", "00011110 xx1xxxxx xx1000xx xxxxxxxx"),
        ("FP immediate", "00011110 xx1xxxxx xxx100xx xxxxxxxx"),
        ("FP cond compare", "00011110 xx1xxxxx xxxx01xx xxxxxxxx"),
        ("FP 2-source", "00011110 xx1xxxxx xxxx10xx xxxxxxxx"),
        ("FP cond select", "00011110 xx1xxxxx xxxx11xx xxxxxxxx"),
        ("FP 3-source", "00011111 xxxxxxxx xxxxxxxx xxxxxxxx"),
        ("SIMD three same", "0xx01110 xx1xxxxx xxxxx1xx xxxxxxxx"),
        ("SIMD three different", "0xx01110 xx1xxxxx xxxx00xx xxxxxxxx"),
        ("SIMD two-reg misc", "0xx01110 xx10000x xxxx10xx xxxxxxxx"),
        ("SIMD across lanes", "0xx01110 xx11000x xxxx10xx xxxxxxxx"),
        ("SIMD copy", "0xx01110 000xxxxx 0xxxx1xx xxxxxxxx"),
        ("SIMD permute", "0x001110 xx0xxxxx 0xxx10xx xxxxxxxx"),
        ("SIMD EXT", "0x101110 000xxxxx 0xxxx0xx xxxxxxxx"),
        ("SIMD TBL/TBX", "0x001110 000xxxxx 0xxx00xx xxxxxxxx"),
        ("SIMD modified immediate", "0xx01111 00000xxx xxxxx1xx xxxxxxxx"),
        ("SIMD shift by immediate", "0xx01111 0xxxxxxx xxxxx1xx xxxxxxxx"),
        ("SIMD by element", "0xx01111 xxxxxxxx xxxxx0xx xxxxxxxx"),
        ("SIMD scalar three same", "01x11110 xx1xxxxx xxxxx1xx xxxxxxxx"),
        ("SIMD scalar three different", "01x11110 xx1xxxxx xxxx00xx xxxxxxxx"),
        ("SIMD scalar two-reg misc", "01x11110 xx10000x xxxx10xx xxxxxxxx"),
        ("SIMD scalar pairwise", "01x11110 xx11000x xxxx10xx xxxxxxxx"),
        ("SIMD scalar copy", "01011110 000xxxxx 000001xx xxxxxxxx"),
        ("SIMD scalar shift by immediate", "01x11111 0xxxxxxx xxxxx1xx xxxxxxxx"),
        ("SIMD scalar by element", "01x11111 xxxxxxxx xxxxx0xx xxxxxxxx"),
        ("Crypto AES", "01001110 00101000 0xxx10xx xxxxxxxx"),
        ("Crypto SHA three-reg", "01011110 000xxxxx 0xxx00xx xxxxxxxx"),
        ("Crypto SHA two-reg", "01011110 00101000 0xxx10xx xxxxxxxx"),
    };

    static (uint mask, uint value) Parse(string pattern)
    {
        uint mask = 0, value = 0;
        int bit = 31;
        foreach (char c in pattern)
        {
            if (c == ' ') continue;
            if (c != 'x') { mask |= 1u << bit; if (c == '1') value |= 1u << bit; }
            bit--;
        }
        return (mask, value);
    }

    static readonly ulong[] Specials64 =
    {
        0, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000, 0x7FF0000000000000, 0xFFF0000000000000,
        0x7FF8000000000001, 0x7FF4000000000001, 0x0000000000000001, 0x000FFFFFFFFFFFFF, 0x7FEFFFFFFFFFFFFF,
        0x4330000000000001, 0x3FE0000000000000, 0x43E0000000000000, 0xC3E0000000000000, 0x41DFFFFFFFC00000,
    };
    static readonly uint[] Specials32 =
    {
        0, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000, 0x7FC00001, 0x7FA00001, 0x00000001,
        0x007FFFFF, 0x7F7FFFFF, 0x4B000001, 0x3F000000, 0x4F000000, 0xCF000000, 0x3FC00000, 0x40200000,
    };

    public static ulong RandomLane64(Random rng)
    {
        switch (rng.Next(8))
        {
            case 0: return Specials64[rng.Next(Specials64.Length)];
            case 1: return ((ulong)Specials32[rng.Next(Specials32.Length)] << 32) | Specials32[rng.Next(Specials32.Length)];
            case 2:
            {
                // Moderate doubles near 1.0 with short fractions: exact results, ties and cancellations.
                ulong exp = (ulong)(1023 - 4 + rng.Next(9));
                return ((ulong)rng.Next(2) << 63) | (exp << 52) | ((ulong)rng.NextInt64() & 0xFFFF_0000_0000_0000 >> 12);
            }
            case 3:
            {
                uint Lane() => ((uint)rng.Next(2) << 31) | ((uint)(127 - 4 + rng.Next(9)) << 23) | ((uint)rng.Next() & 0x7F0000);
                return ((ulong)Lane() << 32) | Lane();
            }
            case 4: return (ulong)rng.Next(256) * 0x0101010101010101UL ^ (ulong)rng.Next(4);    // small bytes, e.g. TBL indices
            default: return (ulong)rng.NextInt64() ^ ((ulong)rng.Next() << 63);
        }
    }

    public static readonly uint[] Fpcrs = { 0, 1u << 22, 2u << 22, 3u << 22, 1u << 24, 1u << 25, 1u << 26, (1u << 24) | (1u << 25) | (2u << 22) };

    static SimdRecord RandomState(Random rng, uint word, bool randomFpcr)
    {
        var r = new SimdRecord { Insn = word };
        r.Fpcr = randomFpcr ? Fpcrs[rng.Next(Fpcrs.Length)] : 0;
        r.Nzcv = (uint)rng.Next(16) << 28;
        for (int k = 0; k < 64; k++) r.V[k] = RandomLane64(rng);
        for (int k = 0; k < 8; k++) r.X[k] = RandomLane64(rng);
        return r;
    }

    /// <summary>Assembles directed.s (the instruction forms real programs use) and returns its words.</summary>
    public static uint[] AssembleDirected(string sourceDir)
    {
        string obj = Path.Combine(Path.GetTempPath(), $"kvmfs-directed-{Environment.ProcessId}");
        try
        {
            Run("aarch64-linux-gnu-as", $"-o {obj}.o {Path.Combine(sourceDir, "directed.s")}", null);
            Run("aarch64-linux-gnu-objcopy", $"-O binary -j .text {obj}.o {obj}.bin", null);
            return MemoryMarshal.Cast<byte, uint>(File.ReadAllBytes(obj + ".bin")).ToArray();
        }
        finally
        {
            File.Delete(obj + ".o");
            File.Delete(obj + ".bin");
        }
    }

    /// <summary>Each directed word from perWord random register states (a third of them under a random FPCR).</summary>
    public static SimdRecord[] GenerateDirected(uint[] words, int seed, int perWord)
    {
        var rng = new Random(seed);
        var list = new List<SimdRecord>();
        foreach (uint w in words)
            for (int i = 0; i < perWord; i++) list.Add(RandomState(rng, w, i % 3 == 0));
        return list.ToArray();
    }

    /// <summary>
    /// perClass random words inside each class pattern. When isDefined is given, 3 in 4 words are
    /// redrawn (up to 64 times) until our decoder accepts them, so the defined space is exercised; the
    /// rest stay uniformly random so that wrongly UNDEFINED encodings are still found.
    /// </summary>
    public static SimdRecord[] Generate(int seed, int perClass, Func<uint, bool>? isDefined = null)
    {
        var rng = new Random(seed);
        var list = new List<SimdRecord>();
        foreach (var (_, pattern) in Classes)
        {
            var (mask, value) = Parse(pattern);
            for (int i = 0; i < perClass; i++)
            {
                uint word = 0;
                int tries = isDefined != null && i % 4 != 0 ? 64 : 1;
                for (int t = 0; t < tries; t++)
                {
                    word = value | ((uint)rng.NextInt64() & ~mask);
                    word &= ~0x18u;           // Rd in 0..7
                    word &= ~(0x18u << 5);    // Rn in 0..7
                    if (isDefined == null || isDefined(word)) break;
                }
                list.Add(RandomState(rng, word, i % 3 == 0));
            }
        }
        return list.ToArray();
    }

    /// <summary>Runs the records through simdrun under qemu-aarch64-static and returns the results.</summary>
    public static SimdRecord[] RunQemu(SimdRecord[] input, string sourceDir)
    {
        string exe = Path.Combine(Path.GetTempPath(), $"kvmfs-simdrun-{Environment.ProcessId}");
        string inFile = exe + ".in";
        try
        {
            Run("aarch64-linux-gnu-gcc", $"-O1 -static -o {exe} {Path.Combine(sourceDir, "simdrun.c")}", null);
            var bytes = MemoryMarshal.AsBytes(input.AsSpan()).ToArray();
            File.WriteAllBytes(inFile, bytes);
            var output = Run("/bin/sh", $"-c \"qemu-aarch64-static -cpu cortex-a57 {exe} < {inFile}\"", null);
            if (output.Length != bytes.Length) throw new InvalidOperationException($"simdrun returned {output.Length} bytes, expected {bytes.Length}");
            return MemoryMarshal.Cast<byte, SimdRecord>(output).ToArray();
        }
        finally
        {
            File.Delete(exe);
            File.Delete(inFile);
        }
    }

    public static byte[] Run(string file, string args, byte[]? stdin)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        using var ms = new MemoryStream();
        p.StandardOutput.BaseStream.CopyTo(ms);
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} failed ({p.ExitCode}): {err.Result}");
        return ms.ToArray();
    }

    /// <summary>Compares one result; returns null when equal, else a description.</summary>
    public static string? Compare(in SimdRecord expected, in SimdRecord actual)
    {
        if (expected.Undef != actual.Undef)
            return $"insn {expected.Insn:x8}: qemu {(expected.Undef != 0 ? "UNDEFINED" : "executes")}, ours {(actual.Undef != 0 ? "UNDEFINED" : "executes")}";
        if (expected.Undef != 0) return null;
        var sb = new System.Text.StringBuilder();
        for (int k = 0; k < 64; k++)
            if (expected.V[k] != actual.V[k]) sb.Append($" V{k / 2}.{(k & 1) switch { 0 => "lo", _ => "hi" }} {expected.V[k]:x16}/{actual.V[k]:x16}");
        for (int k = 0; k < 8; k++)
            if (expected.X[k] != actual.X[k]) sb.Append($" X{k} {expected.X[k]:x16}/{actual.X[k]:x16}");
        if (expected.Fpsr != actual.Fpsr) sb.Append($" FPSR {expected.Fpsr:x}/{actual.Fpsr:x}");
        if (expected.Nzcv != actual.Nzcv) sb.Append($" NZCV {expected.Nzcv:x}/{actual.Nzcv:x}");
        return sb.Length == 0 ? null : $"insn {expected.Insn:x8} fpcr {expected.Fpcr:x}: (qemu/ours){sb}";
    }

    public static string ClassOf(uint insn)
    {
        // The most specific matching pattern, as the decode table picks it.
        string best = "?";
        int bestBits = -1;
        foreach (var (name, pattern) in Classes)
        {
            var (mask, value) = Parse(pattern);
            if ((insn & mask) == value && System.Numerics.BitOperations.PopCount(mask) > bestBits)
            {
                best = name;
                bestBits = System.Numerics.BitOperations.PopCount(mask);
            }
        }
        return best;
    }
}
