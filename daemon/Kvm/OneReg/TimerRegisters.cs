using System.Diagnostics;
using static Kvmfs.Protocol.Uapi.KvmReg;

namespace Kvmfs.Kvm.OneReg;

/// <summary>
/// The EL1 virtual timer as ONE_REG shows it (KVM_REG_ARM_TIMER_CTL/CNT/CVAL). The physical
/// counter is the host's monotonic clock scaled to <see cref="CounterFrequency"/>; the virtual
/// counter subtracts the VM's CNTVOFF, which writing CNT sets for every vCPU of the VM.
/// </summary>
public static class TimerRegisters
{
    /// <summary>CNTFRQ_EL0 of the emulated system (62.5 MHz, as QEMU's virt board).</summary>
    public const ulong CounterFrequency = 62_500_000;
    private const ulong CtlEnable = 1, CtlImask = 2, CtlIstatus = 4;

    public static readonly ulong[] Ids = [KVM_REG_ARM_TIMER_CTL, KVM_REG_ARM_TIMER_CNT, KVM_REG_ARM_TIMER_CVAL];

    public static bool IsTimerReg(ulong id) => id == KVM_REG_ARM_TIMER_CTL || id == KVM_REG_ARM_TIMER_CNT || id == KVM_REG_ARM_TIMER_CVAL;

    /// <summary>The physical count (CNTPCT_EL0).</summary>
    public static ulong PhysicalCounter()
    {
        long ticks = Stopwatch.GetTimestamp();
        return (ulong)((UInt128)(ulong)ticks * CounterFrequency / (ulong)Stopwatch.Frequency);
    }

    public static ulong VirtualCounter(Vm vm) => PhysicalCounter() - vm.CntvOff;

    public static ulong Get(Vcpu vcpu, ulong id)
    {
        if (id == KVM_REG_ARM_TIMER_CNT) return VirtualCounter(vcpu.Vm);
        if (id == KVM_REG_ARM_TIMER_CVAL) return vcpu.CntvCval;
        // CTL: ISTATUS is the timer condition, computed now.
        ulong ctl = vcpu.CntvCtl & (CtlEnable | CtlImask);
        if ((ctl & CtlEnable) != 0 && VirtualCounter(vcpu.Vm) >= vcpu.CntvCval) ctl |= CtlIstatus;
        return ctl;
    }

    public static void Set(Vcpu vcpu, ulong id, ulong value)
    {
        if (id == KVM_REG_ARM_TIMER_CNT) vcpu.Vm.CntvOff = PhysicalCounter() - value;
        else if (id == KVM_REG_ARM_TIMER_CVAL) vcpu.CntvCval = value;
        else vcpu.CntvCtl = value & (CtlEnable | CtlImask);
    }
}
