using System.Text;

namespace Kvmfs.Emulator.Tests.User;

/// <summary>
/// Debian's busybox-static (arm64) on the emulator against qemu-aarch64-static: the same applets on the
/// same seeded inputs (~180 KB of text, 160 KB of binary) must give byte-identical stdout and the same
/// exit status. Needs qemu-aarch64-static and .cache/guest/busybox (make setup); ~30 s.
/// </summary>
[Trait("Category", "Qemu")]
public class BusyboxDifferentialTests
{
    static readonly string Bb = UserHarness.Busybox;
    static readonly Lazy<(string Text, string Binary)> inputs = new(MakeInputs);
    static string Text => inputs.Value.Text;
    static string Binary => inputs.Value.Binary;

    /// <summary>Deterministic inputs from a fixed xorshift seed: text records "word int float tag" and mixed binary.</summary>
    static (string, string) MakeInputs()
    {
        ulong s = 0x2545F4914F6CDD1DUL;
        ulong Next() { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return s; }
        string[] words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima", "mike", "quebec", "zulu"];
        var text = new StringBuilder();
        for (int i = 0; i < 6000; i++)
        {
            long n = (long)(Next() % 200001) - 100000;
            double f = (long)(Next() % 2_000_000) / 1000.0 - 1000.0;
            text.Append(words[Next() % (ulong)words.Length]).Append(' ').Append(n).Append(' ')
                .Append(f.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)).Append(' ')
                .Append(words[Next() % (ulong)words.Length]).Append(Next() % 100).Append('\n');
        }
        var bin = new byte[160 * 1024];
        for (int i = 0; i < bin.Length; i++)
        {
            // Half noise, half runs and small values: both compressors have work to do.
            ulong r = Next();
            bin[i] = (i / 4096) % 2 == 0 ? (byte)r : (byte)((ulong)(i / 64 % 7) + r % 3);
        }
        string textPath = Path.Combine(UserHarness.TempDir, "text.txt"), binPath = Path.Combine(UserHarness.TempDir, "data.bin");
        File.WriteAllText(textPath, text.ToString());
        File.WriteAllBytes(binPath, bin);
        return (textPath, binPath);
    }

    static RunOutput Same(params string[] args) => UserHarness.AssertSame(Bb, [Bb, .. args]);
    static RunOutput SameWithStdin(string stdin, params string[] args) => UserHarness.AssertSame(Bb, [Bb, .. args], stdin);

    [BusyboxFact]
    public void Sha256sum()
    {
        var r = Same("sha256sum", Text, Binary);
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Binary))), r.Text);
    }

    [BusyboxFact]
    public void Md5sumOfFilesAndStdin()
    {
        var r = Same("md5sum", Text, Binary);
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(File.ReadAllBytes(Text))), r.Text);
        SameWithStdin(Binary, "md5sum");
    }

    [BusyboxFact]
    public void GzipCompressedBytesAndRoundTrip()
    {
        var text = Same("gzip", "-c", "-n", Text);
        Same("gzip", "-9", "-c", "-n", Binary);
        string gz = Path.Combine(UserHarness.TempDir, "ours.gz");
        File.WriteAllBytes(gz, text.Stdout);
        var back = Same("gunzip", "-c", gz);
        Assert.Equal(File.ReadAllBytes(Text), back.Stdout);
    }

    [BusyboxFact]
    public void Bzip2CompressedBytesAndRoundTrip()
    {
        // bzip2 is the slowest applet here: a 48 KB slice of the text keeps the test short.
        string slice = Path.Combine(UserHarness.TempDir, "slice.txt");
        File.WriteAllBytes(slice, File.ReadAllBytes(Text)[..(48 * 1024)]);
        var z = SameWithStdin(slice, "bzip2", "-c");
        string bz = Path.Combine(UserHarness.TempDir, "ours.bz2");
        File.WriteAllBytes(bz, z.Stdout);
        var back = Same("bunzip2", "-c", bz);
        Assert.Equal(File.ReadAllBytes(slice), back.Stdout);
    }

    [BusyboxFact]
    public void AwkFloatingPoint()
    {
        // This busybox is built without awk's math library (sin/exp/sqrt are refused, identically on both):
        // the floating point here is parsing, arithmetic and printf formatting.
        var r = Same("awk", "{ s += $3; w += $2 * $3; d += $2 / ($3 == 0 ? 1 : $3); n++ } " +
            "END { printf \"%.6f %.6f %.6e %d %.10g %g\\n\", s, w / n, d, n, s / 7, 1 / 3 }", Text);
        Assert.Matches(@"^-?\d+\.\d{6} ", r.Text);
        Same("awk", "BEGIN { for (i = 1; i <= 3000; i++) { h += 1 / i; q += (i % 7) * 1.25e-3; p *= 1.0001 } printf \"%.12f %.9f %.3e\\n\", h, q, p + 1e300 * 1e10 }");
        Same("awk", "-F", " ", "$2 > 50000 && $3 < 0 { c++; t += $3 } END { printf \"%d %.4f\\n\", c, t }", Text);
    }

    [BusyboxFact]
    public void Sort()
    {
        Same("sort", Text);
        Same("sort", "-n", "-k", "2", Text);
        Same("sort", "-r", "-k", "1,1", "-k", "2n", Text);
        SameWithStdin(Text, "sort", "-u", "-n", "-r", "-k", "3");
    }

    [BusyboxFact]
    public void Sed()
    {
        Same("sed", "-E", "s/([a-z]+) (-?[0-9]+)/\\2:\\1/; /7$/d", Text);
        Same("sed", "-n", "-e", "/^q/{s/[aeiou]/#/g;p}", "-e", "$=", Text);
        SameWithStdin(Text, "sed", "y/abcdefghij/ABCDEFGHIJ/");
    }

    [BusyboxFact]
    public void Od()
    {
        Same("od", "-A", "x", "-t", "x1", Binary);
        Same("od", "-A", "x", "-c", "-N", "8192", Text);
        // Debian's busybox od has no 'z' (printable-characters) suffix: both must refuse it the same way.
        var r = Same("od", "-A", "x", "-t", "x1z", Binary);
        Assert.NotEqual(0, r.ExitStatus);
    }

    [BusyboxFact]
    public void Dc()
    {
        var r = Same("dc", "-e", "2 100 ^ p 20 k 2 v p");
        Assert.StartsWith("1267650600228229401496703205376\n1.41421356237309504880\n", r.Text);
        Same("dc", "-e", "60 [d1-d1<F*]dsFx p 7 k 1 3 / p 355 113 / p");
    }

    /// <summary>More applets, each a different mix of instructions: other digests (SHA-1/512/3 rotate and
    /// shift 64-bit words), LZO compression, bignum-free factoring, printf/seq number formatting.</summary>
    [BusyboxFact]
    public void OtherApplets()
    {
        string slice = Path.Combine(UserHarness.TempDir, "slice-xz.txt");
        File.WriteAllBytes(slice, File.ReadAllBytes(Text)[..(32 * 1024)]);
        Same("sha1sum", slice, Binary);
        Same("sha512sum", slice, Binary);
        Same("sha3sum", slice);
        Same("cksum", slice);
        // This busybox's xz only decompresses; lzop does both.
        var lzo = Same("lzop", "-c", slice);
        string lzoPath = Path.Combine(UserHarness.TempDir, "ours.lzo");
        File.WriteAllBytes(lzoPath, lzo.Stdout);
        Assert.Equal(File.ReadAllBytes(slice), Same("lzop", "-dc", lzoPath).Stdout);
        Same("base64", Binary);
        Same("factor", "1234567890123", "600851475143", "4294967291", "9007199254740881");
        Same("seq", "-1.5", "0.37", "20");
        Same("printf", "%f %e %g %x %o %.3s|%-8d|%08.3f\n", "3.14159", "2.5e-10", "1e20", "255", "8", "abcdef", "-42", "-2.71828");
        Same("wc", Text, Binary);
        Same("expr", "123456789", "*", "987654321", "%", "1000003");
        SameWithStdin(slice, "tr", "a-z", "N-ZA-Mn-za-m");
    }
}
