using System.Diagnostics;
using System.Text.RegularExpressions;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Tests.User;
using Xunit.Abstractions;

namespace Kvmfs.Emulator.Tests.Cpu;

/// <summary>
/// Every instruction word in Debian's busybox-static (arm64) .text, disassembled with aarch64-linux-gnu-objdump:
/// (1) it must match a line of the decode table, and (2) executed once at EL0 from a neutral register state it
/// must not raise Undefined — unless its mnemonic belongs to an extension this ARMv8.0 core does not advertise
/// (glibc carries SVE/MTE/LSE/MOPS variants behind HWCAP checks and never runs them here). Prints the per-mnemonic
/// coverage. Needs binutils-aarch64 and .cache/guest/busybox (make setup); ~5 s.
/// </summary>
public unsafe partial class BusyboxDecodeTests(ITestOutputHelper output)
{
    /// <summary>Mnemonics of unadvertised extensions, and words that are UNDEFINED on purpose (udf), with the reason.</summary>
    static readonly Dictionary<string, string> NotImplemented = new()
    {
        ["sve"] = "SVE (ID_AA64PFR0.SVE = 0)",
        ["mte"] = "MTE (ID_AA64PFR1.MTE = 0)",
        ["lse"] = "LSE atomics (ID_AA64ISAR0.Atomic = 0)",
        ["mops"] = "FEAT_MOPS memcpy/memset (ID_AA64ISAR2.MOPS = 0)",
        ["udf"] = "permanently undefined",
    };

    static string? Extension(string m)
    {
        if (m == "udf" || m == ".inst") return "udf";
        if (m is "ldg" or "stg" or "st2g" or "stzg" or "stz2g" or "irg" or "gmi" or "addg" or "subg" or "subp" or "subps" or "ldgm" or "stgm" or "stzgm" or "stgp") return "mte";
        if (m.StartsWith("cas") || m.StartsWith("swp") || m.StartsWith("ldadd") || m.StartsWith("ldset") || m.StartsWith("ldclr")
            || m.StartsWith("ldeor") || m.StartsWith("ldsmax") || m.StartsWith("ldsmin") || m.StartsWith("ldumax") || m.StartsWith("ldumin")
            || m.StartsWith("stadd") || m.StartsWith("stset") || m.StartsWith("stclr") || m.StartsWith("steor")) return "lse";
        if (m.StartsWith("cpy") || m is "setp" or "setm" or "sete" or "setpn" or "setmn" or "seten") return "mops";
        if (m is "whilelo" or "whilelt" or "ptrue" or "ptest" or "cntb" or "cntd" or "cnth" or "cntw" or "incb" or "incd" or "addvl" or "rdvl"
            || Regex.IsMatch(m, "^(ld|st)[1-4][bhwd]$") || Regex.IsMatch(m, "^ld1r[bhwd]$") || m.StartsWith("ldff1") || m.StartsWith("ldnf1")) return "sve";
        return null;
    }

    [BusyboxFact]
    [Trait("Category", "Qemu")]
    public void EveryBusyboxInstructionDecodesAndExecutes()
    {
        var words = Disassemble(UserHarness.Busybox);
        Assert.True(words.Count > 50_000, $"only {words.Count} distinct words disassembled");
        var table = A64Table.Default;
        var perMnemonic = new SortedDictionary<string, (int words, int unmatched, int undefined)>();
        using var mem = new FlatMemory();
        using var cpu = new ArmCpu(mem);
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        var failures = new List<string>();
        foreach (var (word, mnemonic) in words)
        {
            var t = perMnemonic.GetValueOrDefault(mnemonic);
            t.words++;
            bool matched = table.Find(word) != null;
            if (!matched) t.unmatched++;
            else if (RaisesUndefinedAtEl0(cpu, mem, sup, word)) t.undefined++;
            perMnemonic[mnemonic] = t;
            if ((!matched || t.undefined > 0) && Extension(mnemonic) == null && !IsSve(word) && failures.Count < 40 && !IsEl0SystemAccess(word))
                if (!matched || t.undefined == 1) failures.Add($"{word:x8} {mnemonic}: {(matched ? "Undefined when executed" : "no table line")}");
        }
        int total = 0, unmatched = 0, undefined = 0;
        foreach (var (m, t) in perMnemonic)
        {
            total += t.words; unmatched += t.unmatched; undefined += t.undefined;
            if (t.unmatched + t.undefined > 0)
                output.WriteLine($"{m,-10} {t.words,6} words {t.unmatched,6} without a table line {t.undefined,6} Undefined at EL0   {(Extension(m) is string e ? NotImplemented[e] : m is "mov" ? "SVE alias (mov z.b, w)" : m is "mrs" or "dc" ? "MRS MIDR_EL1 (Linux emulates it for EL0) / DC GVA, GZVA (MTE)" : "")}");
        }
        output.WriteLine($"{perMnemonic.Count} mnemonics, {total} distinct words, {unmatched} without a table line, {undefined} Undefined at EL0");
        Assert.True(failures.Count == 0, "instructions of implemented features that do not decode:\n" + string.Join("\n", failures));
    }

    /// <summary>The SVE encoding space (op0 = 0010), whatever alias objdump prints (e.g. "mov z0.b, w1").</summary>
    static bool IsSve(uint word) => ((word >> 25) & 0xF) == 0b0010;

    /// <summary>MRS/MSR/SYS that Linux lets EL0 reach only through its own emulation (e.g. MRS of ID registers): Undefined here is right.</summary>
    static bool IsEl0SystemAccess(uint word) => (word & 0xFFC0_0000) == 0xD500_0000;

    static bool RaisesUndefinedAtEl0(ArmCpu cpu, FlatMemory mem, RecordingSupervisor sup, uint word)
    {
        cpu.SetElAndSpSel(0, 0);
        cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20;
        cpu.Sys(SysReg.SCTLR_EL1) |= 1UL << 9 | 1UL << 14 | 1UL << 15 | 1UL << 16 | 1UL << 18 | 1UL << 26;  // as Linux runs EL0
        for (int r = 0; r < 31; r++) cpu.S->X[r] = FlatMemory.Base + 0x8000;
        cpu.S->X[31] = FlatMemory.Base + 0x8000;
        mem.Load(FlatMemory.Base, word);
        cpu.S->PC = FlatMemory.Base;
        sup.Exceptions.Clear();
        cpu.Step();
        return sup.Exceptions.Count > 0 && (sup.Exceptions[0].Esr >> 26) == ExceptionClass.Unknown;
    }

    [GeneratedRegex(@"^\s*[0-9a-f]+:\t([0-9a-f]{8}) \t(\S+)")]
    private static partial Regex Line();

    static List<(uint Word, string Mnemonic)> Disassemble(string path)
    {
        var psi = new ProcessStartInfo("aarch64-linux-gnu-objdump", $"-d -j .text {path}") { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi)!;
        var seen = new HashSet<uint>();
        var list = new List<(uint, string)>();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) != null)
        {
            var m = Line().Match(line);
            if (!m.Success) continue;
            uint w = Convert.ToUInt32(m.Groups[1].Value, 16);
            if (seen.Add(w)) list.Add((w, m.Groups[2].Value));
        }
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return list;
    }
}
