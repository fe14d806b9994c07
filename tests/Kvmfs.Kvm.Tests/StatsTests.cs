using Kvmfs.Kvm.OneReg;
using System.Runtime.InteropServices;
using System.Text;
using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

/// <summary>KVM_GET_STATS_FD: the binary stats file as api.rst describes it, read through the fd the VMM gets.</summary>
public partial class StatsTests
{
    [LibraryImport("libc", SetLastError = true)] private static unsafe partial nint pread(int fd, byte* buf, nuint count, long offset);
    [LibraryImport("libc", SetLastError = true)] private static unsafe partial nint write(int fd, byte* buf, nuint count);
    [LibraryImport("libc", SetLastError = true)] private static partial int fcntl(int fd, int cmd);

    private readonly FakeUser _u = new();

    private static unsafe byte[] ReadAll(int fd, int offset, int count)
    {
        var b = new byte[count];
        fixed (byte* p = b)
        {
            nint n = pread(fd, p, (nuint)count, offset);
            Assert.True(n >= 0, $"pread errno {Marshal.GetLastPInvokeError()}");
            return b[..(int)n];
        }
    }

    private static int StatsFd(KvmFile obj, FakeUser u, out StatsFile file)
    {
        var r = Call(obj, u, KVM_GET_STATS_FD).Result;
        Assert.False(r.IsError, $"KVM_GET_STATS_FD = {r.Value}");
        file = Assert.IsType<StatsFile>(r.NewObject);
        return Assert.NotNull(file.BackingFd);
    }

    private static (KvmStatsHeader Header, string Id, List<(KvmStatsDesc Desc, string Name)> Descs) Parse(int fd)
    {
        var head = ReadAll(fd, 0, 24);
        var h = MemoryMarshal.Read<KvmStatsHeader>(head);
        var id = Encoding.ASCII.GetString(ReadAll(fd, (int)h.id_offset, (int)h.name_size)).TrimEnd('\0');
        int descSize = 16 + (int)h.name_size;
        var block = ReadAll(fd, (int)h.desc_offset, descSize * (int)h.num_desc);
        var list = new List<(KvmStatsDesc, string)>();
        for (int i = 0; i < h.num_desc; i++)
        {
            var d = MemoryMarshal.Read<KvmStatsDesc>(block.AsSpan(i * descSize));
            var name = Encoding.ASCII.GetString(block, i * descSize + 16, (int)h.name_size).TrimEnd('\0');
            list.Add((d, name));
        }
        return (h, id, list);
    }

    [Fact]
    public void Capability_IsOne()
    {
        var vm = NewVm(_u);
        Assert.Equal(1, Io(vm, _u, KVM_CHECK_EXTENSION, KvmCaps.KVM_CAP_BINARY_STATS_FD));
    }

    [Fact]
    public void VmStats_HeaderIdAndDescriptorsAsLinux61()
    {
        var vm = NewVm(_u);
        int fd = StatsFd(vm, _u, out var file);
        var (h, id, descs) = Parse(fd);
        Assert.Equal(0u, h.flags);
        Assert.Equal(48u, h.name_size);
        Assert.Equal(24u, h.id_offset);
        Assert.Equal(24u + 48, h.desc_offset);
        Assert.Equal(h.desc_offset + 2 * 64u, h.data_offset);
        Assert.Equal($"kvm-{Environment.ProcessId}", id);
        Assert.Equal(["remote_tlb_flush", "remote_tlb_flush_requests"], descs.Select(d => d.Name));
        Assert.Equal([0u, 8u], descs.Select(d => d.Desc.offset));
        Assert.All(descs, d => Assert.Equal(KvmStats.KVM_STATS_TYPE_CUMULATIVE | KvmStats.KVM_STATS_UNIT_NONE, d.Desc.flags));
        // The data block ends the file: two zero counters, then end of file.
        Assert.Equal(new byte[16], ReadAll(fd, (int)h.data_offset, 100));
        file.Release();
    }

