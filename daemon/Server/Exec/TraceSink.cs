using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Trace;

namespace Kvmfs.Daemon.Exec;

/// <summary>
/// Writes every published ioctl event to a text stream, one line each: the strace-style form or
/// JSON lines (both from <see cref="TraceFormatter"/>, described in docs/trace-format.md).
/// </summary>
public sealed class TraceSink : IDisposable
{
    private readonly TextWriter _writer;
    private readonly bool _ownsWriter;
    private readonly Func<IoctlTraceEvent, string> _format;
    private readonly IDisposable _subscription;
    private readonly object _gate = new();
    private bool _closed;

    private TraceSink(TextWriter writer, bool ownsWriter, Func<IoctlTraceEvent, string> format, Func<IoctlTraceEvent, bool>? filter)
    {
        _writer = writer;
        _ownsWriter = ownsWriter;
        _format = format;
        _subscription = KvmTrace.Subscribe(e =>
        {
            if (filter is null || filter(e)) Write(e);
        });
    }

    /// <summary>Text lines to <paramref name="path"/>, or to stderr when it is null or "-".</summary>
    public static TraceSink Text(string? path, Func<IoctlTraceEvent, bool>? filter = null) =>
        Open(path, TraceFormatter.FormatText, filter);

    /// <summary>JSON lines to <paramref name="path"/> (stderr for "-").</summary>
    public static TraceSink Json(string path, Func<IoctlTraceEvent, bool>? filter = null) =>
        Open(path, TraceFormatter.FormatJson, filter);

    private static TraceSink Open(string? path, Func<IoctlTraceEvent, string> format, Func<IoctlTraceEvent, bool>? filter)
    {
        if (string.IsNullOrEmpty(path) || path == "-") return new TraceSink(Console.Error, false, format, filter);
        var w = new StreamWriter(path, append: false) { AutoFlush = true };
        return new TraceSink(w, true, format, filter);
    }

    private void Write(IoctlTraceEvent e)
    {
        string line = _format(e);
        lock (_gate)
        {
            if (_closed) return;
            _writer.WriteLine(line);
        }
    }

    public void Dispose()
    {
        _subscription.Dispose();
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            _writer.Flush();
            if (_ownsWriter) _writer.Dispose();
        }
    }
}
