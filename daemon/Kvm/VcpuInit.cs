using Kvmfs.Kvm.OneReg;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>
/// KVM_ARM_VCPU_INIT (kvm_vcpu_set_target + kvm_reset_vcpu): the target check, the feature bits
/// we implement, and the architectural reset state KVM gives a vCPU.
/// </summary>
public static class VcpuInit
{
    /// <summary>KVM_ARM_PREFERRED_TARGET's answer, and the only target KVM_ARM_VCPU_INIT accepts.</summary>
    public const uint PreferredTarget = KvmArm.KVM_ARM_TARGET_GENERIC_V8;
    /// <summary>KVM_VCPU_MAX_FEATURES in Linux 6.1: bits 0..6 are known.</summary>
    public const int MaxFeatures = 7;
    /// <summary>PSTATE after reset: EL1h with D, A, I and F masked.</summary>
    public const ulong ResetPstate = 0x3c5;

    /// <summary>Validates <paramref name="init"/> against the vCPU and applies it. Returns 0 or -errno.</summary>
    public static int Apply(Vcpu vcpu, in KvmVcpuInit init, out string why)
    {
        why = "";
        if (init.target != PreferredTarget) { why = $"target {init.target} is not the preferred target {PreferredTarget}"; return -Errno.EINVAL; }
        if (vcpu.Target >= 0 && vcpu.Target != init.target) { why = "a second init must repeat the target"; return -Errno.EINVAL; }
        uint features = 0;
        for (int i = 0; i < 7 * 32; i++)
        {
            bool set = init.HasFeature(i);
            if (set && i >= MaxFeatures) { why = $"unknown feature bit {i}"; return -Errno.ENOENT; }
            if (vcpu.Target >= 0 && i < MaxFeatures && vcpu.HasFeature(i) != set) { why = "a second init must repeat the features"; return -Errno.EINVAL; }
            if (set) features |= 1u << i;
        }
        // kvm_reset_vcpu refuses what this CPU cannot give (the matching capabilities answer 0).
        foreach (var (bit, name) in new[] { (KvmArm.KVM_ARM_VCPU_EL1_32BIT, "AArch32 EL1"),
                     (KvmArm.KVM_ARM_VCPU_SVE, "SVE"), (KvmArm.KVM_ARM_VCPU_PTRAUTH_ADDRESS, "address authentication"),
                     (KvmArm.KVM_ARM_VCPU_PTRAUTH_GENERIC, "generic authentication") })
        {
            if ((features & (1u << bit)) != 0) { why = $"{name} is not implemented"; return -Errno.EINVAL; }
        }
        vcpu.Target = (int)init.target;
        vcpu.Features = features;
        Reset(vcpu);
        vcpu.MpState = (features & (1u << KvmArm.KVM_ARM_VCPU_POWER_OFF)) != 0 ? KvmMpStates.KVM_MP_STATE_STOPPED : KvmMpStates.KVM_MP_STATE_RUNNABLE;
        return 0;
    }

    /// <summary>The reset state of a vCPU: registers zero, PSTATE EL1h masked, system registers at their reset values.</summary>
    public static void Reset(Vcpu vcpu)
    {
        vcpu.Core.Reset(ResetPstate);
        var table = SystemRegisterTable.Table;
        for (int i = 0; i < table.Length; i++) vcpu.SysRegValues[i] = table[i].Kind == SysRegKind.Stored ? table[i].Reset : 0;
        vcpu.SysRegValues[SystemRegisterTable.Slot(SystemRegisterTable.MpidrId)] = SystemRegisterTable.MpidrFor(vcpu.VcpuId);
        vcpu.CntvCtl = 0;
        vcpu.CntvCval = 0;
        vcpu.SerrorPending = false;
        // kvm_pmu_vcpu_reset: the PMU registers are rows of the table, reset above.
    }
}
