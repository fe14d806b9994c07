using System.Diagnostics;
using System.Text;
using Kvmfs.Emulator.User;

namespace Kvmfs.Emulator.Tests.User;

/// <summary>The outcome of one program run: its stdout bytes, stderr text and exit status.</summary>
public sealed record RunOutput(byte[] Stdout, string Stderr, int ExitStatus, ulong Instructions = 0)
{
    public string Text => Encoding.UTF8.GetString(Stdout);
}

/// <summary>
/// Runs arm64 programs two ways with the same arguments, environment and stdin: in this process on the
/// emulator (<see cref="UserProcess"/>) and under qemu-aarch64-static, the reference.
/// </summary>
public static class UserHarness
{
    public static readonly string Busybox = FindBusybox();
    public const string Qemu = "qemu-aarch64-static";
    public const string Gcc = "aarch64-linux-gnu-gcc";

    /// <summary>The same small environment for both runs (the guest sees nothing of the test host's).</summary>
    public static readonly string[] Environment = ["PATH=/usr/bin:/bin", "HOME=/tmp", "LC_ALL=C", "TZ=UTC"];

    /// <summary>A hung guest fails its test instead of hanging the run (~1 minute of emulation).</summary>
    public const ulong InstructionLimit = 5_000_000_000;

    public static bool HaveQemu => OnPath(Qemu);
    public static bool HaveGcc => OnPath(Gcc);
    public static bool HaveBusybox => File.Exists(Busybox);

    public static string TempDir { get; } = CreateTempDir();

    static string CreateTempDir()
    {
        // The test host is not always let to exit normally: remove what earlier, dead runs left behind.
        foreach (var old in Directory.GetDirectories(Path.GetTempPath(), "kvmfs-user-tests-*"))
            if (int.TryParse(old[(old.LastIndexOf('-') + 1)..], out int pid) && !Directory.Exists($"/proc/{pid}"))
                try { Directory.Delete(old, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        string d = Path.Combine(Path.GetTempPath(), $"kvmfs-user-tests-{System.Environment.ProcessId}");
        Directory.CreateDirectory(d);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(d, true); } catch (IOException) { } };
        return d;
    }

