using System.Runtime.InteropServices;
using System.Text;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmStats;
using static Kvmfs.Kvm.Core.HostLibc;

namespace Kvmfs.Kvm;

/// <summary>One statistic of a binary stats file: its descriptor without the data offset.</summary>
public readonly record struct StatDesc(string Name, uint Flags, short Exponent = 0, ushort Size = 1, uint BucketSize = 0)
{
    /// <summary>STATS_DESC_COUNTER: cumulative, no unit, power of 10, exponent 0.</summary>
    public static StatDesc Counter(string name) => new(name, KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_NONE | KVM_STATS_BASE_POW10);
    /// <summary>STATS_DESC_TIME_NSEC: cumulative seconds, exponent -9.</summary>
    public static StatDesc TimeNs(string name) => new(name, KVM_STATS_TYPE_CUMULATIVE | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10, -9);
    /// <summary>STATS_DESC_LOGHIST_TIME_NSEC: a logarithmic histogram of nanoseconds.</summary>
    public static StatDesc LogHistNs(string name, ushort buckets) => new(name, KVM_STATS_TYPE_LOG_HIST | KVM_STATS_UNIT_SECONDS | KVM_STATS_BASE_POW10, -9, buckets);
    /// <summary>STATS_DESC_IBOOLEAN: an instantaneous boolean.</summary>
    public static StatDesc InstantBool(string name) => new(name, KVM_STATS_TYPE_INSTANT | KVM_STATS_UNIT_BOOLEAN | KVM_STATS_BASE_POW10);
}

/// <summary>
/// The statistics Linux 6.1 arm64 exposes, in its order (kvm_vm_stats_desc, kvm_vcpu_stats_desc
/// of arch/arm64/kvm/guest.c). Each statistic's data sits right after the previous one's, so the
/// word index of a counter is fixed: the constants below name them.
/// </summary>
public static class StatsSchema
{
    /// <summary>HALT_POLL_HIST_COUNT.</summary>
    public const ushort HaltPollHistCount = 32;

    public static readonly StatDesc[] Vm =
    [
        StatDesc.Counter("remote_tlb_flush"),
        StatDesc.Counter("remote_tlb_flush_requests"),
    ];

    public static readonly StatDesc[] Vcpu =
    [
        StatDesc.Counter("halt_successful_poll"),
        StatDesc.Counter("halt_attempted_poll"),
        StatDesc.Counter("halt_poll_invalid"),
        StatDesc.Counter("halt_wakeup"),
        StatDesc.TimeNs("halt_poll_success_ns"),
        StatDesc.TimeNs("halt_poll_fail_ns"),
        StatDesc.TimeNs("halt_wait_ns"),
        StatDesc.LogHistNs("halt_poll_success_hist", HaltPollHistCount),
        StatDesc.LogHistNs("halt_poll_fail_hist", HaltPollHistCount),
        StatDesc.LogHistNs("halt_wait_hist", HaltPollHistCount),
        StatDesc.InstantBool("blocking"),
        StatDesc.Counter("hvc_exit_stat"),
        StatDesc.Counter("wfe_exit_stat"),
        StatDesc.Counter("wfi_exit_stat"),
        StatDesc.Counter("mmio_exit_user"),
        StatDesc.Counter("mmio_exit_kernel"),
        StatDesc.Counter("signal_exits"),
        StatDesc.Counter("exits"),
    ];

    /// <summary>Word index of a statistic's first value in the data block.</summary>
    public static int WordOf(StatDesc[] schema, string name)
    {
        int word = 0;
        foreach (var d in schema)
        {
            if (d.Name == name) return word;
            word += d.Size;
        }
        throw new ArgumentException($"no statistic {name}");
    }

    public static int DataWords(StatDesc[] schema)
    {
        int n = 0;
        foreach (var d in schema) n += d.Size;
        return n;
    }
}

