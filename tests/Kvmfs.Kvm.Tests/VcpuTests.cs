using System.Diagnostics;
using System.Runtime.InteropServices;
using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

public class VcpuInitTests
{
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    public VcpuInitTests() => _vm = NewVm(_u);

    [Fact]
    public void Init_WrongTarget_Einval()
    {
        var v = NewVcpu(_vm, _u, 0);
        Assert.Equal(-EINVAL, With(v, _u, KVM_ARM_VCPU_INIT, new KvmVcpuInit { target = KvmArm.KVM_ARM_TARGET_CORTEX_A57 }));
    }

    [Fact] public void Init_UnknownFeature_Enoent() => Assert.Equal(-ENOENT, Init(NewVcpu(_vm, _u, 0), _u, 7));
    [Fact] public void Init_El1_32bit_Einval() => Assert.Equal(-EINVAL, Init(NewVcpu(_vm, _u, 0), _u, KvmArm.KVM_ARM_VCPU_EL1_32BIT));
    [Fact] public void Init_Pmu_Accepted() => Assert.Equal(0, Init(NewVcpu(_vm, _u, 0), _u, KvmArm.KVM_ARM_VCPU_PMU_V3));
    [Fact] public void Init_Sve_Einval() => Assert.Equal(-EINVAL, Init(NewVcpu(_vm, _u, 0), _u, KvmArm.KVM_ARM_VCPU_SVE));

    [Fact]
    public void Init_Again_MustRepeatFeatures()
    {
        var v = NewVcpu(_vm, _u, 0);
        Assert.Equal(0, Init(v, _u, KvmArm.KVM_ARM_VCPU_PSCI_0_2));
        Assert.Equal(-EINVAL, Init(v, _u));
        Assert.Equal(0, Init(v, _u, KvmArm.KVM_ARM_VCPU_PSCI_0_2));
    }

    [Fact]
    public void Init_PowerOff_IsStopped_OtherwiseRunnable()
    {
        var v0 = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PSCI_0_2);
        var v1 = InitVcpu(_vm, _u, 1, KvmArm.KVM_ARM_VCPU_PSCI_0_2, KvmArm.KVM_ARM_VCPU_POWER_OFF);
        Assert.Equal(KvmMpStates.KVM_MP_STATE_RUNNABLE, From<KvmMpState>(Call(v0, _u, KVM_GET_MP_STATE).Data).mp_state);
        Assert.Equal(KvmMpStates.KVM_MP_STATE_STOPPED, From<KvmMpState>(Call(v1, _u, KVM_GET_MP_STATE).Data).mp_state);
    }

    [Fact]
    public void Init_ResetsPstateToEl1hMasked()
    {
        var v = InitVcpu(_vm, _u, 0);
        Assert.Equal(0, GetReg(v, _u, CoreId(264), out var pstate));
        Assert.Equal(0x3c5ul, pstate);
    }

    [Fact]
    public void Mpidr_FromVcpuId()
    {
        var v = InitVcpu(_vm, _u, 0x123);
        Assert.Equal(0, GetReg(v, _u, Sys(3, 0, 0, 0, 5), out var mpidr));
        Assert.Equal(0x80000000ul | 0x3 | (0x12ul << 8), mpidr);
    }
}

public class VcpuIoctlTests
{
    private static KvmRun RunOf(Vcpu v)
    {
        var b = new byte[Marshal.SizeOf<KvmRun>()];
        v.TraceRunState()!.CopyTo(b, 0);
        return MemoryMarshal.Read<KvmRun>(b);
    }

    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    public VcpuIoctlTests() => _vm = NewVm(_u);

