using System.Runtime.InteropServices;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>One GSI route: to a vGIC input (SPI) or an MSI.</summary>
public sealed record GsiRoute(uint Gsi, uint Type, uint Intid, KvmIrqRoutingMsi Msi, uint Flags);

/// <summary>KVM_SET_GSI_ROUTING (kvm_set_irq_routing and the arm64 kvm_set_routing_entry).</summary>
public sealed class GsiRouting
{
    private GsiRoute[] _routes = [];
    public GsiRoute[] Snapshot => Volatile.Read(ref _routes);

    internal void SetDefault(int nrSpis)
    {
        var routes = new GsiRoute[nrSpis];
        for (int i = 0; i < nrSpis; i++)
            routes[i] = new GsiRoute((uint)i, KvmIrqRoutingType.KVM_IRQ_ROUTING_IRQCHIP, (uint)(i + 32), default, 0);
        Volatile.Write(ref _routes, routes);
    }

    public int Set(IoctlCall call, in KvmIrqRouting header, out string why)
    {
        why = "";
        if (header.nr > Capabilities.MaxIrqRoutes) { why = $"{header.nr} routes > KVM_MAX_IRQ_ROUTES"; return -Errno.EINVAL; }
        if (header.flags != 0) { why = "flags must be 0"; return -Errno.EINVAL; }
        int entrySize = Marshal.SizeOf<KvmIrqRoutingEntry>();
        var bytes = new byte[header.nr * entrySize];
        if (header.nr != 0 && call.User.CopyFromUser(call.Argument + 8, bytes) != 0) { why = "cannot read the entries"; return -Errno.EFAULT; }
        var routes = new List<GsiRoute>((int)header.nr);
        for (int i = 0; i < header.nr; i++)
        {
            var e = MemoryMarshal.Read<KvmIrqRoutingEntry>(bytes.AsSpan(i * entrySize));
            if (e.gsi >= Capabilities.MaxIrqRoutes) { why = $"gsi {e.gsi}"; return -Errno.EINVAL; }
            if ((e.flags & ~KvmIrqRoutingType.KVM_MSI_VALID_DEVID) != 0) { why = $"entry flags 0x{e.flags:x}"; return -Errno.EINVAL; }
            switch (e.type)
            {
                case KvmIrqRoutingType.KVM_IRQ_ROUTING_IRQCHIP:
                    if (e.flags != 0) { why = "devid on an irqchip route"; return -Errno.EINVAL; }
                    if (e.u.irqchip.irqchip >= Protocol.Uapi.Kvm.KVM_NR_IRQCHIPS) { why = $"irqchip {e.u.irqchip.irqchip}"; return -Errno.EINVAL; }
                    // One GSI may reach the irqchip only once.
                    if (routes.Exists(r => r.Gsi == e.gsi && r.Type == e.type)) { why = $"gsi {e.gsi} routed twice"; return -Errno.EINVAL; }
                    routes.Add(new GsiRoute(e.gsi, e.type, e.u.irqchip.pin + 32, default, 0));
                    break;
                case KvmIrqRoutingType.KVM_IRQ_ROUTING_MSI:
                    if (routes.Exists(r => r.Gsi == e.gsi)) { why = $"gsi {e.gsi} routed twice"; return -Errno.EINVAL; }
                    routes.Add(new GsiRoute(e.gsi, e.type, 0, e.u.msi, e.flags));
                    break;
                default:
                    why = $"route type {e.type}";
                    return -Errno.EINVAL;
            }
        }
        Volatile.Write(ref _routes, [.. routes]);
        return 0;
    }
}
