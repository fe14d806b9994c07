using System.Text.RegularExpressions;

namespace Kvmfs.Conformance;

/// <summary>How one selftest ended, in kselftest's terms.</summary>
public enum Verdict { Pass, Fail, Skip, Timeout }

/// <summary>One row of the table: the verdict and the one line that explains it.</summary>
public sealed record TestResult(
    string Test,
    Verdict Verdict,
    double Seconds,
    int? ExitCode,
    string Detail,
    string Log)
{
    /// <summary>The first warning kvmfs logged during the test, if any.</summary>
    public string DaemonNote { get; init; } = "";
}

/// <summary>
/// Turns a finished selftest (exit code, whether it hit its time limit, its merged
/// stdout+stderr) into a verdict and a one-line reason. The exit codes are kselftest's
/// (tools/testing/selftests/kselftest.h): 0 pass, 4 skip; anything else is a failure.
/// </summary>
public static partial class Outcome
{
    public const int KsftPass = 0;
    public const int KsftSkip = 4;
    const int MaxDetail = 220;

    public static (Verdict Verdict, string Detail) Classify(int? exitCode, bool timedOut, double limitSeconds, string output)
    {
        var lines = output.Replace("\r", "").Split('\n');
        if (timedOut)
            return (Verdict.Timeout, Clip($"no exit within {limitSeconds:0.##} s" + Suffix(LastLine(lines))));
        switch (exitCode)
        {
            case KsftPass:
                // A pass can still carry sub-tests that skipped; say so, since a skip is not a pass.
                var partial = SkipReason(lines);
                var skipped = lines.Count(l => TapSkip().IsMatch(l));
                return (Verdict.Pass, partial is null ? "" : Clip($"{Math.Max(skipped, 1)} part(s) skipped, first: {partial}"));
            case KsftSkip:
                return (Verdict.Skip, Clip(SkipReason(lines) ?? "exit 4 (KSFT_SKIP) without a reason"));
            default:
                return (Verdict.Fail, Clip(FailureReason(exitCode, lines)));
        }
    }

    /// <summary>
    /// The reason a test (or part of it) skipped: the TAP directive "# SKIP reason" that
    /// ksft_exit_skip and ksft_test_result_skip print, or the "..., skipping test" line of
    /// the kvm selftests' print_skip.
    /// </summary>
    public static string? SkipReason(string[] lines)
    {
        foreach (var line in lines)
        {
            var m = TapSkip().Match(line);
            if (m.Success)
                return m.Groups["reason"].Value.Trim();
        }
        foreach (var line in lines)
        {
            const string suffix = ", skipping test";
            var at = line.IndexOf(suffix, StringComparison.Ordinal);
            if (at > 0)
                return line[..at].Trim();
        }
        return null;
    }

