using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kvmfs.Fuse.Protocol;

/// <summary>
/// One request read from /dev/fuse: its header, a copy of its body, and the way to answer it
/// exactly once. A request may be answered later from another thread (a stream read that waits
/// for data, a KVM_RUN); the kernel's FUSE_INTERRUPT for it runs the action given to
/// <see cref="OnInterrupt"/>.
/// </summary>
public sealed class FuseRequest
{
    private readonly FuseSession _session;
    private int _answered;
    private Action? _onInterrupt;

    internal FuseRequest(FuseSession session, in FuseInHeader header, byte[] body)
    {
        _session = session;
        Header = header;
        Body = body;
    }

    public FuseInHeader Header { get; }

    public FuseOpcode Opcode => (FuseOpcode)Header.Opcode;

    public ulong Unique => Header.Unique;

    public ulong NodeId => Header.NodeId;

    /// <summary>The bytes after the in header (extensions stripped).</summary>
    public byte[] Body { get; }

    public bool Answered => Volatile.Read(ref _answered) != 0;

    /// <summary>Reads the fixed part of the body as <typeparamref name="T"/>; a short body reads as zeros past its end.</summary>
    public T Read<T>(int offset = 0) where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (Body.Length >= offset + size) return MemoryMarshal.Read<T>(Body.AsSpan(offset));
        Span<byte> padded = stackalloc byte[size];
        padded.Clear();
        if (offset < Body.Length) Body.AsSpan(offset).CopyTo(padded);
        return MemoryMarshal.Read<T>(padded);
    }

    /// <summary>A NUL-terminated name in the body (LOOKUP).</summary>
    public string ReadName(int offset = 0)
    {
        var span = Body.AsSpan(offset);
        int end = span.IndexOf((byte)0);
        return System.Text.Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
    }

    /// <summary>
    /// Asks to be told when the kernel interrupts this request (the caller got a signal). The
    /// action must answer the request (usually with EINTR) or make sure it is answered soon.
    /// Returns false if the request was already answered.
    /// </summary>
    public bool OnInterrupt(Action action)
    {
        _onInterrupt = action;
        _session.RegisterInterruptible(this);
        if (Answered) { _session.UnregisterInterruptible(this); return false; }
        return true;
    }

    internal bool RunInterrupt()
    {
        var action = Interlocked.Exchange(ref _onInterrupt, null);
        if (action == null) return false;
        try { action(); } catch (Exception e) { Serilog.Log.Warning(e, "fuse: interrupt handler of {Opcode} failed", Opcode); }
        return true;
    }

    public void ReplyError(int errno) => Send(-Math.Abs(errno), []);

    public void ReplyEmpty() => Send(0, []);

    public void Reply(ReadOnlySpan<byte> payload) => Send(0, payload);

    public void Reply<T>(in T value) where T : unmanaged =>
        Send(0, MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value)));

    public void Reply<T>(in T value, ReadOnlySpan<byte> tail) where T : unmanaged
    {
        var head = MemoryMarshal.AsBytes(new ReadOnlySpan<T>(in value));
        var payload = new byte[head.Length + tail.Length];
        head.CopyTo(payload);
        tail.CopyTo(payload.AsSpan(head.Length));
        Send(0, payload);
    }

    /// <summary>True once: the caller that gets true owns the answer. Lets a waiter and an
    /// interrupt race safely for the right to answer.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _answered, 1) == 0;

    /// <summary>Answers a request claimed with <see cref="TryClaim"/>.</summary>
    public void SendClaimed(int error, ReadOnlySpan<byte> payload)
    {
        _onInterrupt = null;
        _session.UnregisterInterruptible(this);
        _session.WriteReply(Unique, error, payload);
    }

    private void Send(int error, ReadOnlySpan<byte> payload)
    {
        if (!TryClaim()) return;
        SendClaimed(error, payload);
    }
}
