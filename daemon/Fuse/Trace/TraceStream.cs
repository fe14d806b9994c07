using System.Collections.Concurrent;
using System.Text;
using Kvmfs.Fuse.Native;
using Kvmfs.Fuse.Protocol;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Trace;
using Serilog;

namespace Kvmfs.Fuse.Trace;

/// <summary>
/// The trace file's contents: a header line, then the decoded ioctl and exit trace as an
/// ever-growing log. The file's size is the number of bytes produced so far, so `tail -f` works
/// as on a log; the last <see cref="Capacity"/> bytes are kept, older ones are skipped over.
/// A read at the end waits for the next event (or fails with EAGAIN under O_NONBLOCK), and is
/// ended by a signal with EINTR. Events are recorded while at least one reader has the file open:
/// publishing costs the front ends nothing otherwise.
/// </summary>
public sealed class TraceStream : IDisposable
{
    public const int Capacity = 1 << 20;

    private readonly object _gate = new();
    private readonly byte[] _header;
    private readonly byte[] _ring = new byte[Capacity];
    private readonly Func<IoctlTraceEvent, string> _format;
    private readonly Action<ulong> _notifyPoll;
    private readonly List<Waiter> _waiters = [];
    private readonly List<Reader> _readers = [];
    private long _total;
    private DateTimeOffset _lastWrite = DateTimeOffset.UtcNow;
    private IDisposable? _subscription;
    private bool _closed;

    // Events are formatted off the publishing (vCPU) thread: the subscriber only queues them.
    private readonly BlockingCollection<IoctlTraceEvent> _pending = new(new ConcurrentQueue<IoctlTraceEvent>(), 65536);
    private Thread? _pump;

    public TraceStream(string headerLine, Func<IoctlTraceEvent, string> format, Action<ulong> notifyPoll)
    {
        _header = Encoding.UTF8.GetBytes(headerLine + "\n");
        _total = _header.Length;
        _format = format;
        _notifyPoll = notifyPoll;
    }

    /// <summary>The bytes produced so far, header included: the file's size.</summary>
    public long Length { get { lock (_gate) return _total; } }

    public DateTimeOffset LastWrite { get { lock (_gate) return _lastWrite; } }

    /// <summary>One open of the trace file: where it read last, and its pending poll.</summary>
    public sealed class Reader
    {
        internal long ExpectedOffset = -1;
        internal long Cursor;
        internal ulong? PollKh;
    }

    private sealed record Waiter(FuseRequest Request, Reader Reader, long Offset, int Size);

    public Reader Open()
    {
        var r = new Reader();
        lock (_gate)
        {
            _readers.Add(r);
            if (_subscription == null && !_closed)
            {
                _pump ??= StartPump();
                _subscription = KvmTrace.Subscribe(e => _pending.TryAdd(e));
            }
        }
        return r;
    }

    public void Close(Reader reader)
    {
        lock (_gate)
        {
            _readers.Remove(reader);
            _waiters.RemoveAll(w => w.Reader == reader);
            if (_readers.Count == 0)
            {
                _subscription?.Dispose();
                _subscription = null;
            }
        }
    }

    /// <summary>Answers a READ now if there is data at the reader's position, else when there is.</summary>
    public void Read(FuseRequest request, Reader reader, long offset, int size, bool nonBlocking)
    {
        lock (_gate)
        {
            if (TryAnswer(request, reader, offset, size)) return;
            if (_closed) { request.ReplyEmpty(); return; }
            if (nonBlocking) { request.ReplyError(LibC.EAGAIN); return; }
            var waiter = new Waiter(request, reader, offset, size);
            _waiters.Add(waiter);
            request.OnInterrupt(() =>
            {
                // The reader got a signal: its read ends with EINTR, as a read of a pipe would.
                lock (_gate) _waiters.Remove(waiter);
                request.ReplyError(LibC.EINTR);
            });
        }
    }

    /// <summary>POLL: readable when there is data past the reader's last read. With
    /// <paramref name="scheduleNotify"/>, the kernel is told (FUSE_NOTIFY_POLL) once there is.</summary>
    public uint Poll(Reader reader, ulong kh, bool scheduleNotify)
    {
        lock (_gate)
        {
            long pos = reader.ExpectedOffset < 0 ? 0 : reader.Cursor;
            if (pos < _total || _closed) return (uint)(LibC.POLLIN | LibC.POLLRDNORM);
            if (scheduleNotify) reader.PollKh = kh;
            return 0;
        }
    }