    [Fact] public void Run_BeforeInit_Enoexec() => Assert.Equal(-ENOEXEC, Io(NewVcpu(_vm, _u, 0), _u, KVM_RUN));
    [Fact] public void OneReg_BeforeInit_Enoexec() => Assert.Equal(-ENOEXEC, GetReg(NewVcpu(_vm, _u, 0), _u, CoreId(0), out _));
    [Fact] public void RegList_BeforeInit_Enoexec() => Assert.Equal(-ENOEXEC, With(NewVcpu(_vm, _u, 0), _u, KVM_GET_REG_LIST, new KvmRegList()));
    [Fact] public void VcpuEvents_BeforeInit_Enoexec() => Assert.Equal(-ENOEXEC, Io(NewVcpu(_vm, _u, 0), _u, KVM_GET_VCPU_EVENTS));
    [Fact] public void UnknownIoctl_Einval() => Assert.Equal(-EINVAL, Io(NewVcpu(_vm, _u, 0), _u, KVM_GET_REGS));
    [Fact] public void Finalize_NoSve_Einval() => Assert.Equal(-EINVAL, Call(InitVcpu(_vm, _u, 0), _u, KVM_ARM_VCPU_FINALIZE, 0, BitConverter.GetBytes(KvmArm.KVM_ARM_VCPU_SVE)).Result.Value);
    [Fact] public void EnableCap_Einval() => Assert.Equal(-EINVAL, With(NewVcpu(_vm, _u, 0), _u, KVM_ENABLE_CAP, new KvmEnableCap { cap = 1 }));

    [Fact]
    public unsafe void Run_AfterInit_GivesDocumentedInternalErrorExit()
    {
        var v = InitVcpu(_vm, _u, 0);
        Assert.Equal(0, Io(v, _u, KVM_RUN));
        var run = RunOf(v);
        Assert.Equal(KvmExit.KVM_EXIT_INTERNAL_ERROR, run.exit_reason);
        Assert.Equal(KvmExit.KVM_INTERNAL_ERROR_EMULATION, run.@internal.suberror);
        Assert.Equal(Vcpu.InternalErrorNoEmulator, run.@internal.data[0]);
    }

