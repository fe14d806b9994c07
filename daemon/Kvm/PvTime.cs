using System.Buffers.Binary;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Kvm;

/// <summary>
/// Paravirtualized stolen time (arch/arm64/kvm/pvtime.c, DEN0057A): the VMM places a 64-byte
/// struct pvclock_vcpu_stolen_time per vCPU in guest memory (KVM_ARM_VCPU_PVTIME_CTRL /
/// KVM_ARM_VCPU_PVTIME_IPA); before the vCPU runs, KVM adds to its stolen_time the time the
/// vCPU's thread spent runnable but not running (the scheduler's run_delay). Here the thread
/// that runs the guest is the daemon's thread serving KVM_RUN, so its run_delay is what counts.
/// </summary>
public static class PvTime
{
    /// <summary>GPA_INVALID: no stolen-time structure set.</summary>
    public const ulong GpaInvalid = ulong.MaxValue;
    /// <summary>sizeof(struct pvclock_vcpu_stolen_time): revision, attributes, stolen_time, padding.</summary>
    public const int StructSize = 64;
    private const int StolenTimeOffset = 8;

    /// <summary>KVM_ARM_VCPU_PVTIME_CTRL for KVM_HAS/GET/SET_DEVICE_ATTR. Returns 0 or -errno.</summary>
    public static int Attr(Vcpu vcpu, uint command, in KvmDeviceAttr attr, IUserAccess user)
    {
        if (attr.attr != KvmArm.KVM_ARM_VCPU_PVTIME_IPA) return -Errno.ENXIO;
        if (command == KvmIoctls.KVM_HAS_DEVICE_ATTR) return 0;
        Span<byte> b = stackalloc byte[8];
        if (command == KvmIoctls.KVM_GET_DEVICE_ATTR)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(b, vcpu.StealBase);
            return user.CopyToUser(attr.addr, b) == 0 ? 0 : -Errno.EFAULT;
        }
        // kvm_arm_pvtime_set_attr, in its order: copy, alignment, already set, inside a memslot.
        if (user.CopyFromUser(attr.addr, b) != 0) return -Errno.EFAULT;
        ulong ipa = BinaryPrimitives.ReadUInt64LittleEndian(b);
        if ((ipa & 63) != 0) return -Errno.EINVAL;
        if (vcpu.StealBase != GpaInvalid) return -Errno.EEXIST;
        if (vcpu.Vm.Memslots.Find(ipa) is null) return -Errno.EINVAL;
        vcpu.StealBase = ipa;
        return 0;
    }

    /// <summary>
    /// KVM_REQ_RECORD_STEAL on vCPU entry: the first time zeroes the structure (kvm_init_stolen_time),
    /// later entries add the run delay accumulated since the last one (kvm_update_stolen_time).
    /// </summary>
    public static void RecordSteal(Vcpu vcpu)
    {
        ulong base_ = vcpu.StealBase;
        if (base_ == GpaInvalid) return;
        ulong runDelay = ThreadRunDelayNs();
        if (!vcpu.StealInitialized)
        {
            if (!GuestWrite(vcpu.Vm, base_, new byte[StructSize])) return;
            vcpu.LastSteal = runDelay;
            vcpu.StealInitialized = true;
            return;
        }
        Span<byte> b = stackalloc byte[8];
        if (!GuestRead(vcpu.Vm, base_ + StolenTimeOffset, b)) return;
        ulong steal = BinaryPrimitives.ReadUInt64LittleEndian(b) + (runDelay - vcpu.LastSteal);
        vcpu.LastSteal = runDelay;
        BinaryPrimitives.WriteUInt64LittleEndian(b, steal);
        GuestWrite(vcpu.Vm, base_ + StolenTimeOffset, b);
    }

    /// <summary>The PV_TIME_FEATURES hypercall's answer for PV_TIME_FEATURES and PV_TIME_ST: 0 when set up, else NOT_SUPPORTED (-1).</summary>
    public static long Features(Vcpu vcpu) => vcpu.StealBase != GpaInvalid ? 0 : -1;

    /// <summary>The calling thread's run_delay in ns (second field of /proc/thread-self/schedstat), 0 if unknown.</summary>
    public static ulong ThreadRunDelayNs()
    {
        try
        {
            var text = File.ReadAllText("/proc/thread-self/schedstat");
            var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length >= 2 && ulong.TryParse(parts[1], out ulong v) ? v : 0;
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
    }

    private static unsafe bool GuestRead(Vm vm, ulong gpa, Span<byte> dest)
    {
        var slot = vm.Memslots.Find(gpa);
        if (slot is null || gpa + (ulong)dest.Length - slot.GuestPhysAddr > slot.Size) return false;
        new ReadOnlySpan<byte>((byte*)slot.Memory.HostPointer + (gpa - slot.GuestPhysAddr), dest.Length).CopyTo(dest);
        return true;
    }

    private static unsafe bool GuestWrite(Vm vm, ulong gpa, ReadOnlySpan<byte> src)
    {
        var slot = vm.Memslots.Find(gpa);
        if (slot is null || slot.ReadOnly || gpa + (ulong)src.Length - slot.GuestPhysAddr > slot.Size) return false;
        src.CopyTo(new Span<byte>((byte*)slot.Memory.HostPointer + (gpa - slot.GuestPhysAddr), src.Length));
        slot.MarkDirty(gpa);
        return true;
    }
}
