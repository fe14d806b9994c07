using System.Runtime.InteropServices;
using Kvmfs.Kvm.Core;
using Kvmfs.Kvm.OneReg;
using Kvmfs.Kvm.Vgic;
using Kvmfs.Protocol.Uapi;
using Serilog;
using static Kvmfs.Protocol.Uapi.KvmReg;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm;

/// <summary>
/// A vCPU fd (struct kvm_vcpu). Every ioctl runs under the vCPU mutex, as kvm_vcpu_ioctl takes
/// vcpu->mutex, so KVM_RUN on the vCPU's thread excludes the vCPU's other ioctls but not the
/// VM's. Its kvm_run page is a memfd the front end hands to the VMM (<see cref="BackingFd"/>).
/// </summary>
public sealed class Vcpu : KvmFile
{
    /// <summary>
    /// kvm_run.internal.data[0] of the exit KVM_RUN gives until the emulator runs guests
    /// (KVM_EXIT_INTERNAL_ERROR, suberror KVM_INTERNAL_ERROR_EMULATION): ASCII "kvmfs" in the
    /// top bytes, then 1 = "no CPU emulator behind KVM_RUN yet". QEMU prints it and stops the
    /// VM; kvmtool reports the exit and ends. A failure exit rather than a hang or a spin.
    /// </summary>
    public const ulong InternalErrorNoEmulator = 0x6B766D6673_000001;

    private readonly KvmRunPage _run;
    private volatile bool _kicked;
    private readonly ManualResetEventSlim _wake = new(false);

    internal Vcpu(Vm vm, int vcpuId, int index)
    {
        Vm = vm;
        VcpuId = vcpuId;
        Index = index;
        _run = new KvmRunPage($"kvmfs-vm{vm.Id}-vcpu{vcpuId}");
        Stats = new BinaryStats(StatsSchema.Vcpu, $"kvm-{vm.Owner.Pid}/vcpu-{vcpuId}");
        VcpuInit.Reset(this); // so MPIDR is known to the vGIC even before KVM_ARM_VCPU_INIT
    }

    public Vm Vm { get; }
    /// <summary>The id KVM_CREATE_VCPU was given.</summary>
    public int VcpuId { get; }
    /// <summary>Creation order (kvm_get_vcpu index): what KVM_IRQ_LINE and the GICv2 CPU numbers use.</summary>
    public int Index { get; }
    public override string Kind => "vcpu";
    public override int Id => VcpuId;
    protected override KvmFd FdKind => KvmFd.Vcpu;
    public override int? BackingFd => _run.Disposed ? null : _run.Fd;

    /// <summary>vcpu->mutex.</summary>
    public object Mutex { get; } = new();
    public CoreRegisters Core { get; } = new();
    /// <summary>
    /// The system registers' saved values, one per row of <see cref="SystemRegisterTable.Table"/>
    /// (a fixed array, so readers on other threads never see it reshaped).
    /// </summary>
    public ulong[] SysRegValues { get; } = new ulong[SystemRegisterTable.Table.Length];
    private static readonly int MpidrSlot = SystemRegisterTable.Slot(SystemRegisterTable.MpidrId);
    public VgicCpu Gic { get; } = new();
    public ulong CntvCtl;
    public ulong CntvCval;
    public int Target { get; internal set; } = -1;
    public uint Features { get; internal set; }
    public bool Initialized => Target >= 0;
    public uint MpState { get; internal set; } = KvmMpStates.KVM_MP_STATE_RUNNABLE;
    public bool HasRunOnce { get; private set; }
    public bool SerrorPending;
    /// <summary>IRQ and FIQ input lines when user space emulates the interrupt controller.</summary>
    public bool IrqLine, FiqLine;
    /// <summary>KVM_SET_SIGNAL_MASK: signals blocked while in the guest (null: none set).</summary>
    public ulong? SignalMask { get; private set; }
    public uint GuestDebugControl { get; private set; }
    public byte[] GuestDebugArch { get; } = new byte[512];
    public long RunCount;
    public long ExitCount;
    /// <summary>The PMU overflow interrupt (KVM_ARM_VCPU_PMU_V3_IRQ; below 16: not set) and KVM_ARM_VCPU_PMU_V3_INIT done.</summary>
    public int PmuIrq;
    public bool PmuCreated;
    /// <summary>The stolen-time structure's IPA (KVM_ARM_VCPU_PVTIME_IPA), or <see cref="PvTime.GpaInvalid"/>.</summary>
    public ulong StealBase = PvTime.GpaInvalid;
    /// <summary>run_delay at the last stolen-time update, and whether the structure was initialized.</summary>
    internal ulong LastSteal;
    internal bool StealInitialized;
    /// <summary>The vCPU's binary statistics (KVM_GET_STATS_FD); updated under <see cref="Mutex"/>.</summary>
    public BinaryStats Stats { get; }

