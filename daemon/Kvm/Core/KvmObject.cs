namespace Kvmfs.Kvm.Core;

/// <summary>
/// What a file descriptor refers to in KVM: the system device (/dev/kvm), a VM, a vCPU or a device
/// (vGIC, ...). Every front end (the preload shim's socket, the FUSE nodes) ends up calling
/// <see cref="Ioctl"/> on one of these, exactly as the kernel's file_operations.unlocked_ioctl would.
/// </summary>
public abstract class KvmObject
{
    /// <summary>What kind of fd this is, as the trace names it: "kvm", "vm", "vcpu", "device".</summary>
    public abstract string Kind { get; }

    /// <summary>A number that names this object in the trace: VM number, vCPU id, device number.</summary>
    public abstract int Id { get; }

    /// <summary>
    /// Runs one ioctl. <paramref name="call"/> carries the command, the by-value argument, the
    /// struct bytes the ioctl's size/direction bits describe, and the way back into the caller's
    /// memory and fd table (copy_from_user, copy_to_user, fget).
    /// </summary>
    public abstract IoctlResult Ioctl(IoctlCall call);

    /// <summary>
    /// A file descriptor the front end hands to the VMM for this object, when it has one of its
    /// own (a vCPU's memfd holding struct kvm_run, so mmap(vcpu_fd) is native). Null: the front
    /// end makes a placeholder fd.
    /// </summary>
    public virtual int? BackingFd => null;

    /// <summary>For the trace after KVM_RUN: the head of struct kvm_run (exit_reason and the exit union).</summary>
    public virtual byte[]? TraceRunState() => null;

    /// <summary>Another thread asked this object's running ioctl (KVM_RUN) to stop: a signal arrived.</summary>
    public virtual void Kick() { }

    /// <summary>The last fd referring to this object was closed (or its process died).</summary>
    public virtual void Release() { }
}

/// <summary>
/// The caller's side of an ioctl: what the kernel reaches with copy_from_user/copy_to_user and
/// fget. The preload shim implements it with round trips to the VMM; tests implement it in memory.
/// </summary>
public interface IUserAccess
{
    /// <summary>Reads VMM memory at <paramref name="address"/>. Returns 0 or -EFAULT.</summary>
    int CopyFromUser(ulong address, Span<byte> destination);

    /// <summary>Writes VMM memory at <paramref name="address"/>. Returns 0 or -EFAULT.</summary>
    int CopyToUser(ulong address, ReadOnlySpan<byte> source);

    /// <summary>
    /// Takes a duplicate of the VMM's file descriptor <paramref name="vmmFd"/> (an eventfd for
    /// irqfd/ioeventfd) into the daemon. Returns the daemon-side fd, or -EBADF. The caller owns
    /// and closes the returned fd.
    /// </summary>
    int GetFile(int vmmFd);

    /// <summary>
    /// Makes the VMM's memory [address, address+size) shared with the daemon (the shim moves it
    /// into a memfd in place) and returns a daemon-side mapping of it. Returns 0 or -errno
    /// (-EFAULT when the range is not mapped in the VMM).
    /// </summary>
    int ShareMemory(ulong address, ulong size, out SharedMemory? memory);
}

/// <summary>Guest RAM shared between the VMM and the daemon: a memfd and the daemon's mapping of it.</summary>
public sealed class SharedMemory : IDisposable
{
    public SharedMemory(int fd, nint hostPointer, ulong size, Action<SharedMemory>? onDispose = null)
    {
        Fd = fd; HostPointer = hostPointer; Size = size; _onDispose = onDispose;
    }

    /// <summary>The daemon's fd for the memfd (for FUSE views and diagnostics), or -1.</summary>
    public int Fd { get; }

    /// <summary>Where the daemon sees the first byte.</summary>
    public nint HostPointer { get; }

    public ulong Size { get; }

    private Action<SharedMemory>? _onDispose;

    public void Dispose()
    {
        Interlocked.Exchange(ref _onDispose, null)?.Invoke(this);
    }
}

/// <summary>One ioctl as it arrives at a <see cref="KvmObject"/>.</summary>
public sealed class IoctlCall
{
    public IoctlCall(uint command, ulong argument, byte[] data, IUserAccess user)
    {
        Command = command; Argument = argument; Data = data; User = user;
    }

    /// <summary>The full ioctl number (_IOC(dir, 0xAE, nr, size)).</summary>
    public uint Command { get; }

    /// <summary>
    /// The raw third argument: a value for _IO ioctls (KVM_CREATE_VCPU's id), the caller's
    /// struct address for the others (useful only to name it in errors).
    /// </summary>
    public ulong Argument { get; }

    /// <summary>
    /// The _IOC_SIZE bytes of the ioctl's struct: read from the caller for _IOW and _IOWR;
    /// the handler fills it for _IOR and _IOWR and the front end copies it back on success.
    /// Empty for _IO.
    /// </summary>
    public byte[] Data { get; }

    public IUserAccess User { get; }
}

/// <summary>The result of an ioctl.</summary>
public readonly record struct IoctlResult(long Value, KvmObject? NewObject = null, int NewFdOffset = -1)
{
    /// <summary>Success with a return value (usually 0).</summary>
    public static IoctlResult Ok(long value = 0) => new(value);

    /// <summary>Failure: the ioctl returns -1 with errno = <paramref name="errno"/>.</summary>
    public static IoctlResult Error(int errno) => new(-errno);

    /// <summary>
    /// The ioctl created an object the caller gets a new fd for: as the return value
    /// (KVM_CREATE_VM, KVM_CREATE_VCPU) when <paramref name="fdOffsetInData"/> is -1, or written
    /// as an int at that offset of the returned struct (KVM_CREATE_DEVICE's fd field).
    /// </summary>
    public static IoctlResult NewFd(KvmObject obj, int fdOffsetInData = -1) => new(0, obj, fdOffsetInData);

    public bool IsError => Value < 0;
}