    /// <summary>Adds text to the stream (events, or a note such as "trace restarted").</summary>
    public void Append(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        List<ulong>? wake = null;
        lock (_gate)
        {
            if (_closed) return;
            ReadOnlySpan<byte> src = bytes.Length > Capacity ? bytes.AsSpan(bytes.Length - Capacity) : bytes;
            long start = _total + (bytes.Length - src.Length);
            for (int done = 0; done < src.Length;)
            {
                int at = (int)((start + done - _header.Length) % Capacity);
                int n = Math.Min(src.Length - done, Capacity - at);
                src.Slice(done, n).CopyTo(_ring.AsSpan(at));
                done += n;
            }
            _total += bytes.Length;
            _lastWrite = DateTimeOffset.UtcNow;

            for (int i = _waiters.Count - 1; i >= 0; i--)
            {
                var w = _waiters[i];
                if (TryAnswer(w.Request, w.Reader, w.Offset, w.Size)) _waiters.RemoveAt(i);
            }
            foreach (var r in _readers)
            {
                if (r.PollKh is ulong kh) { (wake ??= []).Add(kh); r.PollKh = null; }
            }
        }
        if (wake != null) foreach (var kh in wake) _notifyPoll(kh);
    }

    // Under _gate. Where a read at kernel file offset `offset` starts in the stream: sequential
    // reads continue at the reader's cursor (which may have skipped history that was dropped);
    // a seek (tail reading backwards from the end) addresses the stream directly.
    private long Map(Reader reader, long offset)
    {
        if (offset == reader.ExpectedOffset) return reader.Cursor;
        long ringStart = Math.Max(_header.Length, _total - Capacity);
        if (offset < _header.Length) return offset;
        return Math.Min(Math.Max(offset, ringStart), _total);
    }

    private bool TryAnswer(FuseRequest request, Reader reader, long offset, int size)
    {
        long pos = Map(reader, offset);
        if (pos >= _total || size <= 0) return false;
        if (!request.TryClaim()) return true; // interrupted meanwhile: nothing left to answer

        var data = new byte[(int)Math.Min(size, _total - pos)];
        int filled = 0;
        long ringStart = Math.Max(_header.Length, _total - Capacity);
        while (filled < data.Length && pos < _total)
        {
            if (pos < _header.Length)
            {
                int n = (int)Math.Min(data.Length - filled, _header.Length - pos);
                _header.AsSpan((int)pos, n).CopyTo(data.AsSpan(filled));
                filled += n; pos += n;
                if (pos == _header.Length) pos = Math.Max(pos, ringStart);
            }
            else
            {
                int at = (int)((pos - _header.Length) % Capacity);
                int n = (int)Math.Min(Math.Min(data.Length - filled, Capacity - at), _total - pos);
                _ring.AsSpan(at, n).CopyTo(data.AsSpan(filled));
                filled += n; pos += n;
            }
        }
        reader.ExpectedOffset = offset + filled;
        reader.Cursor = pos;
        request.SendClaimed(0, data.AsSpan(0, filled));
        return true;
    }

    private Thread StartPump()
    {
        var t = new Thread(() =>
        {
            foreach (var e in _pending.GetConsumingEnumerable())
            {
                string line;
                try { line = _format(e); }
                catch (Exception ex) { line = $"(trace event could not be formatted: {ex.Message})\n"; }
                if (!line.EndsWith('\n')) line += "\n";
                Append(line);
            }
        }) { IsBackground = true, Name = "fuse-trace" };
        t.Start();
        return t;
    }

    /// <summary>Ends the stream: waiting readers get end-of-file.</summary>
    public void Dispose()
    {
        List<Waiter> waiters;
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            _subscription?.Dispose();
            _subscription = null;
            waiters = [.. _waiters];
            _waiters.Clear();
        }
        foreach (var w in waiters) w.Request.ReplyEmpty();
        _pending.CompleteAdding();
        Log.Debug("fuse: trace stream closed after {Bytes} bytes", _total);
    }
}
