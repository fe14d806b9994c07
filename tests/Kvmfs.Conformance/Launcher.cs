using System.Diagnostics;

namespace Kvmfs.Conformance;

/// <summary>
/// How an arm64 selftest is started on this x86 machine. "kvmfs": through `kvmfs exec --`,
/// which preloads the shim so /dev/kvm is answered by the daemon. "qemu": plain
/// qemu-aarch64-static, where the tests find no /dev/kvm and skip; it is the fallback while
/// `kvmfs exec` is not built yet, and the baseline that shows the harness itself works.
/// </summary>
public sealed record Launcher(string Name, string Program, IReadOnlyList<string> PrefixArgs, string Description)
{
    const string ArmSysroot = "/usr/aarch64-linux-gnu";

    /// <summary>
    /// The arguments after <see cref="Program"/>. For kvmfs: with a socket path, `kvmfs exec`
    /// starts its own daemon there (an unused path), so the test meets this build's daemon and
    /// not one somebody else left running on the default socket; with a trace path, every ioctl
    /// of the test is decoded into that file.
    /// </summary>
    public IEnumerable<string> Command(string test, IEnumerable<string> args, string? tracePath = null, string? socketPath = null)
    {
        if (Name != "kvmfs")
            return PrefixArgs.Append(test).Concat(args);
        var command = new List<string> { "exec" };
        if (socketPath is not null) command.AddRange(["--socket", socketPath]);
        if (tracePath is not null) command.AddRange(["--trace", tracePath]);
        command.Add("--");
        command.Add(test);
        command.AddRange(args);
        return command;
    }

    public static Launcher Resolve(string mode, string kvmfsPath)
    {
        switch (mode)
        {
            case "kvmfs":
                return Kvmfs(kvmfsPath);
            case "qemu":
                return Qemu("chosen with --launcher qemu");
            case "auto":
                var why = KvmfsExecUnavailable(kvmfsPath);
                return why is null ? Kvmfs(kvmfsPath) : Qemu(why);
            default:
                throw new ArgumentException($"unknown launcher '{mode}' (auto, kvmfs or qemu)");
        }
    }

    static Launcher Kvmfs(string path) =>
        new("kvmfs", Path.GetFullPath(path), ["exec", "--"], $"{path} exec -- <test>");

    static Launcher Qemu(string why)
    {
        var qemu = FindOnPath("qemu-aarch64-static") ?? FindOnPath("qemu-aarch64")
                   ?? throw new InvalidOperationException("qemu-aarch64-static not found (make setup installs qemu-user-static)");
        return new("qemu", qemu, ["-L", ArmSysroot],
                   $"qemu-aarch64-static -L {ArmSysroot} <test>, no KVM device ({why})");
    }

    /// <summary>Null when `kvmfs exec` is there and built; otherwise why not.</summary>
    static string? KvmfsExecUnavailable(string path)
    {
        if (!File.Exists(path))
            return $"{path} not built";
        try
        {
            var psi = new ProcessStartInfo(path) { RedirectStandardOutput = true, RedirectStandardError = true };
            psi.ArgumentList.Add("exec");
            psi.ArgumentList.Add("--help");
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
            {
                p.Kill(entireProcessTree: true);
                return "kvmfs exec --help did not answer";
            }
            var text = stdout.Result + stderr.Result;
            // The placeholder verb describes itself as "Not built yet."
            if (p.ExitCode != 0 || text.Contains("not built yet", StringComparison.OrdinalIgnoreCase))
                return "kvmfs exec not built yet";
            return null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return $"cannot start {path}: {e.Message}";
        }
    }

    static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