    public ulong Mpidr => Volatile.Read(ref SysRegValues[MpidrSlot]);
    public bool HasFeature(int bit) => (Features & (1u << bit)) != 0;

    public override void Kick()
    {
        _kicked = true;
        _wake.Set();
    }

    public override byte[]? TraceRunState() => _run.Disposed ? null : _run.Head();

    public override void Release() => Vm.Put();

    /// <summary>
    /// Unmaps kvm_run and closes its memfd (VM teardown). A KVM_RUN in progress is woken first
    /// and the mapping goes only once it has returned (it holds the vCPU mutex meanwhile).
    /// Never called with the VM lock held: KVM_RUN may be waiting for it.
    /// </summary>
    internal void FreeResources()
    {
        _dying = true;
        _wake.Set();
        lock (Mutex)
        {
            _run.Dispose();
            Stats.Dispose();
        }
    }

    private volatile bool _dying;

    internal void SetCpuLine(bool fiq, bool level)
    {
        if (fiq) FiqLine = level; else IrqLine = level;
    }

    public override IoctlResult Ioctl(IoctlCall call)
    {
        if (Vm.Destroyed) return Fail(call, Errno.EIO, "VM is being destroyed");
        lock (Mutex) return IoctlLocked(call);
    }

    private IoctlResult IoctlLocked(IoctlCall call)
    {
        switch (call.Command)
        {
            case KVM_RUN: return Run(call);
            case KVM_ARM_VCPU_INIT:
            {
                int r = VcpuInit.Apply(this, Read<KvmVcpuInit>(call), out var why);
                if (r == 0) KvmHost.NotifyChanged(Vm);
                return FromErrno(call, r, why);
            }
            case KVM_GET_ONE_REG:
            case KVM_SET_ONE_REG:
            {
                if (!Initialized) return Fail(call, Errno.ENOEXEC, "KVM_ARM_VCPU_INIT first");
                var reg = Read<KvmOneReg>(call);
                int r = call.Command == KVM_GET_ONE_REG ? GetReg(call, reg) : SetReg(call, reg);
                return FromErrno(call, r, $"register 0x{reg.id:x}");
            }
            case KVM_GET_REG_LIST: return GetRegList(call);
            case KVM_GET_STATS_FD:
            {
                int fd = Stats.OpenFile();
                if (fd < 0) return Fail(call, -fd, "cannot open the stats file");
                return IoctlResult.NewFd(new StatsFile(Vm, $"vcpu {VcpuId}", fd));
            }
            case KVM_GET_MP_STATE:
                Write(call, new KvmMpState { mp_state = MpState });
                return IoctlResult.Ok();
            case KVM_SET_MP_STATE:
            {
                uint s = Read<KvmMpState>(call).mp_state;
                if (s is not (KvmMpStates.KVM_MP_STATE_RUNNABLE or KvmMpStates.KVM_MP_STATE_STOPPED or KvmMpStates.KVM_MP_STATE_SUSPENDED))
                    return Fail(call, Errno.EINVAL, $"mp_state {s}");
                MpState = s;
                return IoctlResult.Ok();
            }
            case KVM_GET_VCPU_EVENTS:
            {
                if (!Initialized) return Fail(call, Errno.ENOEXEC, "KVM_ARM_VCPU_INIT first");
                var ev = default(KvmVcpuEvents);
                ev.exception.serror_pending = SerrorPending ? (byte)1 : (byte)0;
                ev.exception.serror_has_esr = 0; // no RAS extension
                Write(call, ev);
                return IoctlResult.Ok();
            }
            case KVM_SET_VCPU_EVENTS: return SetVcpuEvents(call);
            case KVM_SET_SIGNAL_MASK: return SetSignalMask(call);
            case KVM_SET_GUEST_DEBUG:
            {
                var dbg = Read<KvmGuestDebug>(call);
                const uint valid = KvmGuestDebugFlags.KVM_GUESTDBG_ENABLE | KvmGuestDebugFlags.KVM_GUESTDBG_SINGLESTEP |
                                   KvmGuestDebugFlags.KVM_GUESTDBG_USE_SW_BP | KvmGuestDebugFlags.KVM_GUESTDBG_USE_HW;
                if ((dbg.control & ~valid) != 0) return Fail(call, Errno.EINVAL, $"control 0x{dbg.control:x}");
                // Stored for the emulator; debug exits arrive with guest execution.
                GuestDebugControl = (dbg.control & KvmGuestDebugFlags.KVM_GUESTDBG_ENABLE) != 0 ? dbg.control : 0;
                if ((GuestDebugControl & KvmGuestDebugFlags.KVM_GUESTDBG_USE_HW) != 0 && call.Data.Length >= 520)
                    call.Data.AsSpan(8, 512).CopyTo(GuestDebugArch);
                return IoctlResult.Ok();
            }
            case KVM_ARM_VCPU_FINALIZE:
            {
                if (!Initialized) return Fail(call, Errno.ENOEXEC, "KVM_ARM_VCPU_INIT first");
                int what = call.Data.Length >= 4 ? BitConverter.ToInt32(call.Data) : 0;
                return Fail(call, Errno.EINVAL, $"feature {what} needs no finalization here (no SVE)");
            }
            case KVM_ENABLE_CAP:
            {
                var cap = Read<KvmEnableCap>(call);
                return Fail(call, Errno.EINVAL, cap.flags != 0 ? "flags must be 0" : $"vCPU capability {cap.cap} cannot be enabled");
            }
            case KVM_SET_DEVICE_ATTR:
            case KVM_GET_DEVICE_ATTR:
            case KVM_HAS_DEVICE_ATTR:
            {
                var attr = Read<KvmDeviceAttr>(call);
                return FromErrno(call, VcpuAttr(call, attr), $"vCPU attr group {attr.group} attr {attr.attr}");
            }
            default:
                return Fail(call, Errno.EINVAL, "unknown vCPU ioctl");
        }
    }