/// <summary>Word indexes of the vCPU counters kvmfs updates (the others stay 0: nothing here does that work).</summary>
public static class VcpuStat
{
    public static readonly int Blocking = StatsSchema.WordOf(StatsSchema.Vcpu, "blocking");
    public static readonly int HvcExits = StatsSchema.WordOf(StatsSchema.Vcpu, "hvc_exit_stat");
    public static readonly int WfeExits = StatsSchema.WordOf(StatsSchema.Vcpu, "wfe_exit_stat");
    public static readonly int WfiExits = StatsSchema.WordOf(StatsSchema.Vcpu, "wfi_exit_stat");
    public static readonly int MmioExitUser = StatsSchema.WordOf(StatsSchema.Vcpu, "mmio_exit_user");
    public static readonly int MmioExitKernel = StatsSchema.WordOf(StatsSchema.Vcpu, "mmio_exit_kernel");
    public static readonly int SignalExits = StatsSchema.WordOf(StatsSchema.Vcpu, "signal_exits");
    public static readonly int Exits = StatsSchema.WordOf(StatsSchema.Vcpu, "exits");
}

/// <summary>
/// The statistics of one VM or vCPU and the binary stats file KVM_GET_STATS_FD hands out.
///
/// Design: the file IS the counters. On the first KVM_GET_STATS_FD the daemon builds the whole
/// file (header, id string, descriptors, data block) in a memfd it maps, and from then on every
/// counter is incremented in place in that mapping. Each KVM_GET_STATS_FD then opens the memfd
/// again read-only through /proc/self/fd (a new open file description: its own file offset, as
/// each real stats fd has, and no write access), and the front end passes that fd to the VMM.
/// The VMM's read()/pread() are native and always see the live values at the offsets the header
/// announces; no refresh step and no round trip exist to get wrong. Before the first request the
/// counters live in a small native block, so VMs that never ask cost no fd.
/// Counters change only under the owner's lock (the vCPU mutex; VM counters are not counted),
/// the same lock <see cref="OpenFile"/> and <see cref="Dispose"/> run under, so moving the block
/// never loses an increment.
/// </summary>
public sealed unsafe partial class BinaryStats : IDisposable
{

    private const uint MfdCloexec = 1;
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1, ORdonly = 0, OCloexec = 0x80000;
    /// <summary>KVM_STATS_NAME_SIZE: the id string and every name take this many bytes.</summary>
    public const int NameSize = 48;
    private static readonly int HeaderSize = Marshal.SizeOf<KvmStatsHeader>();
    private static readonly int DescSize = Marshal.SizeOf<KvmStatsDesc>() + NameSize;

    private readonly StatDesc[] _schema;
    private readonly string _id;
    private readonly int _words;
    private ulong* _data;
    private bool _inFile;
    private int _fd = -1;
    private nint _mapping;
    private nuint _mappingSize;

    public BinaryStats(StatDesc[] schema, string id)
    {
        _schema = schema;
        _id = id;
        _words = StatsSchema.DataWords(schema);
        _data = (ulong*)NativeMemory.AllocZeroed((nuint)_words * 8);
    }

    /// <summary>The id string: "kvm-PID" for a VM, "kvm-PID/vcpu-ID" for a vCPU.</summary>
    public string IdString => _id;
    public StatDesc[] Schema => _schema;
    public int DescOffset => HeaderSize + NameSize;
    public int DataOffset => DescOffset + _schema.Length * DescSize;
    public int FileSize => DataOffset + _words * 8;

    /// <summary>Adds to a counter (its word index). Call with the owner's lock held.</summary>
    public void Add(int word, ulong n = 1)
    {
        var d = _data;
        if (d != null) Interlocked.Add(ref *(long*)(d + word), (long)n);
    }

    /// <summary>Sets an instantaneous value (e.g. blocking). Call with the owner's lock held.</summary>
    public void Set(int word, ulong value)
    {
        var d = _data;
        if (d != null) Volatile.Write(ref d[word], value);
    }

    public ulong Get(int word)
    {
        var d = _data;
        return d == null ? 0 : Volatile.Read(ref d[word]);
    }

