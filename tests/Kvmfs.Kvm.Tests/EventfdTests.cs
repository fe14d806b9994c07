using System.Runtime.InteropServices;
using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

public class EventfdTests
{
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    public EventfdTests() => _vm = NewVm(_u);

    private void InitGic()
    {
        NewVcpu(_vm, _u, 0);
        var dev = Call(_vm, _u, KVM_CREATE_DEVICE, 0, Bytes(new KvmCreateDevice { type = KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3 })).Result.NewObject!;
        Assert.Equal(0, With(dev, _u, KVM_SET_DEVICE_ATTR, new KvmDeviceAttr { group = KvmVgic.KVM_DEV_ARM_VGIC_GRP_CTRL, attr = KvmVgic.KVM_DEV_ARM_VGIC_CTRL_INIT }));
    }

    [Fact]
    public void Irqfd_BeforeVgicInit_Eagain()
    {
        Assert.Equal(-EAGAIN, Irqfd(_u.NewEventFd(), 5));
        Assert.Equal(0, Irqfd(_u.NewEventFd(), 5, KvmIrqfdFlags.KVM_IRQFD_FLAG_DEASSIGN));
    }

    private long Irqfd(int fd, uint gsi, uint flags = 0) => With(_vm, _u, KVM_IRQFD, new KvmIrqfd { fd = (uint)fd, gsi = gsi, flags = flags });
    private long Ioeventfd(int fd, ulong addr, uint len, uint flags = 0, ulong datamatch = 0) =>
        With(_vm, _u, KVM_IOEVENTFD, new KvmIoeventfd { fd = fd, addr = addr, len = len, flags = flags, datamatch = datamatch });

    [Fact]
    public void Irqfd_AssignTwice_Ebusy_Deassign_Ok()
    {
        InitGic();
        int e = _u.NewEventFd();
        Assert.Equal(0, Irqfd(e, 5));
        Assert.Equal(-EBUSY, Irqfd(e, 6));
        Assert.Single(_vm.Irqfds.Snapshot);
        Assert.Equal(0, Irqfd(e, 5, KvmIrqfdFlags.KVM_IRQFD_FLAG_DEASSIGN));
        Assert.Empty(_vm.Irqfds.Snapshot);
        Assert.Equal(0, Irqfd(e, 5, KvmIrqfdFlags.KVM_IRQFD_FLAG_DEASSIGN)); // nothing to remove is fine
    }

    [Fact] public void Irqfd_BadFd_Ebadf() { InitGic(); Assert.Equal(-EBADF, Irqfd(99999, 1)); }
    [Fact] public void Irqfd_BadFlags_Einval() => Assert.Equal(-EINVAL, Irqfd(_u.NewEventFd(), 1, 8));

    [Fact]
    public void Irqfd_NotAnEventfd_Einval()
    {
        InitGic();
        using var f = File.OpenRead("/proc/self/stat");
        Assert.Equal(-EINVAL, Irqfd((int)f.SafeFileHandle.DangerousGetHandle(), 1));
    }

    [Fact]
    public void Ioeventfd_Assign_Collide_Deassign()
    {
        int e = _u.NewEventFd();
        uint dm = KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_DATAMATCH;
        Assert.Equal(0, Ioeventfd(e, 0xa000000, 4, dm, 1));
        Assert.Equal(0, Ioeventfd(e, 0xa000000, 4, dm, 2));
        Assert.Equal(-EEXIST, Ioeventfd(e, 0xa000000, 4, dm, 1));
        Assert.Equal(-EEXIST, Ioeventfd(e, 0xa000000, 4)); // wildcard collides with any datamatch
        Assert.NotNull(_vm.Ioeventfds.Match(0xa000000, 4, 2));
        Assert.Null(_vm.Ioeventfds.Match(0xa000000, 4, 3));
        Assert.Equal(-ENOENT, Ioeventfd(e, 0xa000000, 4, dm | KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_DEASSIGN, 3));
        Assert.Equal(0, Ioeventfd(e, 0xa000000, 4, dm | KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_DEASSIGN, 1));
        Assert.Single(_vm.Ioeventfds.Snapshot);
    }

    [Fact]
    public void Ioeventfd_Errno()
    {
        int e = _u.NewEventFd();
        Assert.Equal(-EINVAL, Ioeventfd(e, 0x1000, 3));
        Assert.Equal(-EINVAL, Ioeventfd(e, 0x1000, 0, KvmIoeventfdFlags.KVM_IOEVENTFD_FLAG_DATAMATCH));
        Assert.Equal(-EINVAL, Ioeventfd(e, 0x1000, 4, 1u << 6));
        Assert.Equal(-EINVAL, Ioeventfd(e, ulong.MaxValue - 1, 4));
        Assert.Equal(-EBADF, Ioeventfd(99999, 0x1000, 4));
    }