    private IoctlResult Run(IoctlCall call)
    {
        if (!Initialized) return Fail(call, Errno.ENOEXEC, "KVM_ARM_VCPU_INIT first");
        if (_run.Disposed) return Fail(call, Errno.EIO, "vCPU torn down");
        unsafe
        {
            var run = _run.Run;
            if (!HasRunOnce)
            {
                int r = FirstRunInit(out var why);
                if (r < 0) return Fail(call, -r, why);
            }
            Interlocked.Increment(ref RunCount);
            if (run->immediate_exit != 0)
            {
                _kicked = false; // the pending signal is delivered as the ioctl returns
                return Fail(call, Errno.EINTR, "immediate_exit set");
            }
            run->exit_reason = KvmExit.KVM_EXIT_UNKNOWN;
            run->flags = 0;

            // A powered-off vCPU sleeps until PSCI CPU_ON makes it runnable, or a signal arrives.
            // kvm_vcpu_block: the "blocking" statistic is 1 while the vCPU sleeps here.
            if (MpState == KvmMpStates.KVM_MP_STATE_STOPPED) Stats.Set(VcpuStat.Blocking, 1);
            while (MpState == KvmMpStates.KVM_MP_STATE_STOPPED && !_kicked && !_dying)
            {
                _wake.Wait(100);
                _wake.Reset();
            }
            Stats.Set(VcpuStat.Blocking, 0);
            if (_dying) return Fail(call, Errno.EIO, "VM torn down while the vCPU slept");
            if (_kicked)
            {
                _kicked = false;
                run->exit_reason = KvmExit.KVM_EXIT_INTR;
                Stats.Add(VcpuStat.SignalExits);
                return Fail(call, Errno.EINTR, "kicked (signal pending)");
            }

            // check_vcpu_requests before guest entry: KVM_REQ_RECORD_STEAL.
            PvTime.RecordSteal(this);

            // No CPU emulator behind KVM_RUN yet: an internal-error exit the VMM reports and stops on.
            run->exit_reason = KvmExit.KVM_EXIT_INTERNAL_ERROR;
            run->@internal.suberror = KvmExit.KVM_INTERNAL_ERROR_EMULATION;
            run->@internal.ndata = 1;
            run->@internal.data[0] = InternalErrorNoEmulator;
            if (Interlocked.Increment(ref ExitCount) == 1)
                Log.Warning("VM {Vm} vCPU {Vcpu}: KVM_RUN -> KVM_EXIT_INTERNAL_ERROR (emulation, data 0x{Reason:x}): guest execution is not implemented yet (pc 0x{Pc:x})",
                    Vm.Id, VcpuId, InternalErrorNoEmulator, Core.Pc);
            return IoctlResult.Ok();
        }
    }

