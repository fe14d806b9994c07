namespace Kvmfs.Conformance;

/// <summary>
/// Runs the Linux KVM selftests (arm64), built by tests/conformance/build-selftests.sh, one
/// after the other with a time limit each, and writes the table (console, results.md,
/// results.json). With --guard it runs only tests/conformance/expected-pass.txt and fails
/// if any of them no longer passes.
/// </summary>
public static class Program
{
    const string Usage = """
        usage: Kvmfs.Conformance [options]
          --root DIR         the build cache: DIR/bin (tests), DIR/tests.txt (names); results and logs go there too
                             (default .cache/conformance)
          --tests FILE       the tests to run, one name a line (default ROOT/tests.txt)
          --only A,B         run just these tests
          --expected FILE    the pass list (default tests/conformance/expected-pass.txt)
          --settings FILE    per-test time limit and arguments (default tests/conformance/settings.txt)
          --guard            run only the pass list; exit 1 if any of them does not pass
          --timeout SECONDS  one time limit for every test (default: settings, else 120 as in the kernel's kvm/settings)
          --launcher MODE    auto (kvmfs exec if built, else qemu-aarch64-static), kvmfs, or qemu (default auto)
          --kvmfs PATH       the kvmfs program (default out/kvmfs)
          --trace            with kvmfs: decode every ioctl of each test into its log folder (<test>.trace)
        exit: 0 ok; 1 a test on the pass list did not pass; 2 usage or setup error
        """;

    public static int Main(string[] args)
    {
        try
        {
            return Run(args);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or IOException)
        {
            Console.Error.WriteLine($"conformance: {e.Message}");
            return 2;
        }
    }

    static int Run(string[] args)
    {
        string root = ".cache/conformance", expected = "tests/conformance/expected-pass.txt",
               settingsPath = "tests/conformance/settings.txt", launcherMode = "auto", kvmfs = "out/kvmfs";
        string? testsFile = null, only = null;
        double? timeout = null;
        var guard = false;
        var trace = false;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--root": root = Value(); break;
                case "--tests": testsFile = Value(); break;
                case "--only": only = Value(); break;
                case "--expected": expected = Value(); break;
                case "--settings": settingsPath = Value(); break;
                case "--guard": guard = true; break;
                case "--timeout":
                    timeout = double.TryParse(Value(), System.Globalization.CultureInfo.InvariantCulture, out var t) && t > 0
                        ? t : throw new ArgumentException("--timeout needs a positive number of seconds");
                    break;
                case "--launcher": launcherMode = Value(); break;
                case "--kvmfs": kvmfs = Value(); break;
                case "--trace": trace = true; break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: throw new ArgumentException($"unknown option {args[i]}\n{Usage}");
            }
        }

        var expectedPass = TestSpec.ReadNames(expected).ToHashSet(StringComparer.Ordinal);
        List<string> names;
        if (only is not null)
            names = only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
        else if (guard)
            names = expectedPass.Order(StringComparer.Ordinal).ToList();
        else
        {
            var listFile = testsFile ?? Path.Combine(root, "tests.txt");
            names = TestSpec.ReadNames(listFile);
            if (names.Count == 0)
                throw new InvalidOperationException($"no tests listed in {listFile} (run tests/conformance/build-selftests.sh)");
        }
        if (guard && names.Count == 0)
        {
            Console.WriteLine($"conformance-guard: {expected} lists no tests yet; nothing to guard");
            return 0;
        }

        var specs = TestSpec.Build(names, TestSpec.ReadSettings(settingsPath), timeout);
        var launcher = Launcher.Resolve(launcherMode, kvmfs);
        // A run of a few chosen tests must not overwrite the full table.
        var runName = guard ? "guard" : only is not null ? "partial" : "results";
        var runner = new Runner(launcher, Path.GetFullPath(Path.Combine(root, "bin")), Path.GetFullPath(Path.Combine(root, "logs", runName)), trace);

        Console.Error.WriteLine($"conformance: {specs.Count} tests, launcher: {launcher.Description}");
        var results = new List<TestResult>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        foreach (var spec in specs)
        {
            var r = runner.Run(spec);
            results.Add(r);
            Console.Error.WriteLine($"  [{results.Count}/{specs.Count}] {r.Test}: {r.Verdict.ToString().ToLowerInvariant()} ({r.Seconds:0.00} s)");
        }
        clock.Stop();

        var title = guard ? "KVM selftests (arm64): pass-list guard" : "KVM selftests (arm64) against kvmfs";
        var report = new Report(title, launcher.Description, results, expectedPass) { RunSeconds = clock.Elapsed.TotalSeconds };
        var now = DateTimeOffset.UtcNow;
        File.WriteAllText(Path.Combine(root, runName + ".md"), report.Markdown(now));
        File.WriteAllText(Path.Combine(root, runName + ".json"), report.Json(now));

        var regressions = report.Regressions;
        if (!guard)
        {
            Console.Write(report.Text());
            foreach (var r in report.NewPasses)
                Console.WriteLine($"new pass (not yet in {expected}): {r.Test}");
        }
        foreach (var r in regressions)
            Console.WriteLine($"REGRESSION: {r.Test} is in {expected} but {r.Verdict.ToString().ToLowerInvariant()}: {r.Detail}  (log: {r.Log})");
        Console.WriteLine($"run: {clock.Elapsed.TotalSeconds:0.0} s; results in {Path.Combine(root, runName)}.{{md,json}}, logs in {Path.Combine(root, "logs", runName)}/");
        // The totals line comes last, so `tail -1` finds it.
        if (guard)
            Console.WriteLine($"conformance-guard: {results.Count - regressions.Count} of {results.Count} listed selftests pass");
        else
            Console.WriteLine(report.Totals);
        return regressions.Count == 0 ? 0 : 1;
    }
}
