using System.Diagnostics;

namespace Kvmfs.Conformance;

/// <summary>Runs one selftest with a time limit and keeps its output in a log file.</summary>
public sealed class Runner(Launcher launcher, string binDir, string logDir, bool trace = false)
{
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

        // The shell only sets up the redirection and then becomes the launcher (exec), so the
        // exit status is the test's own. stdout and stderr share one file, in order; a file
        // rather than a pipe, so a helper that outlives the test cannot hold us up.
        var psi = new ProcessStartInfo("/bin/sh") { WorkingDirectory = logDir, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$@\" >\"$KVMFS_CONFORMANCE_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add("sh");
        psi.ArgumentList.Add(launcher.Program);
        var tracePath = trace ? Path.ChangeExtension(log, ".trace") : null;
        foreach (var a in launcher.Command(program, spec.Args, tracePath))
            psi.ArgumentList.Add(a);
        psi.Environment["KVMFS_CONFORMANCE_LOG"] = log;

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start /bin/sh");
        var timedOut = !process.WaitForExit(TimeSpan.FromSeconds(spec.TimeoutSeconds));
        if (timedOut)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* exited meanwhile */ }
            process.WaitForExit();
        }
        clock.Stop();

        var output = File.Exists(log) ? File.ReadAllText(log) : "";
        int? exitCode = timedOut ? null : process.ExitCode;
        var (verdict, detail) = Outcome.Classify(exitCode, timedOut, spec.TimeoutSeconds, output);
        return new TestResult(spec.Name, verdict, Math.Round(clock.Elapsed.TotalSeconds, 2), exitCode, detail,
                              Path.GetRelativePath(Environment.CurrentDirectory, log));
    }
}
