using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Kvmfs.Conformance;

/// <summary>Runs one selftest with a time limit and keeps its output in a log file.</summary>
public sealed class Runner(Launcher launcher, string binDir, string logDir, bool trace = false, double graceSeconds = 3)
{
    int runs;

    public TestResult Run(TestSpec spec)
    {
        var program = Path.Combine(binDir, spec.Name);
        var log = Path.Combine(logDir, spec.Name.Replace('/', '_') + ".log");
        Directory.CreateDirectory(logDir);
        if (!File.Exists(program))
        {
            File.WriteAllText(log, $"{program}: not built\n");
            return new TestResult(spec.Name, Verdict.Fail, 0, null, "not built (see .cache/conformance/build.log)",
                                  Path.GetRelativePath(Environment.CurrentDirectory, log));
        }

        // The shell sets up the redirection and then becomes the launcher (exec), so the exit
        // status is the test's own. setsid makes the test the leader of its own process group
        // (the shell is not a group leader, so setsid does not fork and the pid stays), which
        // lets us clear up everything it started. stdout and stderr share one file, in order;
        // a file rather than a pipe, so a helper that outlives the test cannot hold us up.
        var psi = new ProcessStartInfo("/bin/sh") { WorkingDirectory = logDir, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec setsid \"$@\" >\"$KVMFS_CONFORMANCE_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add(launcher.Program);
        var tracePath = trace ? Path.ChangeExtension(log, ".trace") : null;
        var socketPath = Path.Combine(Path.GetTempPath(), $"kvmfs-conformance-{Environment.ProcessId}-{++runs}.sock");
        foreach (var a in launcher.Command(program, spec.Args, tracePath, socketPath))
            psi.ArgumentList.Add(a);
        psi.Environment["KVMFS_CONFORMANCE_LOG"] = log;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /bin/sh");
        var group = process.Id;
        var timedOut = !process.WaitForExit(TimeSpan.FromSeconds(spec.TimeoutSeconds));
        if (timedOut)
        {
            KillGroup(group);
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* exited meanwhile */ }
            process.WaitForExit();
        }
        clock.Stop();
        // If the launcher died first (say kvmfs exec crashed), the test may still be running and
        // writing: give its group a moment to finish, then end whatever is left.
        var stragglers = WaitForGroup(group, TimeSpan.FromSeconds(graceSeconds));
        if (stragglers)
            KillGroup(group);

        File.Delete(socketPath);   // the daemon removes it; not if it was killed
        var output = File.Exists(log) ? File.ReadAllText(log) : "";
        int? exitCode = timedOut ? null : process.ExitCode;
        var (verdict, detail) = Outcome.Classify(exitCode, timedOut, spec.TimeoutSeconds, output);
        if (stragglers && verdict != Verdict.Timeout)
            detail = "processes left after exit were killed; " + detail;
        return new TestResult(spec.Name, verdict, Math.Round(clock.Elapsed.TotalSeconds, 2), exitCode, detail,
                              Path.GetRelativePath(Environment.CurrentDirectory, log)) { DaemonNote = Outcome.DaemonNote(output) };
    }

    const int SIGKILL = 9;
    const int ESRCH = 3;

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int signal);

    static void KillGroup(int group) => kill(-group, SIGKILL);

    /// <summary>True if live members of the group remain after <paramref name="limit"/>.</summary>
    static bool WaitForGroup(int group, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (!GroupHasLiveMembers(group))
                return false;
            if (clock.Elapsed >= limit)
                return true;
            Thread.Sleep(50);
        }
    }

    /// <summary>
    /// Whether any process in the group is alive. Zombies do not count: an orphan's exit may
    /// be reaped late (or never, by an init that does not reap), yet it writes nothing more.
    /// </summary>
    static bool GroupHasLiveMembers(int group)
    {
        if (kill(-group, 0) != 0 && Marshal.GetLastPInvokeError() == ESRCH)
            return false;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            var name = Path.GetFileName(dir);
            if (name.Length == 0 || !char.IsAsciiDigit(name[0]))
                continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
            var close = stat.LastIndexOf(')');
            if (close < 0)
                continue;
            var fields = stat[(close + 2)..].Split(' ');
            if (fields.Length > 2 && fields[0] != "Z" && fields[0] != "X" &&
                int.TryParse(fields[2], out var pgrp) && pgrp == group)
                return true;
        }
        return false;
    }
}
