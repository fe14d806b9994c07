using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmReg;

namespace Kvmfs.Kvm.OneReg;

/// <summary>
/// The firmware pseudo-registers (hypercalls.c): the PSCI version the guest sees, the SMCCC
/// Spectre workaround levels, and the bitmaps of hypervisor services. Values are per VM.
/// </summary>
public static class FirmwareRegisters
{
    // Our CPU is not affected by Spectre v2, v4 (SSB) or BHB: the workarounds are "not required".
    public const ulong Workaround1Level = 2; // KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1_NOT_REQUIRED
    public const ulong Workaround2Level = 3; // KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2_NOT_REQUIRED
    public const ulong Workaround3Level = 2; // KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3_NOT_REQUIRED
    private const ulong LevelMask = 0xf;
    private const ulong Workaround2Enabled = 1ul << 4;

    /// <summary>Service bitmaps Linux 6.1 offers: TRNG; PV time; KVM features + PTP.</summary>
    public const ulong StdFeatures = 1, StdHypFeatures = 1, VendorHypFeatures = 3;

    public static readonly ulong[] Ids =
    [
        KVM_REG_ARM_PSCI_VERSION, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2,
        KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3, KVM_REG_ARM_STD_BMAP, KVM_REG_ARM_STD_HYP_BMAP, KVM_REG_ARM_VENDOR_HYP_BMAP,
    ];

    /// <summary>kvm_psci_version: v0.1 unless the vCPU asked for PSCI 0.2+.</summary>
    public static ulong PsciVersion(Vcpu vcpu) => vcpu.HasFeature(KvmArm.KVM_ARM_VCPU_PSCI_0_2) ? vcpu.Vm.PsciVersion : Psci.KVM_ARM_PSCI_0_1;

    public static int Get(Vcpu vcpu, ulong id, out ulong value)
    {
        var vm = vcpu.Vm;
        value = 0;
        if (id == KVM_REG_ARM_PSCI_VERSION) value = PsciVersion(vcpu);
        else if (id == KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1) value = Workaround1Level;
        else if (id == KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2) value = Workaround2Level;
        else if (id == KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3) value = Workaround3Level;
        else if (id == KVM_REG_ARM_STD_BMAP) value = vm.StdBmap;
        else if (id == KVM_REG_ARM_STD_HYP_BMAP) value = vm.StdHypBmap;
        else if (id == KVM_REG_ARM_VENDOR_HYP_BMAP) value = vm.VendorHypBmap;
        else return -Errno.ENOENT;
        return 0;
    }

    /// <summary>kvm_arm_set_fw_reg. The caller has checked the size (ENOENT) and copied the value.</summary>
    public static int Set(Vcpu vcpu, ulong id, ulong val)
    {
        var vm = vcpu.Vm;
        if (id == KVM_REG_ARM_PSCI_VERSION)
        {
            bool wants02 = vcpu.HasFeature(KvmArm.KVM_ARM_VCPU_PSCI_0_2);
            switch (val)
            {
                case Psci.KVM_ARM_PSCI_0_1:
                    if (wants02) return -Errno.EINVAL;
                    vm.PsciVersion = (uint)val;
                    return 0;
                case Psci.KVM_ARM_PSCI_0_2:
                case Psci.KVM_ARM_PSCI_1_0:
                case Psci.KVM_ARM_PSCI_1_1:
                    if (!wants02) return -Errno.EINVAL;
                    vm.PsciVersion = (uint)val;
                    return 0;
                default:
                    return -Errno.EINVAL;
            }
        }
        if (id == KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1 || id == KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3)
        {
            ulong ours = id == KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1 ? Workaround1Level : Workaround3Level;
            if ((val & ~LevelMask) != 0 || val > ours) return -Errno.EINVAL;
            return 0;
        }
        if (id == KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2)
        {
            if ((val & ~(LevelMask | Workaround2Enabled)) != 0) return -Errno.EINVAL;
            if ((val & Workaround2Enabled) != 0 && (val & LevelMask) != 2) return -Errno.EINVAL;
            ulong level = (val & LevelMask) switch { 0 or 1 => 0, 2 or 3 => 3, _ => ulong.MaxValue };
            if (level == ulong.MaxValue || level > Workaround2Level) return -Errno.EINVAL;
            return 0;
        }
        ref ulong bmap = ref vm.StdBmap;
        ulong features;
        if (id == KVM_REG_ARM_STD_BMAP) { bmap = ref vm.StdBmap; features = StdFeatures; }
        else if (id == KVM_REG_ARM_STD_HYP_BMAP) { bmap = ref vm.StdHypBmap; features = StdHypFeatures; }
        else if (id == KVM_REG_ARM_VENDOR_HYP_BMAP) { bmap = ref vm.VendorHypBmap; features = VendorHypFeatures; }
        else return -Errno.ENOENT;
        if ((val & ~features) != 0) return -Errno.EINVAL;
        lock (vm.Lock)
        {
            // The guest may already have discovered the services: no changes after the first run.
            if (vm.HasRanOnce && val != bmap) return -Errno.EBUSY;
            bmap = val;
        }
        return 0;
    }
}