    static string FindBusybox()
    {
        // The repository's guest assets: tests run from tests/<project>/bin/..., walk up to the checkout root.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, ".cache", "guest", "busybox");
            if (File.Exists(candidate)) return candidate;
        }
        string fromSource = Path.GetFullPath(Path.Combine(SourceDirectory(), "..", "..", "..", ".cache", "guest", "busybox"));
        return fromSource;
    }

    public static string SourceDirectory([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

    static bool OnPath(string tool) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':')
            .Any(d => d.Length > 0 && File.Exists(Path.Combine(d, tool)));

    /// <summary>Runs on the emulator, in process. stdin comes from a file (or /dev/null).</summary>
    public static RunOutput RunEmulator(string program, IReadOnlyList<string> argv, string? stdinFile = null)
    {
        string id = Guid.NewGuid().ToString("N");
        string outPath = Path.Combine(TempDir, id + ".out"), errPath = Path.Combine(TempDir, id + ".err");
        try
        {
            UserRunResult result;
            string log;
            using (var logWriter = new StringWriter())
            using (var stdin = new FileStream(stdinFile ?? "/dev/null", FileMode.Open, FileAccess.Read))
            using (var stdout = new FileStream(outPath, FileMode.Create, FileAccess.Write))
            using (var stderr = new FileStream(errPath, FileMode.Create, FileAccess.Write))
            {
                result = UserProcess.Run(program, argv, Environment,
                    (int)stdin.SafeFileHandle.DangerousGetHandle(), (int)stdout.SafeFileHandle.DangerousGetHandle(),
                    (int)stderr.SafeFileHandle.DangerousGetHandle(), new UserOptions { Log = logWriter, MaxInstructions = InstructionLimit });
                log = logWriter.ToString();
            }
            return new RunOutput(File.ReadAllBytes(outPath), File.ReadAllText(errPath) + log, result.ExitStatus, result.Instructions);
        }
        finally
        {
            File.Delete(outPath); File.Delete(errPath);
        }
    }

    /// <summary>Runs under qemu-aarch64-static with the same argv (argv[0] included), environment and stdin.</summary>
    public static RunOutput RunQemu(string program, IReadOnlyList<string> argv, string? stdinFile = null)
    {
        var psi = new ProcessStartInfo(Qemu)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        psi.ArgumentList.Add("-0");
        psi.ArgumentList.Add(argv[0]);
        psi.ArgumentList.Add(program);
        for (int i = 1; i < argv.Count; i++) psi.ArgumentList.Add(argv[i]);
        psi.Environment.Clear();
        foreach (var kv in Environment) { int eq = kv.IndexOf('='); psi.Environment[kv[..eq]] = kv[(eq + 1)..]; }
        using var p = Process.Start(psi)!;
        var stdout = new MemoryStream();
        var copyOut = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        var err = p.StandardError.ReadToEndAsync();
        try
        {
            if (stdinFile != null)
            {
                using var input = File.OpenRead(stdinFile);
                input.CopyTo(p.StandardInput.BaseStream);
            }
        }
        catch (IOException) { } // the program stopped reading early
        p.StandardInput.Close();
        copyOut.Wait();
        p.WaitForExit();
        // A death by signal shows as 128+signal, as a shell (and kvmfs user) reports it.
        int status = p.ExitCode;
        return new RunOutput(stdout.ToArray(), err.Result, status);
    }

    /// <summary>Runs both and asserts byte-identical stdout and the same exit status; returns the emulator's run.</summary>
    public static RunOutput AssertSame(string program, IReadOnlyList<string> argv, string? stdinFile = null)
    {
        var reference = RunQemu(program, argv, stdinFile);
        var ours = RunEmulator(program, argv, stdinFile);
        string what = string.Join(' ', argv.Skip(1));
        Assert.True(ours.ExitStatus == reference.ExitStatus,
            $"{what}: exit status {ours.ExitStatus}, qemu {reference.ExitStatus}\nours stderr: {ours.Stderr}\nqemu stderr: {reference.Stderr}");
        if (!ours.Stdout.AsSpan().SequenceEqual(reference.Stdout))
        {
            int at = 0;
            while (at < ours.Stdout.Length && at < reference.Stdout.Length && ours.Stdout[at] == reference.Stdout[at]) at++;
            Assert.Fail($"{what}: stdout differs at byte {at} (ours {ours.Stdout.Length} bytes, qemu {reference.Stdout.Length})\n" +
                $"ours: {Excerpt(ours.Stdout, at)}\nqemu: {Excerpt(reference.Stdout, at)}\nours stderr: {ours.Stderr}");
        }
        return ours;
    }

    static string Excerpt(byte[] b, int at)
    {
        int start = Math.Max(0, at - 40), len = Math.Min(b.Length - start, 120);
        return len <= 0 ? "<end>" : Encoding.UTF8.GetString(b, start, len).Replace("\n", "\\n");
    }

    /// <summary>Compiles a C file from programs/ with aarch64-linux-gnu-gcc (once per flags) and returns the executable.</summary>
    public static string Compile(string source, string flags)
    {
        lock (compiled)
        {
            string key = source + " " + flags;
            if (compiled.TryGetValue(key, out var done)) return done;
            string exe = Path.Combine(TempDir, Path.GetFileNameWithoutExtension(source) + "-" + compiled.Count);
            var psi = new ProcessStartInfo(Gcc) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (var f in flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)) psi.ArgumentList.Add(f);
            if (!flags.Contains("-static-pie")) psi.ArgumentList.Add("-static");
            psi.ArgumentList.Add("-o");
            psi.ArgumentList.Add(exe);
            psi.ArgumentList.Add(Path.Combine(SourceDirectory(), "programs", source));
            psi.ArgumentList.Add("-lm");
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"{Gcc} {flags} {source} failed: {err}");
            compiled[key] = exe;
            return exe;
        }
    }
    static readonly Dictionary<string, string> compiled = new();
}

/// <summary>A fact that needs qemu-aarch64-static and the busybox guest asset; skipped with the reason otherwise.</summary>
public sealed class BusyboxFactAttribute : FactAttribute
{
    public BusyboxFactAttribute()
    {
        if (!UserHarness.HaveQemu) Skip = "needs qemu-aarch64-static (make setup installs qemu-user-static)";
        else if (!UserHarness.HaveBusybox) Skip = $"needs the busybox guest asset at {UserHarness.Busybox} (make setup fetches it)";
    }
}

/// <summary>A theory that needs qemu-aarch64-static and aarch64-linux-gnu-gcc; skipped with the reason otherwise.</summary>
public sealed class CompiledTheoryAttribute : TheoryAttribute
{
    public CompiledTheoryAttribute()
    {
        if (!UserHarness.HaveQemu) Skip = "needs qemu-aarch64-static (make setup installs qemu-user-static)";
        else if (!UserHarness.HaveGcc) Skip = "needs aarch64-linux-gnu-gcc (make setup installs gcc-aarch64-linux-gnu)";
    }
}