    /// <summary>
    /// The first failing assertion. A kvm selftest assertion prints
    ///   ==== Test Assertion Failure ====
    ///     file:line: expression
    ///     pid=N tid=N errno=N - text
    ///     (a stack trace from addr2line | cat -n, or "(stack trace empty)")
    ///     the test's message
    /// Other shapes: TAP "Bail out!" and "not ok", a signal, or just an exit code.
    /// </summary>
    public static string FailureReason(int? exitCode, string[] lines)
    {
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].Contains("==== Test Assertion Failure ====", StringComparison.Ordinal))
                continue;
            var where = i + 1 < lines.Length ? lines[i + 1].Trim() : "";
            string? errno = null;
            string? message = null;
            // The message is the first indented line after the stack trace. Other threads'
            // assertion blocks, and lines of other programs (kvmfs's log, ld.so, the
            // addr2line child), may be interleaved: only indented lines that are not a
            // location, a pid line or a stack frame count.
            for (var j = i + 2; j < lines.Length && message is null; j++)
            {
                var l = lines[j];
                if (l.Length == 0)
                    break;
                var e = PidErrno().Match(l);
                if (e.Success)
                {
                    errno ??= e.Groups["errno"].Value.Trim();
                    continue;
                }
                if (!l.StartsWith("  ", StringComparison.Ordinal) || l.Trim().Length == 0 ||
                    StackLine().IsMatch(l) || Location().IsMatch(l) ||
                    l.Contains("(stack trace empty)", StringComparison.Ordinal) ||
                    l.TrimStart().StartsWith("ERROR: ld.so:", StringComparison.Ordinal))
                    continue;
                message = l.Trim();
            }
            // The assertion exits with 254; a signal means the launcher itself died.
            var text = exitCode is int sig && sig > 128 && sig < 128 + 65 ? $"launcher killed by {SignalName(sig - 128)}; {where}" : where;
            if (!string.IsNullOrEmpty(message)) text += " -- " + message;
            if (errno is not null && !errno.StartsWith("0 ", StringComparison.Ordinal)) text += $" (errno={errno})";
            return text;
        }
        foreach (var line in lines)
        {
            var at = line.IndexOf("Bail out!", StringComparison.Ordinal);
            if (at >= 0)
                return line[at..].Trim();
        }
        foreach (var line in lines)
        {
            if (line.StartsWith("not ok ", StringComparison.Ordinal))
                return line.Trim();
        }
        var tail = LastLine(lines);
        if (exitCode is int code && code > 128 && code < 128 + 65)
        {
            var qemu = Array.Find(lines, l => l.StartsWith("qemu:", StringComparison.Ordinal));
            return $"killed by {SignalName(code - 128)}" + Suffix(qemu ?? tail);
        }
        return $"exit {exitCode?.ToString() ?? "?"}" + Suffix(tail);
    }

    /// <summary>
    /// The first warning or error that kvmfs itself logged into the test's output (Serilog's
    /// "[hh:mm:ss.fff WRN] ..." lines from `kvmfs exec`): often the real reason behind a failed
    /// assertion, e.g. a KVM_RUN that kvmfs cannot serve yet.
    /// </summary>
    public static string DaemonNote(string output)
    {
        var lines = output.Replace("\r", "").Split('\n');
        // A crash of the .NET process (the in-process daemon of kvmfs exec) outranks warnings.
        foreach (var line in lines)
        {
            if (line.StartsWith("terminate called after", StringComparison.Ordinal) ||
                line.StartsWith("Unhandled exception.", StringComparison.Ordinal))
                return Clip("crash: " + line.Trim());
        }
        foreach (var line in lines)
        {
            var m = DaemonLogLine().Match(line);
            if (m.Success)
                return Clip(m.Groups["msg"].Value.Trim());
        }
        return "";
    }

    static string SignalName(int signal) => signal switch
    {
        4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS", 8 => "SIGFPE", 9 => "SIGKILL",
        11 => "SIGSEGV", 13 => "SIGPIPE", 14 => "SIGALRM", 15 => "SIGTERM",
        _ => $"signal {signal}",
    };

    static string? LastLine(string[] lines)
    {
        for (var i = lines.Length - 1; i >= 0; i--)
            if (!string.IsNullOrWhiteSpace(lines[i]))
                return lines[i].Trim();
        return null;
    }

    static string Suffix(string? line) => string.IsNullOrEmpty(line) ? "" : ": " + line;

    static string Clip(string s)
    {
        s = s.Replace('\t', ' ');
        return s.Length <= MaxDetail ? s : s[..(MaxDetail - 3)] + "...";
    }

    [GeneratedRegex(@"#\s*SKIP\b\s*-?\s*(?<reason>.*)$")]
    private static partial Regex TapSkip();

    [GeneratedRegex(@"^\s*pid=\d+ tid=\d+ errno=(?<errno>.*)$")]
    private static partial Regex PidErrno();

    // "  path/file.c:123: expression", the second line of an assertion block.
    [GeneratedRegex(@"^\s+[\w./+-]+\.[ch]:\d+: ")]
    private static partial Regex Location();

    [GeneratedRegex(@"^\[\d\d:\d\d:\d\d(\.\d+)? (WRN|ERR|FTL)\] (?<msg>.*)$")]
    private static partial Regex DaemonLogLine();

    // One frame of the addr2line trace, numbered by "cat -n".
    [GeneratedRegex(@"^\s*\d+\t")]
    private static partial Regex StackLine();
}