    [Fact]
    public unsafe void Run_ImmediateExit_Eintr()
    {
        var v = InitVcpu(_vm, _u, 0);
        // Set immediate_exit through the memfd, as the VMM does through its mapping.
        using (var fs = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(v.BackingFd!.Value, false), FileAccess.ReadWrite))
        {
            fs.Position = 1;
            fs.WriteByte(1);
        }
        Assert.Equal(-EINTR, Io(v, _u, KVM_RUN));
    }

    [Fact]
    public unsafe void Run_AfterKick_EintrOnce()
    {
        var v = InitVcpu(_vm, _u, 0);
        v.Kick();
        Assert.Equal(-EINTR, Io(v, _u, KVM_RUN));
        Assert.Equal(KvmExit.KVM_EXIT_INTR, RunOf(v).exit_reason);
        Assert.Equal(0, Io(v, _u, KVM_RUN));
    }

    [Fact]
    public void Run_PoweredOff_BlocksUntilKicked()
    {
        var v = InitVcpu(_vm, _u, 1, KvmArm.KVM_ARM_VCPU_POWER_OFF);
        long result = 1;
        var t = new Thread(() => result = Io(v, _u, KVM_RUN));
        t.Start();
        Thread.Sleep(200);
        Assert.True(t.IsAlive);
        v.Kick();
        Assert.True(t.Join(5000));
        Assert.Equal(-EINTR, result);
    }

    [Fact]
    public void VmIoctls_ProceedWhileVcpuRuns()
    {
        var v = InitVcpu(_vm, _u, 1, KvmArm.KVM_ARM_VCPU_POWER_OFF);
        var t = new Thread(() => Io(v, _u, KVM_RUN));
        t.Start();
        Thread.Sleep(50);
        Assert.Equal(0, Io(_vm, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_ONE_REG) - 1);
        NewVcpu(_vm, _u, 2);
        v.Kick();
        Assert.True(t.Join(5000));
    }

    [Fact]
    public void MpState_SetInvalid_Einval()
    {
        var v = InitVcpu(_vm, _u, 0);
        Assert.Equal(-EINVAL, With(v, _u, KVM_SET_MP_STATE, new KvmMpState { mp_state = KvmMpStates.KVM_MP_STATE_HALTED }));
        Assert.Equal(0, With(v, _u, KVM_SET_MP_STATE, new KvmMpState { mp_state = KvmMpStates.KVM_MP_STATE_STOPPED }));
        Assert.Equal(KvmMpStates.KVM_MP_STATE_STOPPED, v.MpState);
    }

    [Fact]
    public void VcpuEvents_RoundTrip_AndReservedChecked()
    {
        var v = InitVcpu(_vm, _u, 0);
        var (r, data) = Call(v, _u, KVM_GET_VCPU_EVENTS);
        Assert.Equal(0, r.Value);
        Assert.All(data, b => Assert.Equal(0, b));
        Assert.Equal(0, Call(v, _u, KVM_SET_VCPU_EVENTS, 0, data).Result.Value);
        data[20] = 1;
        Assert.Equal(-EINVAL, Call(v, _u, KVM_SET_VCPU_EVENTS, 0, data).Result.Value);
        var ev = new byte[64];
        ev[0] = 1; ev[1] = 1; // serror with ESR: needs RAS
        Assert.Equal(-EINVAL, Call(v, _u, KVM_SET_VCPU_EVENTS, 0, ev).Result.Value);
    }

    [Fact]
    public void SignalMask_ReadsSigsetFromUser()
    {
        var v = NewVcpu(_vm, _u, 0);
        ulong addr = _u.Alloc(16);
        _u.SetU32(addr, 8);
        _u.SetU64(addr + 4, 0x1234);
        Assert.Equal(0, Call(v, _u, KVM_SET_SIGNAL_MASK, addr, BitConverter.GetBytes(8u)).Result.Value);
        Assert.Equal(0x1234ul, v.SignalMask);
        Assert.Equal(-EINVAL, Call(v, _u, KVM_SET_SIGNAL_MASK, addr, BitConverter.GetBytes(4u)).Result.Value);
        Assert.Equal(0, Call(v, _u, KVM_SET_SIGNAL_MASK, 0, BitConverter.GetBytes(0u)).Result.Value);
        Assert.Null(v.SignalMask);
    }

    [Fact]
    public void GuestDebug_InvalidControl_Einval()
    {
        var v = NewVcpu(_vm, _u, 0);
        Assert.Equal(-EINVAL, With(v, _u, KVM_SET_GUEST_DEBUG, new KvmGuestDebug { control = 0x100 }));
        Assert.Equal(0, With(v, _u, KVM_SET_GUEST_DEBUG, new KvmGuestDebug { control = KvmGuestDebugFlags.KVM_GUESTDBG_ENABLE | KvmGuestDebugFlags.KVM_GUESTDBG_SINGLESTEP }));
        Assert.Equal(3u, v.GuestDebugControl);
    }

    [Fact]
    public void VcpuAttrs_AsKvmWithoutPmu()
    {
        var v = InitVcpu(_vm, _u, 0);
        ulong addr = _u.Alloc(8);
        long Attr(uint cmd, uint group, ulong attr) => With(v, _u, cmd, new KvmDeviceAttr { group = group, attr = attr, addr = addr });
        Assert.Equal(0, Attr(KVM_HAS_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_TIMER_CTRL, KvmArm.KVM_ARM_VCPU_TIMER_IRQ_VTIMER));
        Assert.Equal(-ENXIO, Attr(KVM_HAS_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_TIMER_CTRL, 7));
        Assert.Equal(-ENXIO, Attr(KVM_HAS_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_CTRL, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT));
        Assert.Equal(-ENODEV, Attr(KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PMU_V3_CTRL, KvmArm.KVM_ARM_VCPU_PMU_V3_INIT));
        Assert.Equal(0, Attr(KVM_HAS_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PVTIME_CTRL, KvmArm.KVM_ARM_VCPU_PVTIME_IPA));
        Assert.Equal(-ENXIO, Attr(KVM_HAS_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_PVTIME_CTRL, 1));
        Assert.Equal(-ENXIO, Attr(KVM_HAS_DEVICE_ATTR, 9, 0));
        Assert.Equal(0, Attr(KVM_GET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_TIMER_CTRL, KvmArm.KVM_ARM_VCPU_TIMER_IRQ_VTIMER));
        Assert.Equal(27u, _u.U32At(addr));
        _u.SetU32(addr, 28);
        Assert.Equal(-EINVAL, Attr(KVM_SET_DEVICE_ATTR, KvmArm.KVM_ARM_VCPU_TIMER_CTRL, KvmArm.KVM_ARM_VCPU_TIMER_IRQ_VTIMER)); // no irqchip
    }
}