    /// <summary>kvm_vcpu_first_run_init: the vGIC must be fully placed before a vCPU runs.</summary>
    private int FirstRunInit(out string why)
    {
        why = "";
        var gic = Vm.Vgic;
        if (gic is not null)
        {
            lock (Vm.Lock)
            {
                if (gic.IsV3)
                {
                    // vgic_v3_map_resources, in its order.
                    foreach (var v in Vm.VcpuSnapshot)
                        if (v.Gic.RdRegion is null) { why = $"no redistributor for vCPU {v.VcpuId}"; return -Errno.ENXIO; }
                    if (gic.DistBase == VgicState.AddrUndef) { why = "GICv3 distributor address not set"; return -Errno.ENXIO; }
                    if (!gic.CheckBase()) { why = "GICv3 frames overlap or leave the IPA space"; return -Errno.EINVAL; }
                    if (!gic.Initialized) { why = "GICv3 not initialized (KVM_DEV_ARM_VGIC_CTRL_INIT)"; return -Errno.EBUSY; }
                }
                else
                {
                    if (gic.DistBase == VgicState.AddrUndef || gic.CpuBase == VgicState.AddrUndef) { why = "GICv2 addresses not set"; return -Errno.ENXIO; }
                    if (gic.DistBase < gic.CpuBase + KvmVgic.KVM_VGIC_V2_CPU_SIZE && gic.CpuBase < gic.DistBase + KvmVgic.KVM_VGIC_V2_DIST_SIZE)
                    { why = "GICv2 distributor and CPU interface overlap"; return -Errno.EINVAL; }
                    int r = gic.Init();
                    if (r < 0) { why = "GICv2 init failed"; return r; }
                }
            }
        }
        {
            int r;
            lock (Vm.Lock) r = Pmu.Enable(this, out why);
            if (r < 0) return r;
        }
        HasRunOnce = true;
        Vm.HasRanOnce = true;
        return 0;
    }

    private int GetReg(IoctlCall call, in KvmOneReg reg)
    {
        ulong id = reg.id;
        if (((id & ~KVM_REG_SIZE_MASK) >> 32) != (KVM_REG_ARM64 >> 32)) return -Errno.EINVAL;
        switch (id & KVM_REG_ARM_COPROC_MASK)
        {
            case KVM_REG_ARM_CORE:
            {
                int r = CoreRegisters.Locate(id, out int off, out int size);
                if (r < 0) return r;
                return call.User.CopyToUser(reg.addr, Core.Bytes.AsSpan(off, size)) == 0 ? 0 : -Errno.EFAULT;
            }
            case KVM_REG_ARM_FW:
            case KVM_REG_ARM_FW_FEAT_BMAP:
            {
                int r = FirmwareRegisters.Get(this, id, out ulong v);
                if (r < 0) return r;
                return CopySized(call, reg.addr, v, OneRegId.SizeBytes(id));
            }
            case KVM_REG_ARM64_SVE:
                return -Errno.ENOENT;
        }
        if (TimerRegisters.IsTimerReg(id)) return CopySized(call, reg.addr, TimerRegisters.Get(this, id), OneRegId.SizeBytes(id));
        if ((id & KVM_REG_ARM_COPROC_MASK) == KVM_REG_ARM_DEMUX)
        {
            int r = Demux(id, out int index);
            return r < 0 ? r : CopyU32ToUser(call, reg.addr, (uint)IdRegisters.Ccsidr[index]);
        }
        var desc = SystemRegisterTable.Find(id);
        if (desc is null || !Visible(desc)) return -Errno.ENOENT;
        return CopyU64ToUser(call, reg.addr, ReadSysReg(desc));
    }

