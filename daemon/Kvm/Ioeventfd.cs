using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>One KVM_IOEVENTFD: a guest write to [Addr, Addr+Length) (matching Datamatch unless wildcard) signals the eventfd.</summary>
public sealed record Ioeventfd(int EventFd, ulong Addr, uint Length, bool Pio, bool Wildcard, ulong Datamatch);

/// <summary>
/// The VM's ioeventfds (virt/kvm/eventfd.c) with KVM's assign/deassign rules. A guest MMIO write
/// that matches one will signal it instead of exiting to the VMM once guests run.
/// </summary>
public sealed class Ioeventfds
{
    /// <summary>NR_IOBUS_DEVS: devices per bus.</summary>
    private const int MaxPerBus = 1000;
    private readonly List<Ioeventfd> _list = [];

    public Ioeventfd[] Snapshot { get { lock (_list) return [.. _list]; } }

    /// <summary>The ioeventfd a guest write of <paramref name="len"/> bytes hits, or null. For the MMIO exit path.</summary>
    public Ioeventfd? Match(ulong addr, uint len, ulong data)
    {
        lock (_list)
            foreach (var e in _list)
                if (!e.Pio && e.Addr == addr && (e.Length == 0 || (e.Length == len && (e.Wildcard || e.Datamatch == data)))) return e;
        return null;
    }

    public int Handle(KvmIoeventfd args, IUserAccess user, out string why)
    {
        why = "";
        bool pio = (args.flags & KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_PIO) != 0;
        bool wildcard = (args.flags & KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_DATAMATCH) == 0;
        if ((args.flags & KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_DEASSIGN) != 0)
        {
            int dfd = user.GetFile(args.fd);
            if (dfd < 0) { why = $"fd {args.fd} is not open"; return -Errno.EBADF; }
            try
            {
                if (!EventFd.IsEventFd(dfd)) { why = $"fd {args.fd} is not an eventfd"; return -Errno.EINVAL; }
                lock (_list)
                {
                    var found = _list.Find(e => e.Pio == pio && e.Addr == args.addr && e.Length == args.len && e.Wildcard == wildcard
                                                && (wildcard || e.Datamatch == args.datamatch) && EventFd.SameFile(e.EventFd, dfd));
                    if (found is null) { why = $"no ioeventfd at 0x{args.addr:x}"; return -Errno.ENOENT; }
                    _list.Remove(found);
                    EventFd.Close(found.EventFd);
                    return 0;
                }
            }
            finally { EventFd.Close(dfd); }
        }

        if (args.len is not (0 or 1 or 2 or 4 or 8)) { why = $"length {args.len}"; return -Errno.EINVAL; }
        if (args.addr + args.len < args.addr) { why = "range wraps"; return -Errno.EINVAL; }
        if ((args.flags & ~KvmIoeventfdFlags.KVM_IOEVENTFD_VALID_FLAG_MASK) != 0) { why = $"unknown flags 0x{args.flags:x}"; return -Errno.EINVAL; }
        if (args.len == 0 && !wildcard) { why = "datamatch needs a length"; return -Errno.EINVAL; }

        int fd = user.GetFile(args.fd);
        if (fd < 0) { why = $"fd {args.fd} is not open"; return -Errno.EBADF; }
        if (!EventFd.IsEventFd(fd)) { EventFd.Close(fd); why = $"fd {args.fd} is not an eventfd"; return -Errno.EINVAL; }
        var p = new Ioeventfd(fd, args.addr, args.len, pio, wildcard, wildcard ? 0 : args.datamatch);
        lock (_list)
        {
            foreach (var e in _list)
            {
                if (e.Pio == p.Pio && e.Addr == p.Addr &&
                    (e.Length == 0 || p.Length == 0 || (e.Length == p.Length && (e.Wildcard || p.Wildcard || e.Datamatch == p.Datamatch))))
                {
                    EventFd.Close(fd);
                    why = $"collides with the ioeventfd at 0x{e.Addr:x}";
                    return -Errno.EEXIST;
                }
            }
            if (_list.Count(e => e.Pio == pio) >= MaxPerBus) { EventFd.Close(fd); why = "bus full"; return -Errno.ENOSPC; }
            _list.Add(p);
        }
        return 0;
    }

    public void Clear()
    {
        lock (_list)
        {
            foreach (var e in _list) EventFd.Close(e.EventFd);
            _list.Clear();
        }
    }
}
