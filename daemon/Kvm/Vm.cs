using Kvmfs.Kvm.Core;
using Kvmfs.Kvm.OneReg;
using Kvmfs.Kvm.Vgic;
using Kvmfs.Protocol.Uapi;
using Serilog;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm;

/// <summary>
/// A VM fd (struct kvm): memslots, vCPUs, the vGIC, irqfds, ioeventfds and GSI routes. The VM
/// lives while any of its fds lives (the VM fd, its vCPU and device fds each hold a reference,
/// as kvm_get_kvm does); the last <see cref="Put"/> tears it down and unmaps guest memory.
/// </summary>
public sealed class Vm : KvmFile
{
    private static int _nextId;
    private int _refs = 1;
    private readonly List<Vcpu> _vcpus = [];
    private Vcpu[] _vcpuSnapshot = [];
    private int _nextDeviceId;

    internal Vm(VmOwner owner, int ipaBits)
    {
        Owner = owner;
        IpaBits = ipaBits;
        Id = Interlocked.Increment(ref _nextId);
        Created = DateTimeOffset.UtcNow;
        Irqfds = new Irqfds(this);
        Stats = new BinaryStats(StatsSchema.Vm, $"kvm-{owner.Pid}");
        KvmHost.Add(this);
        Log.Information("VM {Vm} created for pid {Pid} with {IpaBits}-bit IPA space", Id, owner.Pid, ipaBits);
    }

    public override string Kind => "vm";
    public override int Id { get; }
    protected override KvmFd FdKind => KvmFd.Vm;
    public VmOwner Owner { get; }
    public int IpaBits { get; }
    public DateTimeOffset Created { get; }
    public bool Destroyed { get; private set; }

    /// <summary>kvm->lock and kvm->slots_lock folded into one: memslots, devices, vCPU creation.</summary>
    public object Lock { get; } = new();
    public Memslots Memslots { get; } = new();
    public VgicState? Vgic { get; private set; }
    public List<VgicDevice> Devices { get; } = [];
    /// <summary>Interrupt Translation Services (KVM_DEV_TYPE_ARM_VGIC_ITS devices).</summary>
    public List<VgicItsDevice> Its { get; } = [];
    public Irqfds Irqfds { get; }
    public Ioeventfds Ioeventfds { get; } = new();
    public CoalescedMmio CoalescedMmio { get; } = new();
    public GsiRouting Routing { get; } = new();
    /// <summary>The VM's binary statistics (KVM_GET_STATS_FD); guarded by <see cref="Lock"/>.</summary>
    public BinaryStats Stats { get; }
    /// <summary>kvm->max_vcpus: 512, or 8 once a GICv2 exists.</summary>
    public int MaxVcpus { get; private set; } = Capabilities.MaxVcpus;
    /// <summary>True while KVM_CREATE_VCPU is between reserving an index and publishing the vCPU.</summary>
    internal bool CreatingVcpus { get; private set; }

    // VM-wide firmware and timer state (kvm->arch).
    public uint PsciVersion = Psci.KVM_ARM_PSCI_1_1;
    public ulong StdBmap = FirmwareRegisters.StdFeatures;
    public ulong StdHypBmap = FirmwareRegisters.StdHypFeatures;
    public ulong VendorHypBmap = FirmwareRegisters.VendorHypFeatures;
    /// <summary>CNTVOFF: virtual counter = physical counter - offset; one per VM as in 6.1.</summary>
    public ulong CntvOff;
    public uint VtimerIrq = 27;
    /// <summary>ID_AA64PFR0_EL1.CSV2/CSV3 as the VMM left them (KVM keeps them per VM).</summary>
    public int Pfr0Csv2 = 1, Pfr0Csv3 = 1;
    public uint PtimerIrq = 30;
    /// <summary>The PMU event filter (KVM_ARM_VCPU_PMU_V3_FILTER): one bit per event, set = allowed; null = no filter.</summary>
    public ulong[]? PmuFilter;
    /// <summary>KVM_CAP_ARM_SYSTEM_SUSPEND was enabled: PSCI SYSTEM_SUSPEND exits to user space (KVM_SYSTEM_EVENT_SUSPEND).</summary>
    public bool SystemSuspendEnabled { get; private set; }
    /// <summary>Some vCPU entered KVM_RUN (KVM_ARCH_FLAG_HAS_RAN_ONCE).</summary>
    public bool HasRanOnce;

