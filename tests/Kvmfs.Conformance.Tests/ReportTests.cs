using System.Text.Json;
using Kvmfs.Conformance;

namespace Kvmfs.Conformance.Tests;

public class ReportTests
{
    static readonly TestResult[] Rows =
    [
        new("kvm_create_max_vcpus", Verdict.Pass, 0.5, 0, "", "l1"),
        new("aarch64/get-reg-list", Verdict.Fail, 1.25, 254, "a.c:1: x | y", "l2"),
        new("aarch64/arch_timer", Verdict.Skip, 0.1, 4, "no vgic", "l3"),
        new("dirty_log_test", Verdict.Timeout, 120, null, "no exit within 120 s", "l4"),
        new("steal_time", Verdict.Skip, 0.1, 4, "no pvtime", "l5"),
    ];

    [Fact]
    public void TheTotalsLineHasTheExactFormOfIssue4()
    {
        var report = new Report("t", "qemu", Rows, new HashSet<string>());
        Assert.Equal("totals: 1 pass, 1 fail, 2 skip, 1 timeout (of 5)", report.Totals);
    }

    [Fact]
    public void RegressionsAndNewPassesComeFromThePassList()
    {
        var report = new Report("t", "qemu", Rows, new HashSet<string> { "aarch64/get-reg-list" });
        Assert.Equal(["aarch64/get-reg-list"], report.Regressions.Select(r => r.Test));
        Assert.Equal(["kvm_create_max_vcpus"], report.NewPasses.Select(r => r.Test));
    }

    [Fact]
    public void MarkdownEscapesPipesAndEndsWithTheTotals()
    {
        var md = new Report("t", "qemu", Rows, new HashSet<string>()).Markdown(DateTimeOffset.UnixEpoch);
        Assert.Contains("| aarch64/get-reg-list | fail | 1.25 | a.c:1: x \\| y |  |", md);
        Assert.Equal("totals: 1 pass, 1 fail, 2 skip, 1 timeout (of 5)", md.TrimEnd().Split('\n')[^1]);
    }

    [Fact]
    public void JsonHasOneRowPerTestAndTheTotals()
    {
        using var doc = JsonDocument.Parse(new Report("t", "qemu", Rows, new HashSet<string> { "steal_time" }).Json(DateTimeOffset.UnixEpoch));
        var tests = doc.RootElement.GetProperty("tests");
        Assert.Equal(5, tests.GetArrayLength());
        Assert.Equal("timeout", tests[3].GetProperty("result").GetString());
        Assert.Equal(JsonValueKind.Null, tests[3].GetProperty("exit_code").ValueKind);
        Assert.True(tests[4].GetProperty("expected_pass").GetBoolean());
        Assert.Equal(2, doc.RootElement.GetProperty("totals").GetProperty("skip").GetInt32());
    }

    [Fact]
    public void TheTextTableHasAHeaderAndOneLinePerTest()
    {
        var text = new Report("t", "qemu", Rows, new HashSet<string>()).Text();
        var lines = text.TrimEnd().Split('\n');
        Assert.Equal(2 + Rows.Length, lines.Length);
        Assert.StartsWith("test", lines[0]);
        Assert.Contains("timeout", lines[5]);
    }
}
