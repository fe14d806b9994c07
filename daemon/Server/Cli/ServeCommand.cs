using System.CommandLine;
using System.Runtime.InteropServices;
using Kvmfs.Daemon.Exec;
using Kvmfs.Daemon.Shim;
using Kvmfs.Fuse;
using Serilog;
using Serilog.Events;

namespace Kvmfs.Daemon.Cli;

/// <summary>
/// kvmfs serve: the daemon. Answers the preload shim on a Unix socket and, with --mount, shows
/// the kvmfs file system. Runs until SIGINT or SIGTERM.
/// </summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var socket = new Option<string?>("--socket") { Description = "Unix socket the shim connects to (default $KVMFS_SOCKET, else /run/kvmfs/kvmfs.sock)." };
        var mount = new Option<string?>("--mount") { Description = "Also mount the kvmfs file system on this directory (e.g. /run/kvmfs/fs)." };
        var trace = new Option<string?>("--trace") { Description = "Write every ioctl as a text line to FILE (stderr without FILE).", Arity = ArgumentArity.ZeroOrOne };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Debug logging." };
        var command = new Command("serve", "Run the kvmfs daemon: the arm64 KVM API for preloaded VMMs (kvmfs exec) and the file system.");
        command.Options.Add(socket);
        command.Options.Add(mount);
        command.Options.Add(trace);
        command.Options.Add(verbose);
        command.SetAction(r => Run(
            r.GetValue(socket) ?? ShimServer.DefaultSocketPath,
            r.GetValue(mount),
            r.GetResult(trace) is null ? null : r.GetValue(trace) ?? "-",
            r.GetValue(verbose)));
        return command;
    }

    private static int Run(string socketPath, string? mountDir, string? tracePath, bool verbose)
    {
        Logging.Configure(Logging.Level(LogEventLevel.Information, verbose));
        using var server = new ShimServer(socketPath);
        using var traceSink = tracePath is null ? null : TraceSink.Text(tracePath);
        try
        {
            server.Start();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.Error("cannot start: {Reason}", e.Message);
            return 1;
        }

        KvmfsFileSystem? fs = null;
        if (mountDir is not null)
        {
            try
            {
                // The default view reads KvmHost: every live VM, whether the shim or the file system made it.
                fs = KvmfsFileSystem.Mount(mountDir);
                Log.Information("kvmfs file system mounted on {Mount}", fs.MountPoint);
            }
            catch (Exception e)
            {
                // The shim socket works without it; say why the file system is missing.
                Log.Error("kvmfs file system not mounted on {Mount}: {Reason}", mountDir, e.Message);
            }
        }

        using var stop = new ManualResetEventSlim();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Set(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Set(); });
        stop.Wait();
        Log.Information("stopping");
        fs?.Dispose();
        return 0;
    }
}