    public Vcpu[] VcpuSnapshot => Volatile.Read(ref _vcpuSnapshot);
    public int VcpuCount => VcpuSnapshot.Length;

    /// <summary>
    /// lock_all_vcpus: register state may only be touched while no vCPU runs; a vCPU inside
    /// KVM_RUN holds its mutex, and KVM answers EBUSY rather than wait.
    /// </summary>
    public int WithAllVcpusLocked(Func<int> body)
    {
        lock (Lock)
        {
            var vcpus = VcpuSnapshot;
            int locked = 0;
            try
            {
                for (; locked < vcpus.Length; locked++)
                    if (!Monitor.TryEnter(vcpus[locked].Mutex)) return -Errno.EBUSY;
                return body();
            }
            finally
            {
                for (int i = 0; i < locked; i++) Monitor.Exit(vcpus[i].Mutex);
            }
        }
    }

    public Vcpu? VcpuByIndex(int index) { var v = VcpuSnapshot; return index >= 0 && index < v.Length ? v[index] : null; }
    public Vcpu? VcpuById(int id) => Array.Find(VcpuSnapshot, v => v.VcpuId == id);
    public Vcpu? VcpuByMpidr(ulong affinity) => Array.Find(VcpuSnapshot, v => (v.Mpidr & 0xff00ffffff) == affinity);

    public override IoctlResult Ioctl(IoctlCall call)
    {
        if (Destroyed) return Fail(call, Errno.EIO, "VM is being destroyed");
        switch (call.Command)
        {
            case KVM_CHECK_EXTENSION:
            {
                long r = Capabilities.Check(this, call.Argument);
                return r < 0 ? Fail(call, (int)-r, "capability refused") : IoctlResult.Ok(r);
            }
            case KVM_SET_USER_MEMORY_REGION: return SetUserMemoryRegion(call);
            case KVM_CREATE_VCPU: return CreateVcpu(call);
            case KVM_ARM_PREFERRED_TARGET:
            {
                var init = default(KvmVcpuInit);
                init.target = VcpuInit.PreferredTarget;
                Write(call, init);
                return IoctlResult.Ok();
            }
            case KVM_ENABLE_CAP: return EnableCap(call);
            case KVM_GET_STATS_FD:
            {
                int fd;
                lock (Lock) fd = Stats.OpenFile();
                if (fd < 0) return Fail(call, -fd, "cannot open the stats file");
                return IoctlResult.NewFd(new StatsFile(this, "vm", fd));
            }
            case KVM_CREATE_DEVICE: return CreateDevice(call);
            case KVM_CREATE_IRQCHIP: return CreateIrqchip(call);
            case KVM_ARM_SET_DEVICE_ADDR: return SetDeviceAddr(call);
            case KVM_IRQ_LINE:
            case KVM_IRQ_LINE_STATUS: return IrqLine(call);
            case KVM_GET_DIRTY_LOG:
            {
                var log = Read<KvmDirtyLog>(call);
                int r;
                lock (Lock) r = Memslots.GetDirtyLog(log.slot, log.dirty_bitmap, call.User);
                return FromErrno(call, r, $"dirty log of slot {log.slot}");
            }
            case KVM_IRQFD: return FromErrno(call, Irqfds.Handle(Read<KvmIrqfd>(call), call.User, out var why), why);
            case KVM_IOEVENTFD: return FromErrno(call, Ioeventfds.Handle(Read<KvmIoeventfd>(call), call.User, out var why2), why2);
            case KVM_REGISTER_COALESCED_MMIO: return FromErrno(call, CoalescedMmio.Register(Read<KvmCoalescedMmioZone>(call), out var why4), why4);
            case KVM_UNREGISTER_COALESCED_MMIO: return FromErrno(call, CoalescedMmio.Unregister(Read<KvmCoalescedMmioZone>(call), out var why5), why5);
            case KVM_SET_GSI_ROUTING: return FromErrno(call, Routing.Set(call, Read<KvmIrqRouting>(call), out var why3), why3);
            case KVM_SIGNAL_MSI:
            {
                var msi = Read<KvmMsi>(call);
                if ((msi.flags & ~KvmIrqRoutingType.KVM_MSI_VALID_DEVID) != 0) return Fail(call, Errno.EINVAL, "unknown MSI flags");
                return FromErrno(call, SignalMsi(msi), $"MSI to 0x{((ulong)msi.address_hi << 32) | msi.address_lo:x}");
            }
            default:
                // kvm_arch_vm_ioctl's default on arm64.
                return Fail(call, Errno.EINVAL, "unknown VM ioctl");
        }
    }

