using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmCaps;

namespace Kvmfs.Kvm;

/// <summary>
/// KVM_CHECK_EXTENSION: what this KVM implements, with the values Linux 6.1 arm64 answers.
/// A capability is listed only once the behaviour behind it exists; everything else answers 0,
/// so VMMs take their fallback paths instead of relying on something we would get wrong.
/// </summary>
public static class Capabilities
{
    /// <summary>The largest IPA our stage 2 handles: the emulated CPU's PARange (44 bits, ID_AA64MMFR0_EL1.PARange = 4).</summary>
    public const int IpaLimit = 44;
    /// <summary>The IPA size of KVM_CREATE_VM type 0.</summary>
    public const int DefaultIpaBits = 40;
    /// <summary>KVM_USER_MEM_SLOTS on arm64 (SHRT_MAX, no internal slots).</summary>
    public const int UserMemSlots = 32767;
    /// <summary>VGIC_V3_MAX_CPUS: the limit before (and with) a GICv3.</summary>
    public const int MaxVcpus = 512;
    /// <summary>VGIC_V2_MAX_CPUS.</summary>
    public const int MaxVcpusGicV2 = 8;
    /// <summary>KVM_MAX_IRQ_ROUTES.</summary>
    public const int MaxIrqRoutes = 4096;

    /// <summary>Answers KVM_CHECK_EXTENSION on /dev/kvm (<paramref name="vm"/> null) or on a VM fd.</summary>
    public static long Check(Vm? vm, ulong cap)
    {
        if (cap > uint.MaxValue) return 0;
        switch ((uint)cap)
        {
            // Memslot semantics (Memslots.cs implements create/delete/move/flags as KVM does).
            case KVM_CAP_USER_MEMORY:
            case KVM_CAP_DESTROY_MEMORY_REGION_WORKS:
            case KVM_CAP_JOIN_MEMORY_REGIONS_WORKS:
            case KVM_CAP_READONLY_MEM:
                return 1;
            case KVM_CAP_NR_MEMSLOTS:
                return UserMemSlots;
            // kvm_run.internal carries data: a layout fact of our kvm_run.
            case KVM_CAP_INTERNAL_ERROR_DATA:
                return 1;
            case KVM_CAP_CHECK_EXTENSION_VM:
            case KVM_CAP_ENABLE_CAP_VM:
            case KVM_CAP_DEVICE_CTRL:
            case KVM_CAP_ONE_REG:
            case KVM_CAP_MP_STATE:
            case KVM_CAP_IMMEDIATE_EXIT:
            case KVM_CAP_VCPU_EVENTS:
            case KVM_CAP_VCPU_ATTRIBUTES:
            case KVM_CAP_ARM_PSCI:
            case KVM_CAP_ARM_PSCI_0_2:
            case KVM_CAP_ARM_SET_DEVICE_ADDR:
            case KVM_CAP_ARM_IRQ_LINE_LAYOUT_2:
            case KVM_CAP_IRQFD:
            case KVM_CAP_IOEVENTFD:
            case KVM_CAP_IOEVENTFD_ANY_LENGTH:
            case KVM_CAP_SIGNAL_MSI: // MSIs go through a vITS (KVM_DEV_TYPE_ARM_VGIC_ITS); without one, ENODEV
                return 1;
            // Coalesced MMIO zones (CoalescedMmio.cs): the answer is the ring's page in the vCPU mapping.
            case KVM_CAP_COALESCED_MMIO:
                return CoalescedMmio.RingPageOffset;
            case KVM_CAP_COALESCED_PIO:
                return 1;
            // KVM_GET_STATS_FD on VM and vCPU fds (BinaryStats.cs).
            case KVM_CAP_BINARY_STATS_FD:
                return 1;
            // PV stolen time (PvTime.cs): the vCPU attribute and the record before each entry.
            case KVM_CAP_STEAL_TIME:
                return 1;
            // PMUv3 vCPU feature, its attributes and registers (Pmu.cs, SystemRegisterTable).
            case KVM_CAP_ARM_PMU_V3:
                return 1;
            // KVM_ENABLE_CAP sets the VM flag that PSCI SYSTEM_SUSPEND consults.
            case KVM_CAP_ARM_SYSTEM_SUSPEND:
                return 1;
            case KVM_CAP_IRQCHIP:
                return 1; // a vGIC can be created (v2 and v3 are emulated)
            case KVM_CAP_IRQ_ROUTING:
                return MaxIrqRoutes;
            case KVM_CAP_NR_VCPUS:
                return Math.Min(Environment.ProcessorCount, vm?.MaxVcpus ?? MaxVcpus);
            case KVM_CAP_MAX_VCPUS:
            case KVM_CAP_MAX_VCPU_ID:
                return vm?.MaxVcpus ?? MaxVcpus;
            case KVM_CAP_MSI_DEVID:
                // Without a VM KVM refuses; with an ITS, MSIs carry a device id.
                return vm is null ? -Errno.EINVAL : vm.Its.Count != 0 ? 1 : 0;
            case KVM_CAP_ARM_VM_IPA_SIZE:
                return IpaLimit;
            // Not implemented (yet): SVE, pointer auth, MTE, AArch32 EL1 (no AArch32 in the CPU: KVM_CAP_ARM_EL1_32BIT stays 0),
            // coalesced MMIO, guest debug, dirty rings, NISV exits, SError injection, ...
            default:
                return 0;
        }
    }
}