    private int SetReg(IoctlCall call, in KvmOneReg reg)
    {
        ulong id = reg.id;
        if (((id & ~KVM_REG_SIZE_MASK) >> 32) != (KVM_REG_ARM64 >> 32)) return -Errno.EINVAL;
        switch (id & KVM_REG_ARM_COPROC_MASK)
        {
            case KVM_REG_ARM_CORE:
            {
                int r = CoreRegisters.Locate(id, out int off, out int size);
                if (r < 0) return r;
                Span<byte> val = stackalloc byte[size];
                if (call.User.CopyFromUser(reg.addr, val) != 0) return -Errno.EFAULT;
                if (CoreRegisters.IsPstate(off) && !CoreRegisters.PstateModeValid(BitConverter.ToUInt64(val))) return -Errno.EINVAL;
                val.CopyTo(Core.Bytes.AsSpan(off, size));
                return 0;
            }
            case KVM_REG_ARM_FW:
            case KVM_REG_ARM_FW_FEAT_BMAP:
            {
                if (OneRegId.SizeBytes(id) != 8) return -Errno.ENOENT;
                if (CopyU64FromUser(call, reg.addr, out ulong v) < 0) return -Errno.EFAULT;
                return FirmwareRegisters.Set(this, id, v);
            }
            case KVM_REG_ARM64_SVE:
                return -Errno.ENOENT;
        }
        if (TimerRegisters.IsTimerReg(id))
        {
            if (CopyU64FromUser(call, reg.addr, out ulong v) < 0) return -Errno.EFAULT;
            TimerRegisters.Set(this, id, v);
            return 0;
        }
        if ((id & KVM_REG_ARM_COPROC_MASK) == KVM_REG_ARM_DEMUX)
        {
            int r = Demux(id, out int index);
            if (r < 0) return r;
            if (CopyU32FromUser(call, reg.addr, out uint v) < 0) return -Errno.EFAULT;
            return v == IdRegisters.Ccsidr[index] ? 0 : -Errno.EINVAL; // cache geometry is invariant
        }
        {
            var desc = SystemRegisterTable.Find(id);
            if (desc is null || !Visible(desc)) return -Errno.ENOENT;
            if (CopyU64FromUser(call, reg.addr, out ulong v) < 0) return -Errno.EFAULT;
            return WriteSysReg(desc, v);
        }
    }