    private IoctlResult SetUserMemoryRegion(IoctlCall call)
    {
        var mem = Read<KvmUserspaceMemoryRegion>(call);
        int r;
        string reason;
        lock (Lock) r = Memslots.Set(mem, (ulong)IpaBits, call.User, out reason);
        if (r < 0) return Fail(call, -r, $"slot {mem.slot}: {reason}");
        Log.Debug("VM {Vm}: memslot {Slot} gpa 0x{Gpa:x} size 0x{Size:x} flags 0x{Flags:x}", Id, mem.slot, mem.guest_phys_addr, mem.memory_size, mem.flags);
        KvmHost.NotifyChanged(this);
        return IoctlResult.Ok();
    }

    private IoctlResult CreateVcpu(IoctlCall call)
    {
        ulong id = call.Argument;
        Vcpu vcpu;
        lock (Lock)
        {
            // kvm_vm_ioctl_create_vcpu and kvm_arch_vcpu_precreate, in their order.
            if (id >= Capabilities.MaxVcpus) return Fail(call, Errno.EINVAL, $"vcpu id {id} >= KVM_MAX_VCPU_IDS");
            if (_vcpus.Count >= MaxVcpus) return Fail(call, Errno.EINVAL, "too many vCPUs");
            if (Vgic is { Initialized: true }) return Fail(call, Errno.EBUSY, "the vGIC is initialized: no more vCPUs");
            if (id >= (ulong)MaxVcpus) return Fail(call, Errno.EINVAL, $"vcpu id {id} >= max_vcpus {MaxVcpus}");
            if (_vcpus.Exists(v => v.VcpuId == (int)id)) return Fail(call, Errno.EEXIST, $"vcpu id {id} exists");
            CreatingVcpus = true;
            try
            {
                try { vcpu = new Vcpu(this, (int)id, _vcpus.Count); }
                catch (IOException e) { return Fail(call, Errno.ENOMEM, $"no kvm_run page for the vCPU: {e.Message}"); }
                // A vGIC created before this vCPU sees it with the model's private-interrupt
                // defaults, and a GICv3 hands it a redistributor (kvm_vgic_vcpu_init).
                if (Vgic is not null)
                {
                    foreach (var irq in vcpu.Gic.Private) irq.Group = Vgic.IsV3;
                    int r = Vgic.IsV3 ? Vgic.RegisterRedistributor(vcpu) : 0;
                    if (r < 0)
                    {
                        vcpu.FreeResources();
                        return Fail(call, -r, "the GICv3 frames overlap: no redistributor for the new vCPU");
                    }
                }
                _vcpus.Add(vcpu);
                Volatile.Write(ref _vcpuSnapshot, [.. _vcpus]);
                Interlocked.Increment(ref _refs);
            }
            finally { CreatingVcpus = false; }
        }
        KvmHost.NotifyChanged(this);
        return IoctlResult.NewFd(vcpu);
    }

    private IoctlResult EnableCap(IoctlCall call)
    {
        var cap = Read<KvmEnableCap>(call);
        if (cap.flags != 0) return Fail(call, Errno.EINVAL, "flags must be 0");
        switch (cap.cap)
        {
            case KvmCaps.KVM_CAP_ARM_SYSTEM_SUSPEND:
                // kvm_vm_ioctl_enable_cap: a VM flag, no arguments checked, enabling twice is fine.
                SystemSuspendEnabled = true;
                return IoctlResult.Ok();
        }
        return Fail(call, Errno.EINVAL, $"capability {KvmCaps.Name(cap.cap) ?? cap.cap.ToString()} cannot be enabled");
    }

