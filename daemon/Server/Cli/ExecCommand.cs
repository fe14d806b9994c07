using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Kvmfs.Daemon.Exec;
using Kvmfs.Daemon.Shim;
using Serilog;
using Serilog.Events;

namespace Kvmfs.Daemon.Cli;

/// <summary>
/// kvmfs exec: runs a VMM (stock QEMU, kvmtool, a KVM test) against kvmfs. The VMM gets the
/// preload shim (under qemu-aarch64-static when it is an arm64 binary on another host) and a
/// daemon: one already answering on the socket, else one inside this process, which also makes
/// --trace possible. The VMM's exit status is ours.
/// </summary>
public static class ExecCommand
{
    public static Command Create()
    {
        var trace = new Option<string?>("--trace") { Description = "Write every ioctl as a decoded text line to FILE (stderr without FILE). Implies a private in-process daemon.", Arity = ArgumentArity.ZeroOrOne };
        var traceJson = new Option<string?>("--trace-json") { Description = "Write every ioctl as one JSON object per line to FILE." };
        var socket = new Option<string?>("--socket") { Description = "The daemon's socket to use (default $KVMFS_SOCKET, else /run/kvmfs/kvmfs.sock); without a daemon there, one runs inside kvmfs exec." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging of the in-process daemon." };
        var cmd = new Argument<string[]>("command") { Description = "The VMM and its arguments, after --.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("exec", "Run a VMM (e.g. `kvmfs exec --trace -- qemu-system-aarch64 -accel kvm ...`) with kvmfs as its /dev/kvm.");
        command.Options.Add(trace);
        command.Options.Add(traceJson);
        command.Options.Add(socket);
        command.Options.Add(verbose);
        command.Arguments.Add(cmd);
        command.SetAction(r => Run(
            r.GetValue(cmd) ?? [],
            r.GetResult(trace) is null ? null : r.GetValue(trace) ?? "-",
            r.GetValue(traceJson),
            r.GetValue(socket),
            r.GetValue(verbose)));
        return command;
    }

    public static int Run(IReadOnlyList<string> command, string? tracePath, string? traceJsonPath, string? socket, bool verbose)
    {
        Logging.Configure(Logging.Level(LogEventLevel.Warning, verbose));
        bool tracing = tracePath is not null || traceJsonPath is not null;
        string wanted = socket ?? ShimServer.DefaultSocketPath;

        ShimServer? server = null;
        string socketPath;
        if (!tracing && ShimServer.IsAnswering(wanted))
        {
            socketPath = wanted;
            Log.Debug("using the daemon on {Socket}", socketPath);
        }
        else
        {
            // A private daemon: it lives as long as this command, so nobody else may come to rely on it.
            if (tracing && ShimServer.IsAnswering(wanted))
                Log.Information("a daemon answers on {Socket}, but --trace needs this process's own daemon", wanted);
            socketPath = socket is not null && !ShimServer.IsAnswering(socket) ? socket : PrivateSocketPath();
            server = new ShimServer(socketPath);
            try { server.Start(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"kvmfs exec: cannot start a daemon on {socketPath}: {e.Message}");
                return 125;
            }
        }

        var sinks = new List<TraceSink>();
        try
        {
            if (tracePath is not null) sinks.Add(TraceSink.Text(tracePath));
            if (traceJsonPath is not null) sinks.Add(TraceSink.Json(traceJsonPath));

            ProcessStartInfo psi;
            try { psi = VmmLauncher.Prepare(command, socketPath); }
            catch (Exception e) when (e is FileNotFoundException or ArgumentException)
            {
                Console.Error.WriteLine($"kvmfs exec: {e.Message}");
                return 127;
            }
            Log.Debug("starting {File} {Args}", psi.FileName, string.Join(' ', psi.ArgumentList));
            using var child = Process.Start(psi)!;
            // Ctrl-C reaches the VMM through the terminal; we wait for it to finish. SIGTERM is passed on.
            using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
            using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Kill(child.Id, 15); });
            child.WaitForExit();
            int status = child.ExitCode;
            if (server is not null) WaitForSessions(server, TimeSpan.FromSeconds(3));
            return status;
        }
        finally
        {
            foreach (var s in sinks) s.Dispose();
            server?.Dispose();
        }
    }

    /// <summary>The VMM's sockets close when it exits; let its teardown finish (and be logged) before we stop.</summary>
    private static void WaitForSessions(ShimServer server, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (server.Sessions.Count > 0 && clock.Elapsed < limit) Thread.Sleep(20);
    }

    private static string PrivateSocketPath()
    {
        string name = $"exec-{Environment.ProcessId}.sock";
        string run = Path.GetDirectoryName(ShimServer.DefaultSocketPath) ?? "/run/kvmfs";
        try
        {
            Directory.CreateDirectory(run);
            string probe = Path.Combine(run, $".probe-{Environment.ProcessId}");
            File.WriteAllText(probe, "");
            File.Delete(probe);
            return Path.Combine(run, name);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            string dir = Path.Combine(Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") ?? Path.GetTempPath(), "kvmfs");
            Directory.CreateDirectory(dir);
            return Path.Combine(dir, name);
        }
    }

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