    private static int Demux(ulong id, out int index)
    {
        index = (int)(id & KVM_REG_ARM_DEMUX_VAL_MASK);
        if ((id & KVM_REG_SIZE_MASK) != KVM_REG_SIZE_U32) return -Errno.ENOENT;
        if ((id & KVM_REG_ARM_DEMUX_ID_MASK) != KVM_REG_ARM_DEMUX_ID_CCSIDR) return -Errno.ENOENT;
        if ((id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_ARM_COPROC_MASK | KVM_REG_ARM_DEMUX_ID_MASK | KVM_REG_ARM_DEMUX_VAL_MASK)) != 0) return -Errno.ENOENT;
        return index < IdRegisters.Ccsidr.Length ? 0 : -Errno.ENOENT;
    }

    /// <summary>sysreg_hidden: PMU registers exist only for a vCPU with the PMUv3 feature.</summary>
    public bool Visible(SysRegDesc desc) => !desc.PmuOnly || HasPmu;

    public bool HasPmu => HasFeature(KvmArm.KVM_ARM_VCPU_PMU_V3);

    /// <summary>A system register's value as the guest (and ONE_REG) sees it.</summary>
    public ulong ReadSysReg(SysRegDesc desc)
    {
        switch (desc.Kind)
        {
            case SysRegKind.Invariant: return desc.Reset;
            case SysRegKind.Aa32IdRaz:
            case SysRegKind.RazWi: return 0;
            case SysRegKind.IdReg:
            {
                ulong v = desc.Reset;
                if (desc.Name == "ID_AA64DFR0_EL1" && HasPmu) v |= IdRegisters.PmuVerV3 << IdRegisters.Dfr0PmuVerShift;
                if (desc.Name == "ID_AA64PFR0_EL1")
                {
                    v = (v & ~(0xfful << IdRegisters.Pfr0Csv2Shift)) | ((ulong)Vm.Pfr0Csv2 << IdRegisters.Pfr0Csv2Shift) | ((ulong)Vm.Pfr0Csv3 << IdRegisters.Pfr0Csv3Shift);
                }
                return v;
            }
            default: return Volatile.Read(ref SysRegValues[SystemRegisterTable.Slot(desc.Id)]);
        }
    }

    private int WriteSysReg(SysRegDesc desc, ulong value)
    {
        switch (desc.Kind)
        {
            case SysRegKind.Aa32IdRaz:
            case SysRegKind.RazWi: return 0; // REG_USER_WI, set_wi_reg
            case SysRegKind.Invariant: return value == desc.Reset ? 0 : -Errno.EINVAL;
            case SysRegKind.IdReg:
            {
                ulong cur = ReadSysReg(desc);
                if (desc.Name == "ID_AA64PFR0_EL1")
                {
                    // set_id_aa64pfr0_el1: CSV2/CSV3 may be lowered to 0 (or kept at 1); nothing else changes.
                    ulong csv2 = value >> IdRegisters.Pfr0Csv2Shift & 0xf, csv3 = value >> IdRegisters.Pfr0Csv3Shift & 0xf;
                    if (csv2 > 1 || csv3 > 1) return -Errno.EINVAL;
                    ulong mask = (0xful << IdRegisters.Pfr0Csv2Shift) | (0xful << IdRegisters.Pfr0Csv3Shift);
                    if (((value ^ cur) & ~mask) != 0) return -Errno.EINVAL;
                    Vm.Pfr0Csv2 = (int)csv2;
                    Vm.Pfr0Csv3 = (int)csv3;
                    return 0;
                }
                return value == cur ? 0 : -Errno.EINVAL;
            }
            default:
            {
                int slot = SystemRegisterTable.Slot(desc.Id);
                ulong cur = SysRegValues[slot];
                if (((value ^ cur) & ~desc.WritableMask) != 0) return -Errno.EINVAL;
                Volatile.Write(ref SysRegValues[slot], value);
                return 0;
            }
        }
    }

    private static int CopySized(IoctlCall call, ulong addr, ulong value, int size)
    {
        Span<byte> b = stackalloc byte[8];
        BitConverter.TryWriteBytes(b, value);
        if (size > 8) return -Errno.EINVAL;
        return call.User.CopyToUser(addr, b[..size]) == 0 ? 0 : -Errno.EFAULT;
    }

    /// <summary>Every register id KVM_GET_REG_LIST reports, in KVM's order.</summary>
    public List<ulong> RegisterIds()
    {
        var ids = new List<ulong>(CoreRegisters.Ids());
        ids.AddRange(FirmwareRegisters.Ids);
        ids.AddRange(TimerRegisters.Ids);
        foreach (var r in SystemRegisterTable.Invariants) ids.Add(r.Id);
        foreach (var r in SystemRegisterTable.Table) if (Visible(r)) ids.Add(r.Id);
        ids.AddRange(SystemRegisterTable.DemuxIds());
        return ids;
    }

    private IoctlResult GetRegList(IoctlCall call)
    {
        if (!Initialized) return Fail(call, Errno.ENOEXEC, "KVM_ARM_VCPU_INIT first");
        var header = Read<KvmRegList>(call);
        var ids = RegisterIds();
        ulong n = header.n;
        Write(call, new KvmRegList { n = (ulong)ids.Count });
        // The kernel writes n back before checking it, so a short list still learns the count.
        if (call.User.CopyToUser(call.Argument, call.Data.AsSpan(0, 8)) != 0) return Fail(call, Errno.EFAULT, "cannot write n");
        if (n < (ulong)ids.Count) return Fail(call, Errno.E2BIG, $"list holds {n}, {ids.Count} registers");
        var bytes = MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(ids));
        if (call.User.CopyToUser(call.Argument + 8, bytes) != 0) return Fail(call, Errno.EFAULT, "cannot write the ids");
        return IoctlResult.Ok();
    }

    private IoctlResult SetVcpuEvents(IoctlCall call)
    {
        if (!Initialized) return Fail(call, Errno.ENOEXEC, "KVM_ARM_VCPU_INIT first");
        var ev = Read<KvmVcpuEvents>(call);
        // Reserved words and padding must be zero.
        for (int i = 3; i < 8; i++) if (call.Data[i] != 0) return Fail(call, Errno.EINVAL, "exception padding not zero");
        for (int i = 16; i < 64; i++) if (call.Data[i] != 0) return Fail(call, Errno.EINVAL, "reserved words not zero");
        bool serror = ev.exception.serror_pending != 0, hasEsr = ev.exception.serror_has_esr != 0;
        if (serror && hasEsr) return Fail(call, Errno.EINVAL, "SError syndrome needs the RAS extension");
        if (serror) SerrorPending = true;
        if (ev.exception.ext_dabt_pending != 0)
            return Fail(call, Errno.EINVAL, "external data abort injection is not implemented");
        return IoctlResult.Ok();
    }

    private IoctlResult SetSignalMask(IoctlCall call)
    {
        if (call.Argument == 0) { SignalMask = null; return IoctlResult.Ok(); }
        var hdr = Read<KvmSignalMask>(call);
        if (hdr.len != 8) return Fail(call, Errno.EINVAL, $"sigset length {hdr.len}, arm64's is 8");
        Span<byte> set = stackalloc byte[8];
        if (call.User.CopyFromUser(call.Argument + 4, set) != 0) return Fail(call, Errno.EFAULT, "cannot read the sigset");
        SignalMask = BitConverter.ToUInt64(set);
        return IoctlResult.Ok();
    }

    /// <summary>kvm_arm_vcpu_{set,get,has}_attr: timer interrupt numbers, PMUv3 and PV time.</summary>
    private int VcpuAttr(IoctlCall call, in KvmDeviceAttr attr)
    {
        bool has = call.Command == KVM_HAS_DEVICE_ATTR, set = call.Command == KVM_SET_DEVICE_ATTR;
        switch (attr.group)
        {
            case KvmArm.KVM_ARM_VCPU_TIMER_CTRL:
            {
                bool v = attr.attr == KvmArm.KVM_ARM_VCPU_TIMER_IRQ_VTIMER, p = attr.attr == KvmArm.KVM_ARM_VCPU_TIMER_IRQ_PTIMER;
                if (!set)
                {
                    if (!v && !p) return -Errno.ENXIO;
                    return has ? 0 : CopyU32ToUser(call, attr.addr, v ? Vm.VtimerIrq : Vm.PtimerIrq);
                }
                // kvm_arm_timer_set_attr's order: irqchip, copy, PPI, already running, then the attribute.
                if (Vm.Vgic is null) return -Errno.EINVAL;
                if (CopyU32FromUser(call, attr.addr, out uint irq) < 0) return -Errno.EFAULT;
                if (irq < Distributor.NrSgis || irq >= Distributor.NrPrivateIrqs) return -Errno.EINVAL;
                if (HasRunOnce) return -Errno.EBUSY;
                if (!v && !p) return -Errno.ENXIO;
                if (v) Vm.VtimerIrq = irq; else Vm.PtimerIrq = irq;
                return 0;
            }
            case KvmArm.KVM_ARM_VCPU_PMU_V3_CTRL:
                return Pmu.Attr(this, call.Command, attr, call.User);
            case KvmArm.KVM_ARM_VCPU_PVTIME_CTRL:
                return PvTime.Attr(this, call.Command, attr, call.User);
            default:
                return -Errno.ENXIO;
        }
    }
}