    /// <summary>kvm_send_userspace_msi / vgic_its_inject_msi.</summary>
    private int SignalMsi(in KvmMsi msi)
    {
        VgicItsDevice[] its;
        lock (Lock) its = [.. Its];
        if (its.Length == 0) return -Errno.ENODEV;
        if ((msi.flags & KvmIrqRoutingType.KVM_MSI_VALID_DEVID) == 0) return -Errno.EINVAL;
        ulong address = ((ulong)msi.address_hi << 32) | msi.address_lo;
        foreach (var i in its)
            if (i.Base != VgicState.AddrUndef && i.Base + VgicItsDevice.TranslaterOffset == address) return i.InjectMsi(msi);
        return -Errno.EINVAL;
    }

    private IoctlResult CreateDevice(IoctlCall call)
    {
        var cd = Read<KvmCreateDevice>(call);
        bool its = cd.type == KvmDevType.KVM_DEV_TYPE_ARM_VGIC_ITS;
        if (cd.type != KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2 && cd.type != KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V3 && !its)
            return Fail(call, Errno.ENODEV, $"device type {KvmDevType.Name(cd.type) ?? cd.type.ToString()} is not implemented");
        if ((cd.flags & KvmDevType.KVM_CREATE_DEVICE_TEST) != 0) return IoctlResult.Ok();
        if (its)
        {
            VgicItsDevice itsDev;
            lock (Lock)
            {
                itsDev = new VgicItsDevice(this, ++_nextDeviceId);
                Its.Add(itsDev);
                Interlocked.Increment(ref _refs);
            }
            KvmHost.NotifyChanged(this);
            return IoctlResult.NewFd(itsDev, KvmCreateDevice.FdOffset);
        }
        VgicDevice dev;
        lock (Lock)
        {
            int r = CreateVgic(cd.type, out var why);
            if (r < 0) return Fail(call, -r, why);
            int devId = ++_nextDeviceId;
            dev = cd.type == KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2 ? new VgicV2Device(this, Vgic!, devId) : new VgicV3Device(this, Vgic!, devId);
            Devices.Add(dev);
            Interlocked.Increment(ref _refs);
        }
        KvmHost.NotifyChanged(this);
        return IoctlResult.NewFd(dev, KvmCreateDevice.FdOffset);
    }

    /// <summary>kvm_vgic_create. Caller holds the lock.</summary>
    private int CreateVgic(uint type, out string why)
    {
        why = "";
        if (Vgic is not null) { why = "the VM already has an irqchip"; return -Errno.EEXIST; }
        foreach (var v in VcpuSnapshot)
        {
            if (!Monitor.TryEnter(v.Mutex)) { why = "a vCPU is running"; return -Errno.EBUSY; }
            bool ran = v.HasRunOnce;
            Monitor.Exit(v.Mutex);
            if (ran) { why = "a vCPU has already run"; return -Errno.EBUSY; }
        }
        int max = type == KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2 ? Capabilities.MaxVcpusGicV2 : Capabilities.MaxVcpus;
        if (VcpuCount > max) { why = $"{VcpuCount} vCPUs exceed the model's {max}"; return -Errno.E2BIG; }
        MaxVcpus = max;
        Vgic = new VgicState(this, type);
        foreach (var v in VcpuSnapshot) foreach (var irq in v.Gic.Private) irq.Group = Vgic.IsV3;
        return 0;
    }

    private IoctlResult CreateIrqchip(IoctlCall call)
    {
        lock (Lock)
        {
            int r = CreateVgic(KvmDevType.KVM_DEV_TYPE_ARM_VGIC_V2, out var why);
            if (r < 0) return Fail(call, -r, why);
        }
        KvmHost.NotifyChanged(this);
        return IoctlResult.Ok();
    }

    private IoctlResult SetDeviceAddr(IoctlCall call)
    {
        var da = Read<KvmArmDeviceAddr>(call);
        ulong devId = (da.id & KvmArm.KVM_ARM_DEVICE_ID_MASK) >> KvmArm.KVM_ARM_DEVICE_ID_SHIFT;
        ulong type = da.id & KvmArm.KVM_ARM_DEVICE_TYPE_MASK;
        if (devId != KvmArm.KVM_ARM_DEVICE_VGIC_V2) return Fail(call, Errno.ENODEV, $"device id {devId}");
        lock (Lock)
        {
            if (Vgic is null || Vgic.IsV3) return Fail(call, Errno.ENODEV, "no GICv2 irqchip");
            int r;
            if (type == KvmVgic.KVM_VGIC_V2_ADDR_TYPE_DIST)
            {
                r = Vgic.CheckIoRange(Vgic.DistBase, da.addr, 0x1000, KvmVgic.KVM_VGIC_V2_DIST_SIZE);
                if (r == 0) Vgic.DistBase = da.addr;
            }
            else if (type == KvmVgic.KVM_VGIC_V2_ADDR_TYPE_CPU)
            {
                r = Vgic.CheckIoRange(Vgic.CpuBase, da.addr, 0x1000, KvmVgic.KVM_VGIC_V2_CPU_SIZE);
                if (r == 0) Vgic.CpuBase = da.addr;
            }
            else r = -Errno.ENODEV;
            return FromErrno(call, r, $"address 0x{da.addr:x} for type {type}");
        }
    }