    [Fact]
    public void GsiRouting_Rules()
    {
        var entries = new KvmIrqRoutingEntry[2];
        entries[0] = new KvmIrqRoutingEntry { gsi = 0, type = KvmIrqRoutingType.KVM_IRQ_ROUTING_IRQCHIP };
        entries[0].u.irqchip.pin = 3;
        entries[1] = new KvmIrqRoutingEntry { gsi = 1, type = KvmIrqRoutingType.KVM_IRQ_ROUTING_MSI };
        ulong addr = _u.Alloc(8 + 48 * 2);
        unsafe { MemoryMarshal.AsBytes(entries.AsSpan()).CopyTo(new Span<byte>((void*)(addr + 8), 96)); }
        Assert.Equal(0, Call(_vm, _u, KVM_SET_GSI_ROUTING, addr, Bytes(new KvmIrqRouting { nr = 2 })).Result.Value);
        Assert.Equal(35u, _vm.Routing.Snapshot[0].Intid);
        Assert.Equal(-EINVAL, Call(_vm, _u, KVM_SET_GSI_ROUTING, addr, Bytes(new KvmIrqRouting { nr = 5000 })).Result.Value);
        Assert.Equal(-EINVAL, Call(_vm, _u, KVM_SET_GSI_ROUTING, addr, Bytes(new KvmIrqRouting { nr = 1, flags = 1 })).Result.Value);
        Assert.Equal(-EFAULT, Call(_vm, _u, KVM_SET_GSI_ROUTING, 16, Bytes(new KvmIrqRouting { nr = 1 })).Result.Value);
        entries[1].type = 9;
        unsafe { MemoryMarshal.AsBytes(entries.AsSpan()).CopyTo(new Span<byte>((void*)(addr + 8), 96)); }
        Assert.Equal(-EINVAL, Call(_vm, _u, KVM_SET_GSI_ROUTING, addr, Bytes(new KvmIrqRouting { nr = 2 })).Result.Value);
    }
}

public class LifecycleTests
{
    private readonly FakeUser _u = new();

    [Fact]
    public void LastFdClosed_TearsDown_UnmapsMemory_ClosesEventfds()
    {
        var vm = NewVm(_u);
        Assert.Contains(vm, KvmHost.Vms);
        ulong ram = _u.Alloc(0x4000);
        Assert.Equal(0, With(vm, _u, KVM_SET_USER_MEMORY_REGION, new KvmUserspaceMemoryRegion { slot = 0, guest_phys_addr = 0x80000000, memory_size = 0x4000, userspace_addr = ram }));
        var v = NewVcpu(vm, _u, 0);
        Assert.Equal(0, Io(vm, _u, KVM_CREATE_IRQCHIP));
        Assert.Equal(0, With(vm, _u, KVM_IRQ_LINE, new KvmIrqLevel { irq = KvmArm.IrqLine(KvmArm.KVM_ARM_IRQ_TYPE_SPI, 0, 40), level = 1 })); // GICv2 initializes lazily
        Assert.Equal(0, With(vm, _u, KVM_IRQFD, new KvmIrqfd { fd = (uint)_u.NewEventFd(), gsi = 1 }));
        Vm? removed = null;
        void OnRemoved(Vm x) { if (x == vm) removed = x; }
        KvmHost.VmRemoved += OnRemoved;
        try
        {
            vm.Release();                 // the VM fd closes first: the vCPU fd keeps the VM alive
            Assert.False(vm.Destroyed);
            v.Release();
            Assert.True(vm.Destroyed);
            Assert.Same(vm, removed);
            Assert.DoesNotContain(vm, KvmHost.Vms);
            Assert.Equal(1, _u.Disposed);
            Assert.Null(v.BackingFd);
            Assert.Empty(vm.Irqfds.Snapshot);
            Assert.Equal(-EIO, Io(vm, _u, KVM_CHECK_EXTENSION, 1));
        }
        finally { KvmHost.VmRemoved -= OnRemoved; }
    }

    [Fact]
    public void VmsAreIsolated()
    {
        var a = NewVm(_u);
        var b = NewVm(_u);
        NewVcpu(a, _u, 0);
        NewVcpu(b, _u, 0); // same id in another VM is fine
        Assert.Equal(0, Io(a, _u, KVM_CREATE_IRQCHIP));
        Assert.Null(b.Vgic);
        a.Release();
        Assert.False(b.Destroyed);
    }

    [Fact]
    public void Teardown_WhileVcpuSleepsInRun_WakesItWithoutCrash()
    {
        var vm = NewVm(_u);
        var v = InitVcpu(vm, _u, 0, KvmArm.KVM_ARM_VCPU_POWER_OFF);
        long result = 1;
        var t = new Thread(() => result = Io(v, _u, KVM_RUN));
        t.Start();
        Thread.Sleep(100);
        vm.Release();
        v.Release(); // the VMM died: its last fd goes while KVM_RUN sleeps
        Assert.True(t.Join(5000));
        Assert.Equal(-EIO, result);
        Assert.True(vm.Destroyed);
    }
}
