using System.Text.RegularExpressions;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// Stock QEMU (Debian's arm64 qemu-system-aarch64 7.2, under qemu-aarch64-static) with -accel kvm
/// on kvmfs: it must do its whole KVM setup and reach its first KVM_RUN, with no ioctl failing
/// except the probes that fail on real KVM too. Until guests run, KVM_RUN answers with the
/// documented failure and QEMU exits; the test must never hang (timeout).
/// </summary>
[Trait("Needs", "qemu-system-arm:arm64, qemu-aarch64-static, .cache/guest/Image")]
public class QemuTests
{
    /// <summary>Calls QEMU makes that fail on real arm64 KVM as well: it probes with them.</summary>
    private static readonly HashSet<(string, string)> ExpectedProbes =
    [
        ("KVM_HAS_DEVICE_ATTR", "ENXIO"),   // attributes the device or vCPU does not have
        ("KVM_GET_REG_LIST", "E2BIG"),      // asked with n=0 first to learn the count
    ];

    private static readonly Regex Line = new(@"^\S+ \[\d+\] (?<name>[A-Za-z0-9_]+|_IO\w*\([^)]*\))\(.*\) = (?<result>-1 (?<errno>\w+)|-?\d+)", RegexOptions.Compiled);

    /// <summary>A KVM_RUN that failed (an error other than a signal, or a failure exit): QEMU then stops the VM.</summary>
    private static readonly Regex RunEnded = new(@"KVM_RUN\(vcpu \d+\) = (-1 (?!EINTR|EAGAIN)|0 -> KVM_EXIT_(INTERNAL_ERROR|FAIL_ENTRY|UNKNOWN))", RegexOptions.Compiled);

    private static readonly Regex VcpuCreated = new(@"KVM_CREATE_VCPU\(vm (\d+), \d+\) = \d+$", RegexOptions.Compiled);
    private static readonly Regex RunOn = new(@"KVM_RUN\(vcpu (\d+)\)", RegexOptions.Compiled);

    public static TheoryData<string, string[]> Variants => new()
    {
        { "gicv2", ["-M", "virt"] },
        { "gicv3", ["-M", "virt,gic-version=3"] },
        { "smp2", ["-M", "virt", "-smp", "2"] },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void StockQemuReachesKvmRun(string variant, string[] machine)
    {
        string image = Path.Combine(Toolchain.RepoRoot, ".cache", "guest", "Image");
        Assert.True(File.Exists(image), $"{image} missing: run make setup");
        string trace = Path.Combine(Toolchain.WorkDir, $"qemu-{variant}.txt");
        string json = Path.Combine(Toolchain.WorkDir, $"qemu-{variant}.jsonl");
        var r = Toolchain.KvmfsExecUntil(
            [$"--trace={trace}", $"--trace-json={json}", "--", "qemu-system-aarch64", .. machine,
             "-accel", "kvm", "-cpu", "host", "-m", "512", "-nographic", "-nic", "none", "-kernel", image],
            trace, lines => lines.Any(l => RunEnded.IsMatch(l)), 90);
        Assert.False(r.TimedOut, $"kvmfs exec did not end\n{r.Stderr}");
        var lines = File.ReadAllLines(trace);
        string Context() => $"QEMU exit {r.ExitCode}\nstderr:\n{r.Stderr}\ntrace:\n{string.Join('\n', lines.TakeLast(60))}";

        var calls = lines.Select(l => Line.Match(l)).Where(m => m.Success).ToList();
        Assert.True(calls.Count == lines.Length, $"undecodable trace lines:\n{string.Join('\n', lines.Where(l => !Line.IsMatch(l)).Take(5))}");
        int firstRun = calls.FindIndex(m => m.Groups["name"].Value == "KVM_RUN");
        Assert.True(firstRun >= 0, "QEMU never reached KVM_RUN\n" + Context());
        var unexpected = calls.Take(firstRun)
            .Where(m => m.Groups["errno"].Success && !ExpectedProbes.Contains((m.Groups["name"].Value, m.Groups["errno"].Value)))
            .Select(m => m.Value).ToList();
        Assert.True(unexpected.Count == 0, "failed before the first KVM_RUN:\n" + string.Join('\n', unexpected) + "\n" + Context());

        // QEMU also makes a scratch VM with one vCPU to read the host's ID registers; the real VM has -smp vCPUs.
        int vcpus = variant == "smp2" ? 2 : 1;
        var perVm = lines.Select(l => VcpuCreated.Match(l)).Where(m => m.Success).GroupBy(m => m.Groups[1].Value).Select(g => g.Count()).ToList();
        Assert.Equal(vcpus, perVm.Max());
        Assert.Equal(vcpus, lines.Select(l => RunOn.Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().Count());
        Assert.Contains(calls, m => m.Groups["name"].Value == "KVM_SET_USER_MEMORY_REGION");
        Assert.Contains(calls, m => m.Groups["name"].Value == "KVM_ARM_VCPU_INIT");
        Assert.Equal(lines.Length, File.ReadAllLines(json).Length);
    }
}