    /// <summary>KVM_IRQ_LINE, and KVM_IRQ_LINE_STATUS, whose struct goes back unchanged (arm64 sets no status).</summary>
    private IoctlResult IrqLine(IoctlCall call)
    {
        var level = Read<KvmIrqLevel>(call);
        var (type, vcpuIndex, num) = KvmArm.DecodeIrqLine(level.irq);
        bool high = level.level != 0;
        var gic = Vgic;
        switch (type)
        {
            case KvmArm.KVM_ARM_IRQ_TYPE_CPU:
            {
                if (gic is not null) return Fail(call, Errno.ENXIO, "CPU lines are driven by the in-kernel vGIC");
                var vcpu = VcpuByIndex((int)vcpuIndex);
                if (vcpu is null) return Fail(call, Errno.EINVAL, $"no vCPU index {vcpuIndex}");
                if (num > KvmArm.KVM_ARM_IRQ_CPU_FIQ) return Fail(call, Errno.EINVAL, $"CPU line {num}");
                vcpu.SetCpuLine(num == KvmArm.KVM_ARM_IRQ_CPU_FIQ, high);
                return IoctlResult.Ok();
            }
            case KvmArm.KVM_ARM_IRQ_TYPE_PPI:
            {
                if (gic is null) return Fail(call, Errno.ENXIO, "no in-kernel irqchip");
                var vcpu = VcpuByIndex((int)vcpuIndex);
                if (vcpu is null) return Fail(call, Errno.EINVAL, $"no vCPU index {vcpuIndex}");
                if (num < Distributor.NrSgis || num >= Distributor.NrPrivateIrqs) return Fail(call, Errno.EINVAL, $"{num} is not a PPI");
                return FromErrno(call, gic.InjectIrq(vcpu, (int)num, high), $"PPI {num}");
            }
            case KvmArm.KVM_ARM_IRQ_TYPE_SPI:
                if (gic is null) return Fail(call, Errno.ENXIO, "no in-kernel irqchip");
                if (num < Distributor.NrPrivateIrqs) return Fail(call, Errno.EINVAL, $"{num} is not an SPI");
                return FromErrno(call, gic.InjectIrq(null, (int)num, high), $"SPI {num}");
            default:
                return Fail(call, Errno.EINVAL, $"irq type {type}");
        }
    }

    /// <summary>kvm_vgic_setup_default_irq_routing: GSI n drives SPI n+32.</summary>
    internal void RoutingSetDefault(int nrSpis) => Routing.SetDefault(nrSpis);

    /// <summary>kvm_get_kvm for vCPU and device fds.</summary>
    internal void Get() => Interlocked.Increment(ref _refs);

    /// <summary>kvm_put_kvm: the last reference tears the VM down.</summary>
    internal void Put()
    {
        if (Interlocked.Decrement(ref _refs) == 0) Destroy();
    }

    /// <summary>The VM fd was closed.</summary>
    public override void Release() => Put();

    private void Destroy()
    {
        Vcpu[] vcpus;
        lock (Lock)
        {
            if (Destroyed) return;
            Destroyed = true;
            vcpus = [.. _vcpus];
        }
        // Outside the VM lock: a vCPU's KVM_RUN may need it before it can return.
        foreach (var v in vcpus) v.FreeResources();
        Irqfds.Clear();
        Ioeventfds.Clear();
        CoalescedMmio.Clear();
        lock (Lock)
        {
            Memslots.Clear();
            Stats.Dispose();
        }
        KvmHost.Remove(this);
        Log.Information("VM {Vm} of pid {Pid} destroyed", Id, Owner.Pid);
    }
}