    /// <summary>
    /// A new read-only fd onto the stats file (KVM_GET_STATS_FD). Returns the fd or -errno.
    /// Call with the owner's lock held.
    /// </summary>
    public int OpenFile()
    {
        if (_data == null) return -Errno.EIO;
        if (_fd < 0)
        {
            int r = CreateFile();
            if (r < 0) return r;
        }
        int fd = open($"/proc/self/fd/{_fd}", ORdonly | OCloexec);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    private int CreateFile()
    {
        int fd = memfd_create("kvm-stats", MfdCloexec);
        if (fd < 0) return -Marshal.GetLastPInvokeError();
        nuint size = (nuint)FileSize;
        nint map;
        if (ftruncate(fd, FileSize) != 0 || (map = mmap(0, size, ProtRead | ProtWrite, MapShared, fd, 0)) == -1)
        {
            int e = Marshal.GetLastPInvokeError();
            close(fd);
            return -e;
        }
        var file = new Span<byte>((void*)map, FileSize);
        Write(file);
        ulong* old = _data;
        new ReadOnlySpan<ulong>(old, _words).CopyTo(new Span<ulong>((byte*)map + DataOffset, _words));
        _data = (ulong*)((byte*)map + DataOffset);
        NativeMemory.Free(old);
        _fd = fd;
        _mapping = map;
        _mappingSize = size;
        _inFile = true;
        return 0;
    }

    /// <summary>Lays out header, id, descriptors and the current data, as kvm_stats_read returns them.</summary>
    public void Write(Span<byte> file)
    {
        file.Clear();
        var header = new KvmStatsHeader
        {
            flags = 0,
            name_size = NameSize,
            num_desc = (uint)_schema.Length,
            id_offset = (uint)HeaderSize,
            desc_offset = (uint)DescOffset,
            data_offset = (uint)DataOffset,
        };
        MemoryMarshal.Write(file, in header);
        Encoding.ASCII.GetBytes(_id.AsSpan(0, Math.Min(_id.Length, NameSize - 1)), file[HeaderSize..]);
        uint offset = 0;
        for (int i = 0; i < _schema.Length; i++)
        {
            var s = _schema[i];
            var desc = new KvmStatsDesc { flags = s.Flags, exponent = s.Exponent, size = s.Size, offset = offset, bucket_size = s.BucketSize };
            var at = file.Slice(DescOffset + i * DescSize, DescSize);
            MemoryMarshal.Write(at, in desc);
            Encoding.ASCII.GetBytes(s.Name, at[Marshal.SizeOf<KvmStatsDesc>()..]);
            offset += (uint)s.Size * 8;
        }
        if (file.Length >= FileSize && _data != null)
            new ReadOnlySpan<ulong>(_data, _words).CopyTo(MemoryMarshal.Cast<byte, ulong>(file.Slice(DataOffset, _words * 8)));
    }

    /// <summary>Unmaps the file (VM or vCPU teardown); fds the VMM still holds keep reading the last values.</summary>
    public void Dispose()
    {
        ulong* d = _data;
        _data = null;
        if (d == null) return;
        if (_inFile)
        {
            munmap(_mapping, _mappingSize);
            close(_fd);
            _fd = -1;
        }
        else NativeMemory.Free(d);
    }
}

/// <summary>
/// An fd from KVM_GET_STATS_FD: a read-only memfd of the stats file (see <see cref="BinaryStats"/>).
/// It has no ioctls. Like the kernel's stats file it holds a reference on the VM.
/// </summary>
public sealed class StatsFile : KvmObject
{
    private readonly Vm _vm;
    private int _fd;

    internal StatsFile(Vm vm, string owner, int fd)
    {
        _vm = vm;
        _fd = fd;
        Owner = owner;
        vm.Get();
    }

    public override string Kind => "stats";
    public override int Id => _vm.Id;
    /// <summary>"vm" or "vcpu N": whose statistics these are.</summary>
    public string Owner { get; }
    public override int? BackingFd => _fd >= 0 ? _fd : null;

    /// <summary>The kernel's stats file_operations have no ioctl: ENOTTY.</summary>
    public override IoctlResult Ioctl(IoctlCall call) => IoctlResult.Error(Errno.ENOTTY);

    public override void Release()
    {
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd < 0) return;
        close(fd);
        _vm.Put();
    }
}
