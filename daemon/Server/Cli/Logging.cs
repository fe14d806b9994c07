using Serilog;
using Serilog.Events;

namespace Kvmfs.Daemon.Cli;

/// <summary>Serilog to stderr, with the structured properties rendered in the message.</summary>
internal static class Logging
{
    public static void Configure(LogEventLevel level)
    {
        Log.Logger = new LoggerConfiguration()
            .MinimumLevel.Is(level)
            .Enrich.FromLogContext()
            .WriteTo.Console(
                outputTemplate: "[{Timestamp:HH:mm:ss.fff} {Level:u3}] kvmfs: {Message:lj}{NewLine}{Exception}",
                standardErrorFromLevel: LogEventLevel.Verbose)
            .CreateLogger();
    }

    /// <summary>KVMFS_LOG (verbose, debug, information, warning, error) overrides the default level.</summary>
    public static LogEventLevel Level(LogEventLevel fallback, bool verbose)
    {
        if (verbose) return LogEventLevel.Debug;
        return Enum.TryParse<LogEventLevel>(Environment.GetEnvironmentVariable("KVMFS_LOG"), true, out var l) ? l : fallback;
    }
}
