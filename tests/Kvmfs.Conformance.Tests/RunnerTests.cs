using Kvmfs.Conformance;

namespace Kvmfs.Conformance.Tests;

/// <summary>
/// The runner on real child processes: small shell scripts stand in for the selftests and
/// /bin/sh for the launcher, so exit codes, the merged log and the time limit are real.
/// </summary>
public sealed class RunnerTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("kvmfs-conformance-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    Runner NewRunner() =>
        new(new Launcher("sh", "/bin/sh", [], "/bin/sh <test>"), Path.Combine(dir, "bin"), Path.Combine(dir, "logs"), graceSeconds: 1);

    void Script(string name, string body)
    {
        var path = Path.Combine(dir, "bin", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, body + "\n");
    }

    [Fact]
    public void ExitCodesAndOutputDecideTheVerdict()
    {
        Script("aarch64/skipper", "echo '1..0 # SKIP - Requirement not met: vgic v3'; exit 4");
        Script("passer", "echo 1..1; echo ok 1; exit 0");
        Script("failer", "echo '==== Test Assertion Failure ====' >&2; echo '  x.c:9: ok' >&2; echo '  pid=1 tid=1 errno=0 - Success' >&2; echo '  broke' >&2; exit 254");
        var runner = NewRunner();
        var skip = runner.Run(new TestSpec("aarch64/skipper", 30, []));
        var pass = runner.Run(new TestSpec("passer", 30, []));
        var fail = runner.Run(new TestSpec("failer", 30, []));
        Assert.Equal((Verdict.Skip, "Requirement not met: vgic v3"), (skip.Verdict, skip.Detail));
        Assert.Equal(Verdict.Pass, pass.Verdict);
        Assert.Equal((Verdict.Fail, 254, "x.c:9: ok -- broke"), (fail.Verdict, fail.ExitCode, fail.Detail));
        Assert.Contains("==== Test Assertion Failure ====", File.ReadAllText(Path.Combine(dir, "logs", "failer.log")));
    }

    [Fact]
    public void ArgumentsFromTheSettingsReachTheTest()
    {
        Script("echoer", "echo \"args: $*\"; exit 3");
        var r = NewRunner().Run(new TestSpec("echoer", 30, ["-i", "4"]));
        Assert.Equal("exit 3: args: -i 4", r.Detail);
    }

    [Fact]
    public void ATestPastItsLimitIsKilledAndCountedAsATimeout()
    {
        Script("sleeper", "echo started; sleep 30; echo never");
        var r = NewRunner().Run(new TestSpec("sleeper", 0.5, []));
        Assert.Equal(Verdict.Timeout, r.Verdict);
        Assert.Equal("no exit within 0.5 s: started", r.Detail);
        Assert.True(r.Seconds < 10, $"took {r.Seconds} s");
    }

    [Fact]
    public void OutputOfAChildThatOutlivesTheLauncherIsWaitedFor()
    {
        Script("early", "(sleep 0.3; echo late) & exit 3");
        var r = NewRunner().Run(new TestSpec("early", 30, []));
        Assert.Equal("exit 3: late", r.Detail);
    }

    [Fact]
    public void ChildrenStillRunningAfterTheLauncherExitedAreKilled()
    {
        var marker = Path.Combine(dir, "survived");
        Script("leaver", $"(sleep 2; touch {marker}) & exit 3");
        var r = NewRunner().Run(new TestSpec("leaver", 30, []));
        Assert.StartsWith("processes left after exit were killed; exit 3", r.Detail);
        Thread.Sleep(2000);
        Assert.False(File.Exists(marker), "the straggler was not killed");
    }

    [Fact]
    public void AMissingProgramIsAFailureNotACrash()
    {
        var r = NewRunner().Run(new TestSpec("not-there", 30, []));
        Assert.Equal(Verdict.Fail, r.Verdict);
        Assert.StartsWith("not built", r.Detail);
    }

    [Fact]
    public void KvmfsExecGetsTheTestAfterTheDoubleDashAndTheTraceBeforeIt()
    {
        var kvmfs = new Launcher("kvmfs", "/repo/out/kvmfs", ["exec", "--"], "");
        Assert.Equal(["exec", "--", "/b/t", "-i", "4"], kvmfs.Command("/b/t", ["-i", "4"]));
        Assert.Equal(["exec", "--trace", "/l/t.trace", "--", "/b/t"], kvmfs.Command("/b/t", [], "/l/t.trace"));
        Assert.Equal(["exec", "--socket", "/tmp/s.sock", "--", "/b/t"], kvmfs.Command("/b/t", [], null, "/tmp/s.sock"));
        var qemu = new Launcher("qemu", "/usr/bin/qemu-aarch64-static", ["-L", "/usr/aarch64-linux-gnu"], "");
        Assert.Equal(["-L", "/usr/aarch64-linux-gnu", "/b/t"], qemu.Command("/b/t", [], "/l/t.trace"));
    }

    [Fact]
    public void SettingsGiveLimitsAndArgumentsAndRejectNonsense()
    {
        var path = Path.Combine(dir, "settings.txt");
        File.WriteAllText(path, "# comment\ndirty_log_test 300 -i 4  # fewer iterations\n");
        var specs = TestSpec.Build(["dirty_log_test", "steal_time"], TestSpec.ReadSettings(path), null);
        Assert.Equal(300, specs[0].TimeoutSeconds);
        Assert.Equal(["-i", "4"], specs[0].Args);
        Assert.Equal(TestSpec.DefaultTimeoutSeconds, specs[1].TimeoutSeconds);
        File.WriteAllText(path, "dirty_log_test soon\n");
        Assert.Throws<FormatException>(() => TestSpec.ReadSettings(path));
    }
}
