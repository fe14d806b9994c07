using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Kvmfs.Conformance;

/// <summary>The table of one run, as console text, markdown and JSON, plus the totals line.</summary>
public sealed class Report(string title, string launcher, IReadOnlyList<TestResult> results, IReadOnlyCollection<string> expectedPass)
{
    /// <summary>Wall time of the whole run, for comparing runs.</summary>
    public double RunSeconds { get; init; }

    public int Count(Verdict v) => results.Count(r => r.Verdict == v);

    /// <summary>The one line CI and people grep for; its exact form is part of issue 4.</summary>
    public string Totals =>
        $"totals: {Count(Verdict.Pass)} pass, {Count(Verdict.Fail)} fail, {Count(Verdict.Skip)} skip, {Count(Verdict.Timeout)} timeout (of {results.Count})";

    /// <summary>Listed in expected-pass.txt but did not pass this time.</summary>
    public List<TestResult> Regressions => results.Where(r => expectedPass.Contains(r.Test) && r.Verdict != Verdict.Pass).ToList();

    /// <summary>Passed but not yet listed in expected-pass.txt.</summary>
    public List<TestResult> NewPasses => results.Where(r => !expectedPass.Contains(r.Test) && r.Verdict == Verdict.Pass).ToList();

    static string Word(Verdict v) => v.ToString().ToLowerInvariant();

    public string Text()
    {
        var nameWidth = Math.Max(4, results.Count == 0 ? 0 : results.Max(r => r.Test.Length));
        var sb = new StringBuilder();
        sb.AppendLine($"{"test".PadRight(nameWidth)}  {"result",-7}  {"seconds",7}  first failing line / skip reason");
        sb.AppendLine($"{new string('-', nameWidth)}  -------  -------  ---------------------------------");
        foreach (var r in results)
            sb.AppendLine($"{r.Test.PadRight(nameWidth)}  {Word(r.Verdict),-7}  {r.Seconds,7:0.00}  {r.Detail}".TrimEnd());
        return sb.ToString();
    }

    public string Markdown(DateTimeOffset when)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"# {title}");
        sb.AppendLine();
        sb.AppendLine($"{when:yyyy-MM-dd HH:mm} UTC; launcher: {launcher}; run: {RunSeconds:0.0} s");
        sb.AppendLine();
        sb.AppendLine("| test | result | seconds | first failing line / skip reason | first kvmfs warning |");
        sb.AppendLine("| --- | --- | ---: | --- | --- |");
        foreach (var r in results)
            sb.AppendLine($"| {r.Test} | {Word(r.Verdict)} | {r.Seconds:0.00} | {Cell(r.Detail)} | {Cell(r.DaemonNote)} |");
        sb.AppendLine();
        sb.AppendLine(Totals);
        return sb.ToString();
    }

    static string Cell(string s) => s.Replace("|", "\\|");

    public string Json(DateTimeOffset when)
    {
        var doc = new JsonReport(
            title, when, launcher, Math.Round(RunSeconds, 1),
            results.Select(r => new JsonRow(r.Test, Word(r.Verdict), r.Seconds, r.ExitCode, r.Detail, r.DaemonNote, r.Log, expectedPass.Contains(r.Test))).ToList(),
            new JsonTotals(Count(Verdict.Pass), Count(Verdict.Fail), Count(Verdict.Skip), Count(Verdict.Timeout), results.Count));
        return JsonSerializer.Serialize(doc, JsonOptions);
    }

    static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // Reasons quote C expressions ("<", "&", "'"); keep them readable in the file.
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    sealed record JsonReport(string Title, DateTimeOffset Date, string Launcher, double RunSeconds, List<JsonRow> Tests, JsonTotals Totals);
    sealed record JsonRow(string Test, string Result, double Seconds, int? ExitCode, string Detail, string KvmfsWarning, string Log, bool ExpectedPass);
    sealed record JsonTotals(int Pass, int Fail, int Skip, int Timeout, int Total);
}
