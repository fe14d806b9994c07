using Kvmfs.Protocol.Trace;

namespace Kvmfs.Kvm.Core;

/// <summary>
/// Where every front end publishes its ioctl events, and where trace readers (the exec --trace
/// file, the FUSE trace node) subscribe. Publishing with no subscriber costs one null check.
/// </summary>
public static class KvmTrace
{
    private static readonly object Gate = new();
    private static Action<IoctlTraceEvent>[] _subscribers = [];

    public static bool Enabled => Volatile.Read(ref _subscribers).Length != 0;

    public static IDisposable Subscribe(Action<IoctlTraceEvent> subscriber)
    {
        lock (Gate) _subscribers = [.. _subscribers, subscriber];
        return new Subscription(subscriber);
    }

    public static void Publish(IoctlTraceEvent e)
    {
        foreach (var s in Volatile.Read(ref _subscribers))
        {
            try { s(e); } catch { /* a broken reader never breaks the VM */ }
        }
    }

    private sealed class Subscription(Action<IoctlTraceEvent> subscriber) : IDisposable
    {
        public void Dispose()
        {
            lock (Gate) _subscribers = Array.FindAll(_subscribers, s => s != subscriber);
        }
    }
}
