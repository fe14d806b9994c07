namespace Kvmfs.Protocol.Trace;

/// <summary>
/// One ioctl as the trace records it: who asked (process, fd kind and number), what (command,
/// argument, struct bytes in and out, bytes copied from and to the caller's memory), and the
/// answer. Front ends build these; <see cref="TraceFormatter"/> renders them as text or JSON.
/// </summary>
public sealed record IoctlTraceEvent
{
    public required DateTimeOffset Time { get; init; }

    /// <summary>The VMM process that made the call.</summary>
    public required int Pid { get; init; }

    /// <summary>"kvm", "vm", "vcpu" or "device".</summary>
    public required string ObjectKind { get; init; }

    /// <summary>VM number, vCPU id or device number (0 for the system fd).</summary>
    public required int ObjectId { get; init; }

    public required uint Command { get; init; }

    /// <summary>The raw third argument of ioctl().</summary>
    public required ulong Argument { get; init; }

    /// <summary>The struct as the caller passed it (_IOW, _IOWR), else empty.</summary>
    public byte[] DataIn { get; init; } = [];

    /// <summary>The struct as returned to the caller (_IOR, _IOWR, on success), else empty.</summary>
    public byte[] DataOut { get; init; } = [];

    /// <summary>Memory the handler read from or wrote to the caller (ONE_REG values, reg lists, attrs).</summary>
    public IReadOnlyList<UserCopy> UserCopies { get; init; } = [];

    /// <summary>The ioctl's return value, or -errno.</summary>
    public required long Result { get; init; }

    /// <summary>For KVM_RUN: the first bytes of struct kvm_run after the exit (exit_reason and the union).</summary>
    public byte[]? Run { get; init; }

    /// <summary>How long the call took in the daemon, in microseconds.</summary>
    public long DurationMicros { get; init; }
}

/// <summary>A copy_from_user (ToKernel) or copy_to_user (!ToKernel) the handler made.</summary>
public sealed record UserCopy(ulong Address, bool ToKernel, byte[] Bytes);
