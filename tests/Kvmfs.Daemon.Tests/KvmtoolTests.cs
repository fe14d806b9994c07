using System.Text.RegularExpressions;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// Runs only when KVMFS_LKVM names an arm64 kvmtool binary (lkvm). Debian ships no arm64 kvmtool
/// and kvmfs never builds it: build it yourself outside the tree (see docs/kvmtool.md).
/// </summary>
public sealed class KvmtoolTheoryAttribute : TheoryAttribute
{
    public KvmtoolTheoryAttribute()
    {
        string? lkvm = Environment.GetEnvironmentVariable("KVMFS_LKVM");
        if (string.IsNullOrEmpty(lkvm)) Skip = "KVMFS_LKVM is not set: no arm64 kvmtool to run (see docs/kvmtool.md)";
        else if (!File.Exists(lkvm)) Skip = $"KVMFS_LKVM={lkvm} does not exist";
    }
}

/// <summary>
/// Stock kvmtool (`lkvm run`) on kvmfs: the whole setup answered as real KVM answers it, every vCPU
/// reaches KVM_RUN, and kvmtool's teardown succeeds. kvmtool exits by itself when KVM_RUN reports
/// the documented "no guest execution yet" failure.
/// </summary>
[Trait("Needs", "KVMFS_LKVM, qemu-aarch64-static, .cache/guest/Image")]
public class KvmtoolTests
{
    private static readonly Regex Line = new(@"^\S+ \[\d+\] (?<name>[A-Za-z0-9_]+)\(.*\) = (?<result>-1 (?<errno>\w+)|-?\d+)", RegexOptions.Compiled);
    private static readonly Regex RunOn = new(@"KVM_RUN\(vcpu (\d+)\)", RegexOptions.Compiled);

    public static TheoryData<string, string[]> Variants => new()
    {
        { "gicv2", ["--irqchip=gicv2", "-c", "1"] },
        { "gicv3-smp2", ["--irqchip=gicv3", "-c", "2"] },
        { "gicv3-its-smp2", ["--irqchip=gicv3-its", "-c", "2"] },
    };

    [KvmtoolTheory]
    [MemberData(nameof(Variants))]
    public void KvmtoolReachesKvmRunAndTearsDown(string variant, string[] options)
    {
        string lkvm = Environment.GetEnvironmentVariable("KVMFS_LKVM")!;
        string image = Path.Combine(Toolchain.RepoRoot, ".cache", "guest", "Image");
        Assert.True(File.Exists(image), $"{image} missing: run make setup");
        string trace = Path.Combine(Toolchain.WorkDir, $"lkvm-{variant}.txt");
        var r = Toolchain.KvmfsExec([$"--trace={trace}", "--", lkvm, "run", "-k", image, "-m", "256", .. options], 90);
        Assert.False(r.TimedOut, $"kvmtool did not exit\n{r.Stderr}");
        var lines = File.ReadAllLines(trace);
        string Context() => $"exit {r.ExitCode}\nstdout:\n{r.Stdout}\nstderr:\n{r.Stderr}\ntrace:\n{string.Join('\n', lines.TakeLast(40))}";

        var calls = lines.Select(l => Line.Match(l)).Where(m => m.Success).ToList();
        Assert.True(calls.Count == lines.Length, "undecodable trace lines\n" + Context());
        // A secondary vCPU waits inside KVM_RUN (powered off) until kvmtool kicks it on exit: EINTR, as on KVM.
        var failed = calls.Where(m => m.Groups["errno"].Success && !(m.Groups["name"].Value == "KVM_RUN" && m.Groups["errno"].Value == "EINTR"))
            .Select(m => m.Value).ToList();
        Assert.True(failed.Count == 0, "failed calls:\n" + string.Join('\n', failed) + "\n" + Context());

        int vcpus = int.Parse(options[^1]);
        Assert.Equal(vcpus, lines.Select(l => RunOn.Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().Count());
        Assert.Contains("KVM_EXIT_INTERNAL_ERROR", r.Stdout + r.Stderr);
        Assert.Contains(variant.StartsWith("gicv2") ? "KVM_DEV_TYPE_ARM_VGIC_V2" : "KVM_DEV_TYPE_ARM_VGIC_V3", File.ReadAllText(trace));
        if (variant.Contains("its")) Assert.Contains("KVM_DEV_TYPE_ARM_VGIC_ITS", File.ReadAllText(trace));
    }
}