    [Fact]
    public void VcpuStats_NamesSizesAndOffsets()
    {
        var vm = NewVm(_u);
        var v = NewVcpu(vm, _u, 3);
        int fd = StatsFd(v, _u, out var file);
        var (h, id, descs) = Parse(fd);
        Assert.Equal($"kvm-{Environment.ProcessId}/vcpu-3", id);
        Assert.Equal(18u, h.num_desc);
        string[] names = ["halt_successful_poll", "halt_attempted_poll", "halt_poll_invalid", "halt_wakeup", "halt_poll_success_ns",
            "halt_poll_fail_ns", "halt_wait_ns", "halt_poll_success_hist", "halt_poll_fail_hist", "halt_wait_hist", "blocking",
            "hvc_exit_stat", "wfe_exit_stat", "wfi_exit_stat", "mmio_exit_user", "mmio_exit_kernel", "signal_exits", "exits"];
        Assert.Equal(names, descs.Select(d => d.Name));
        // struct kvm_vcpu_stat: 7 u64, three [32] histograms, blocking, then the arm64 counters.
        var hist = descs.Single(d => d.Name == "halt_wait_hist").Desc;
        Assert.Equal((ushort)32, hist.size);
        Assert.Equal(KvmStats.KVM_STATS_TYPE_LOG_HIST | KvmStats.KVM_STATS_UNIT_SECONDS, hist.flags);
        Assert.Equal((short)-9, hist.exponent);
        Assert.Equal(0u, hist.bucket_size);
        Assert.Equal(7u * 8 + 64 * 8, hist.offset);
        Assert.Equal(7u * 8 + 96 * 8, descs.Single(d => d.Name == "blocking").Desc.offset);
        Assert.Equal(KvmStats.KVM_STATS_TYPE_INSTANT | KvmStats.KVM_STATS_UNIT_BOOLEAN, descs.Single(d => d.Name == "blocking").Desc.flags);
        Assert.Equal(7u * 8 + 97 * 8 + 6 * 8, descs.Single(d => d.Name == "exits").Desc.offset);
        Assert.Equal(888, ReadAll(fd, (int)h.data_offset, 4096).Length);
        file.Release();
    }

    [Fact]
    public void Counters_AreLiveThroughTheFd()
    {
        var vm = NewVm(_u);
        var v = InitVcpu(vm, _u, 0);
        // Counted before the first KVM_GET_STATS_FD, then more after: both show in pread.
        v.Stats.Add(VcpuStat.Exits, 5);
        int fd = StatsFd(v, _u, out var file);
        var (h, _, descs) = Parse(fd);
        uint exitsAt = h.data_offset + descs.Single(d => d.Name == "exits").Desc.offset;
        uint signalAt = h.data_offset + descs.Single(d => d.Name == "signal_exits").Desc.offset;
        Assert.Equal(5ul, BitConverter.ToUInt64(ReadAll(fd, (int)exitsAt, 8)));
        v.Kick();
        Assert.Equal(-EINTR, Io(v, _u, KVM_RUN));
        Assert.Equal(1ul, BitConverter.ToUInt64(ReadAll(fd, (int)signalAt, 8)));
        v.Stats.Add(VcpuStat.Exits);
        Assert.Equal(6ul, BitConverter.ToUInt64(ReadAll(fd, (int)exitsAt, 8)));
        file.Release();
    }

    [Fact]
    public void SignalExit_IsCounted_AndPmuRegistersAreVisibleOnlyWithThePmuFeature()
    {
        var vm = NewVm(_u);
        var v = InitVcpu(vm, _u, 0);
        var p = InitVcpu(vm, _u, 1, KvmArm.KVM_ARM_VCPU_PMU_V3);
        v.Kick();
        Assert.Equal(-EINTR, Io(v, _u, KVM_RUN));
        Assert.Equal(1ul, v.Stats.Get(VcpuStat.SignalExits));
        var pmcr = Array.Find(SystemRegisterTable.Table, r => r.Name == "PMCR_EL0")!;
        Assert.False(v.Visible(pmcr));
        Assert.True(p.Visible(pmcr));
    }

    [Fact]
    public unsafe void EachFd_IsReadOnly_WithItsOwnOffset()
    {
        var vm = NewVm(_u);
        int a = StatsFd(vm, _u, out var fa);
        int b = StatsFd(vm, _u, out var fb);
        Assert.NotEqual(a, b);
        byte x = 1;
        Assert.Equal(-1, (long)write(a, &x, 1));
        Assert.Equal(9, Marshal.GetLastPInvokeError()); // EBADF: opened read-only
        fa.Release();
        Assert.Equal(-1, fcntl(a, 1));
        Assert.Equal(24, ReadAll(b, 0, 24).Length);
        fb.Release();
    }

    [Fact]
    public void StatsFd_KeepsTheVmAlive_AndHasNoIoctls()
    {
        var vm = NewVm(_u);
        StatsFd(vm, _u, out var file);
        vm.Release();
        Assert.False(vm.Destroyed);
        Assert.Equal(-ENOTTY, Io(file, _u, KVM_CHECK_EXTENSION));
        file.Release();
        Assert.True(vm.Destroyed);
    }
}
