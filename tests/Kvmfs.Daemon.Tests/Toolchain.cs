using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// What the daemon tests build outside .NET: the preload shim (from protocol/shim, into a private
/// folder, so the tests never depend on a stale out/) and the small C clients. Needs the tools
/// `make setup` installs: gcc, aarch64-linux-gnu-gcc, qemu-aarch64-static.
/// </summary>
internal static class Toolchain
{
    private static readonly object Gate = new();
    private static string? _shimDir;
    private static readonly Dictionary<string, string> Built = new();

    public static string RepoRoot { get; } = FindRoot();

    private static string FindRoot([CallerFilePath] string here = "")
    {
        for (var d = new DirectoryInfo(Path.GetDirectoryName(here)!); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "kvmfs.sln"))) return d.FullName;
        throw new InvalidOperationException("kvmfs.sln not found above " + here);
    }

    public static string WorkDir { get; } = MakeWorkDir();

    private static string MakeWorkDir()
    {
        string dir = Directory.CreateTempSubdirectory("kvmfs-daemon-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch { /* a VMM may still hold a file */ }
        };
        return dir;
    }

    /// <summary>Builds both shims (make -C protocol/shim) once; returns the folder holding aarch64/ and x86_64/.</summary>
    public static string ShimDir
    {
        get
        {
            lock (Gate)
            {
                if (_shimDir is not null) return _shimDir;
                string dir = Path.Combine(WorkDir, "lib");
                Run("make", ["-s", "-C", Path.Combine(RepoRoot, "protocol", "shim"), "OUT=" + dir], 120);
                return _shimDir = dir;
            }
        }
    }

    /// <summary>Compiles tests/Kvmfs.Daemon.Tests/clients/<paramref name="name"/>.c for aarch64 (or the host).</summary>
    public static string Client(string name, bool arm64 = true)
    {
        lock (Gate)
        {
            string key = name + (arm64 ? ".arm64" : ".host");
            if (Built.TryGetValue(key, out var done)) return done;
            string src = Path.Combine(RepoRoot, "tests", "Kvmfs.Daemon.Tests", "clients", name + ".c");
            string exe = Path.Combine(WorkDir, key);
            Run(arm64 ? "aarch64-linux-gnu-gcc" : "gcc", ["-O1", "-Wall", "-pthread", "-o", exe, src], 120);
            Built[key] = exe;
            return exe;
        }
    }

    /// <summary>kvmfs as built next to the tests (the Daemon project is referenced).</summary>
    public static string KvmfsDll => Path.Combine(AppContext.BaseDirectory, "kvmfs.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr, bool TimedOut);

    public static Result Run(string file, IEnumerable<string> args, int timeoutSeconds, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        bool exited = p.WaitForExit(timeoutSeconds * 1000);
        if (!exited)
        {
            try { p.Kill(entireProcessTree: true); } catch { }
            p.WaitForExit();
        }
        var r = new Result(exited ? p.ExitCode : -1, stdout.Result, stderr.Result, !exited);
        if (file is "make" or "gcc" or "aarch64-linux-gnu-gcc" && r.ExitCode != 0)
            throw new InvalidOperationException($"{file} failed:\n{r.Stdout}\n{r.Stderr}");
        return r;
    }

    /// <summary>`kvmfs exec ARGS` as its own process (dotnet kvmfs.dll), with the freshly built shims.</summary>
    public static Result KvmfsExec(IEnumerable<string> execArgs, int timeoutSeconds, IDictionary<string, string>? env = null)
    {
        var e = new Dictionary<string, string> { ["KVMFS_SHIM_DIR"] = ShimDir };
        if (env is not null) foreach (var (k, v) in env) e[k] = v;
        return Run("dotnet", [KvmfsDll, "exec", .. execArgs], timeoutSeconds, e);
    }

    /// <summary>
    /// `kvmfs exec ARGS` that is sent SIGTERM (which it passes on to the VMM) once
    /// <paramref name="done"/> holds for the file at <paramref name="watch"/>: QEMU does not exit
    /// when KVM_RUN reports a failure, it stops the VM and waits.
    /// </summary>
    public static Result KvmfsExecUntil(IEnumerable<string> execArgs, string watch, Func<string[], bool> done, int timeoutSeconds)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(KvmfsDll);
        psi.ArgumentList.Add("exec");
        foreach (var a in execArgs) psi.ArgumentList.Add(a);
        psi.Environment["KVMFS_SHIM_DIR"] = ShimDir;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        bool signalled = false;
        while (!p.WaitForExit(200))
        {
            if (clock.Elapsed.TotalSeconds > timeoutSeconds) break;
            if (!signalled && File.Exists(watch) && done(ReadShared(watch)))
            {
                Thread.Sleep(500);
                Kill(p.Id, 15);
                signalled = true;
            }
        }
        bool exited = p.HasExited || p.WaitForExit(15000);
        if (!exited)
        {
            try { p.Kill(entireProcessTree: true); } catch { }
            p.WaitForExit();
        }
        return new Result(exited ? p.ExitCode : -1, stdout.Result, stderr.Result, !exited);
    }

    private static string[] ReadShared(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var r = new StreamReader(f);
        return r.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    /// <summary>"name=value" lines of a client's output.</summary>
    public static Dictionary<string, string> Values(string stdout)
    {
        var d = new Dictionary<string, string>();
        foreach (var line in stdout.Split('\n'))
        {
            int eq = line.IndexOf('=');
            if (eq > 0) d[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return d;
    }
}
