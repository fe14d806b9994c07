using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>One KVM_IRQFD binding: signalling the eventfd raises GSI <see cref="Gsi"/>.</summary>
public sealed record Irqfd(int EventFd, uint Gsi, int ResampleFd);

/// <summary>
/// The VM's irqfds (virt/kvm/eventfd.c): assign and deassign with KVM's errno. Delivery (reading
/// the eventfd and injecting through the GSI route) starts once guests run.
/// </summary>
public sealed class Irqfds(Vm vm)
{
    private readonly List<Irqfd> _list = [];
    public Vm Vm { get; } = vm;

    public Irqfd[] Snapshot { get { lock (_list) return [.. _list]; } }

    public int Handle(KvmIrqfd args, IUserAccess user, out string why)
    {
        why = "";
        const uint valid = KvmIrqfdFlags.KVM_IRQFD_FLAG_DEASSIGN | KvmIrqfdFlags.KVM_IRQFD_FLAG_RESAMPLE;
        if ((args.flags & ~valid) != 0) { why = $"unknown flags 0x{args.flags:x}"; return -Errno.EINVAL; }
        bool deassign = (args.flags & KvmIrqfdFlags.KVM_IRQFD_FLAG_DEASSIGN) != 0;
        // kvm_irqfd_assign: interrupts can be wired only to an initialized vGIC.
        if (!deassign && Vm.Vgic is not { Initialized: true }) { why = "the vGIC is not initialized yet"; return -Errno.EAGAIN; }
        int fd = user.GetFile((int)args.fd);
        if (fd < 0) { why = $"fd {(int)args.fd} is not open"; return -Errno.EBADF; }
        if (!EventFd.IsEventFd(fd)) { EventFd.Close(fd); why = $"fd {(int)args.fd} is not an eventfd"; return -Errno.EINVAL; }

        if (deassign)
        {
            // Deassigning something never assigned is not an error.
            lock (_list)
            {
                foreach (var e in _list.FindAll(e => e.Gsi == args.gsi && EventFd.SameFile(e.EventFd, fd)))
                {
                    _list.Remove(e);
                    Close(e);
                }
            }
            EventFd.Close(fd);
            return 0;
        }

        int resample = -1;
        if ((args.flags & KvmIrqfdFlags.KVM_IRQFD_FLAG_RESAMPLE) != 0)
        {
            resample = user.GetFile((int)args.resamplefd);
            if (resample < 0) { EventFd.Close(fd); why = "resamplefd is not open"; return -Errno.EBADF; }
            if (!EventFd.IsEventFd(resample)) { EventFd.Close(fd); EventFd.Close(resample); why = "resamplefd is not an eventfd"; return -Errno.EINVAL; }
        }
        lock (_list)
        {
            if (_list.Exists(e => EventFd.SameFile(e.EventFd, fd)))
            {
                EventFd.Close(fd); EventFd.Close(resample);
                why = "this eventfd already drives an irqfd";
                return -Errno.EBUSY;
            }
            _list.Add(new Irqfd(fd, args.gsi, resample));
        }
        return 0;
    }

    private static void Close(Irqfd e)
    {
        EventFd.Close(e.EventFd);
        EventFd.Close(e.ResampleFd);
    }

    public void Clear()
    {
        lock (_list)
        {
            foreach (var e in _list) Close(e);
            _list.Clear();
        }
    }
}
