using System.Runtime.InteropServices;

namespace Kvmfs.Protocol.Uapi;

// struct kvm_run: the page shared between KVM_RUN and the VMM through mmap(vcpu_fd). The
// header is 32 bytes, the exit union sits at offset 32 and is 256 bytes, then come the sync
// register masks and kvm_run.s. Only the union members an arm64 kernel can produce are here.

/// <summary>KVM_EXIT_UNKNOWN.</summary>
[StructLayout(LayoutKind.Explicit, Size = 8)]
public struct KvmRunHw
{
    [FieldOffset(0)] public ulong hardware_exit_reason;
}

/// <summary>KVM_EXIT_FAIL_ENTRY.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmRunFailEntry
{
    [FieldOffset(0)] public ulong hardware_entry_failure_reason;
    [FieldOffset(8)] public uint cpu;
}

/// <summary>KVM_EXIT_DEBUG.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmRunDebug
{
    [FieldOffset(0)] public KvmDebugExitArch arch;
}

/// <summary>KVM_EXIT_MMIO: the VMM emulates the access; for a read it fills data before the next KVM_RUN.</summary>
[StructLayout(LayoutKind.Explicit, Size = 24)]
public unsafe struct KvmRunMmio
{
    [FieldOffset(0)] public ulong phys_addr;
    [FieldOffset(8)] public fixed byte data[8];
    [FieldOffset(16)] public uint len;
    [FieldOffset(20)] public byte is_write;
}

/// <summary>KVM_EXIT_HYPERCALL (arm64 uses it for SMCCC calls forwarded to user space in later kernels).</summary>
[StructLayout(LayoutKind.Explicit, Size = 72)]
public unsafe struct KvmRunHypercall
{
    [FieldOffset(0)] public ulong nr;
    [FieldOffset(8)] public fixed ulong args[6];
    [FieldOffset(56)] public ulong ret;
    [FieldOffset(64)] public uint longmode;
    [FieldOffset(68)] public uint pad;
}

/// <summary>KVM_EXIT_INTERNAL_ERROR.</summary>
[StructLayout(LayoutKind.Explicit, Size = 136)]
public unsafe struct KvmRunInternal
{
    [FieldOffset(0)] public uint suberror;
    [FieldOffset(4)] public uint ndata;
    [FieldOffset(8)] public fixed ulong data[16];
}

/// <summary>KVM_EXIT_SYSTEM_EVENT (Linux 5.18+ layout: type, ndata, data[16]; data[0] is the old flags).</summary>
[StructLayout(LayoutKind.Explicit, Size = 136)]
public unsafe struct KvmRunSystemEvent
{
    [FieldOffset(0)] public uint type;
    [FieldOffset(4)] public uint ndata;
    [FieldOffset(8)] public ulong flags;
    [FieldOffset(8)] public fixed ulong data[16];
}

/// <summary>KVM_EXIT_ARM_NISV: a data abort without valid syndrome, for VMMs that enabled KVM_CAP_ARM_NISV_TO_USER.</summary>
[StructLayout(LayoutKind.Explicit, Size = 16)]
public struct KvmRunArmNisv
{
    [FieldOffset(0)] public ulong esr_iss;
    [FieldOffset(8)] public ulong fault_ipa;
}

/// <summary>kvm_run.s: the sync registers, padded to 2048 bytes.</summary>
[StructLayout(LayoutKind.Explicit, Size = 2048)]
public unsafe struct KvmRunSyncRegsUnion
{
    [FieldOffset(0)] public KvmSyncRegs regs;
    [FieldOffset(0)] public fixed byte padding[2048];
}

/// <summary>struct kvm_run, arm64 view.</summary>
[CStruct("kvm_run"), StructLayout(LayoutKind.Explicit, Size = 2352)]
public unsafe struct KvmRun
{
    /// <summary>Offset of the exit union.</summary>
    public const int ExitUnionOffset = 32;
    public const int ExitUnionSize = 256;
    /// <summary>The bytes the trace keeps after KVM_RUN: header plus exit union.</summary>
    public const int TraceBytes = ExitUnionOffset + ExitUnionSize;

    // in
    [FieldOffset(0)] public byte request_interrupt_window;
    [FieldOffset(1)] public byte immediate_exit;
    [FieldOffset(2)] public fixed byte padding1[6];

    // out
    [FieldOffset(8)] public uint exit_reason;
    [FieldOffset(12)] public byte ready_for_interrupt_injection;
    [FieldOffset(13)] public byte if_flag;
    [FieldOffset(14)] public ushort flags;

    // x86 only, present in the layout
    [FieldOffset(16)] public ulong cr8;
    [FieldOffset(24)] public ulong apic_base;

    // the exit union
    [FieldOffset(32)] public KvmRunHw hw;
    [FieldOffset(32)] public KvmRunFailEntry fail_entry;
    [FieldOffset(32)] public KvmRunDebug debug;
    [FieldOffset(32)] public KvmRunMmio mmio;
    [FieldOffset(32)] public KvmRunHypercall hypercall;
    [FieldOffset(32)] public KvmRunInternal @internal;
    [FieldOffset(32)] public KvmRunSystemEvent system_event;
    [FieldOffset(32)] public KvmRunArmNisv arm_nisv;
    [FieldOffset(32)] public fixed byte padding[256];

    [FieldOffset(288)] public ulong kvm_valid_regs;
    [FieldOffset(296)] public ulong kvm_dirty_regs;
    [FieldOffset(304)] public KvmRunSyncRegsUnion s;
}
