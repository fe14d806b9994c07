using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using Kvmfs.Kvm;
using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse.Tests;

/// <summary>kvmfs mounted for real (as root): the tree, the kvm node's ioctls, the trace stream,
/// interrupts, unmounting and stale mounts.</summary>
public sealed unsafe class FileSystemTests
{
    private const uint KVM_GET_API_VERSION = 0xAE00;
    private const uint KVM_CREATE_VM = 0xAE01;
    private const uint KVM_CHECK_EXTENSION = 0xAE03;
    private const uint KVM_GET_VCPU_MMAP_SIZE = 0xAE04;
    private const uint KVM_CREATE_VCPU = 0xAE41;
    private const uint KVM_RUN = 0xAE80;

    [FuseFact]
    public void Root_lists_kvm_trace_and_vms_and_is_mounted_as_fuse_kvmfs()
    {
        using var m = new MountedKvmfs();
        var names = Directory.EnumerateFileSystemEntries(m.Dir).Select(Path.GetFileName).Order().ToArray();
        Assert.Equal(["kvm", "trace", "vms"], names);
        Assert.Empty(Directory.EnumerateFileSystemEntries(m["vms"]));
        var mountLine = File.ReadAllLines("/proc/self/mounts").Single(l => l.Split(' ')[1] == m.Dir);
        Assert.Equal("fuse.kvmfs", mountLine.Split(' ')[2]);
        Assert.InRange(m.Fs.ProtocolMinor, 23u, 38u);
        Assert.True(File.GetAttributes(m["vms"]).HasFlag(FileAttributes.Directory));
    }

    [FuseFact]
    public void Kvm_node_answers_system_ioctls_exactly_as_the_system_object_does()
    {
        using var m = new MountedKvmfs(); // the default view: a real KvmSystem per open
        int fd = Native.Open(m["kvm"], Native.O_RDWR | Native.O_CLOEXEC);
        Assert.True(fd >= 0, $"open kvm: errno {Native.Errno}");
        try
        {
            Assert.Equal(12, Native.Ioctl(fd, KVM_GET_API_VERSION, 0));

            var direct = new KvmSystem(new VmOwner(Environment.ProcessId, "test"));
            var none = new NoUserMemory();
            foreach (uint cmd in new[] { KVM_GET_VCPU_MMAP_SIZE, KVM_GET_API_VERSION })
                Assert.Equal(Expected(direct.Ioctl(new IoctlCall(cmd, 0, [], none))), Actual(Native.Ioctl(fd, cmd, 0)));
            for (uint cap = 0; cap < 240; cap++)
            {
                var want = Expected(direct.Ioctl(new IoctlCall(KVM_CHECK_EXTENSION, cap, [], none)));
                Assert.Equal((cap, want), (cap, Actual(Native.Ioctl(fd, KVM_CHECK_EXTENSION, cap))));
            }
            // An ioctl KVM does not know (the usual TCGETS tty probe) gets the system object's answer:
            // EINVAL on arm64 /dev/kvm (kvm_arch_dev_ioctl's default), not a crash.
            Assert.Equal(Expected(direct.Ioctl(new IoctlCall(0x5401, 0, [], none))), Actual(Native.Ioctl(fd, 0x5401 /* TCGETS */, 0)));
            Assert.Equal((-1, Native.EINVAL), Actual(Native.Ioctl(fd, 0x5401, 0)));
            // read(2) of the KVM device is EINVAL, as on /dev/kvm.
            Assert.Equal(-Native.EINVAL, Native.ReadSome(fd, 64).Result);
        }
        finally { Native.Close(fd); }
    }

    private static (long, int) Expected(IoctlResult r) => r.IsError ? (-1, (int)-r.Value) : (r.Value, 0);
    private static (long, int) Actual(int rc) => rc < 0 ? (-1, Native.Errno) : (rc, 0);

    [FuseFact]
    public void Ioctl_structs_travel_in_and_out_as_the_size_and_direction_bits_say()
    {
        using var m = new MountedKvmfs(MountedKvmfs.ProbeView());
        int fd = Native.Open(m["kvm"], Native.O_RDWR);
        Assert.True(fd >= 0);
        try
        {
            // _IO: the argument arrives by value.
            Assert.Equal(42, Native.Ioctl(fd, ProbeSystem.EchoValue, 41));

            // _IOWR: in and back out.
            ulong* swap = stackalloc ulong[2] { 0x1111, 0x2222 };
            Assert.Equal(7, Native.Ioctl(fd, ProbeSystem.Swap, swap));
            Assert.Equal((0x2222ul, 0x1111ul), (swap[0], swap[1]));

            // _IOR: only out, exactly the size bits' 24 bytes (the byte after stays untouched).
            byte* fill = stackalloc byte[25];
            new Span<byte>(fill, 25).Fill(0xEE);
            Assert.Equal(0, Native.Ioctl(fd, ProbeSystem.Fill, fill));
            for (int i = 0; i < 24; i++) Assert.Equal((byte)(0x10 + i), fill[i]);
            Assert.Equal(0xEE, fill[24]);

            // _IOW: only in.
            byte* sum = stackalloc byte[32];
            for (int i = 0; i < 32; i++) sum[i] = (byte)i;
            Assert.Equal(Enumerable.Range(0, 32).Sum(), Native.Ioctl(fd, ProbeSystem.Sum, sum));

            // A pointer inside the struct cannot be followed through FUSE: EFAULT.
            ulong* ptr = stackalloc ulong[2];
            ptr[0] = (ulong)(ptr + 1);
            Assert.Equal(-1, Native.Ioctl(fd, ProbeSystem.FollowPointer, ptr));
            Assert.Equal(Native.EFAULT, Native.Errno);

            // copy_to_user into the ioctl's own struct reaches the caller.
            ulong* self = stackalloc ulong[1];
            Assert.Equal(0, Native.Ioctl(fd, ProbeSystem.SelfCopy, self));
            Assert.Equal(0x1122334455667788UL, self[0]);
        }
        finally { Native.Close(fd); }
    }

    [FuseFact]
    public void A_vm_created_on_the_kvm_node_appears_under_vms_with_every_file_readable()
    {
        var vm = new ProbeVm(5);
        using var m = new MountedKvmfs(MountedKvmfs.ProbeView(() => vm));
        int kvm = Native.Open(m["kvm"], Native.O_RDWR);
        Assert.Equal(5, Native.Ioctl(kvm, KVM_CREATE_VM, 0)); // the VM id stands in for the fd FUSE cannot return
        Assert.Equal(["5"], Directory.EnumerateDirectories(m["vms"]).Select(Path.GetFileName));

        int vmFd = Native.Open(m["vms/5/vm"], Native.O_RDWR);
        Assert.True(vmFd >= 0);
        Assert.Equal(0, Native.Ioctl(vmFd, KVM_CREATE_VCPU, 0));
        Assert.Equal(["devices", "info", "memslots", "stage2", "vcpus", "vgic", "vm"],
            Directory.EnumerateFileSystemEntries(m["vms/5"]).Select(Path.GetFileName).Order());
        Assert.Equal(["regs", "stats", "sysregs", "vcpu"],
            Directory.EnumerateFileSystemEntries(m["vms/5/vcpus/0"]).Select(Path.GetFileName).Order());

        var texts = Directory.EnumerateFiles(m.Dir, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) is not ("kvm" or "vm" or "vcpu" or "trace")).ToList();
        Assert.Equal(7, texts.Count);
        foreach (var file in texts)
        {
            string text = File.ReadAllText(file);
            string headline = text.Split('\n')[0];
            Assert.True(headline.Length > 20 && text.Length > headline.Length + 1, $"{file}: {text}");
            Assert.Equal(new FileInfo(file).Length, Encoding.UTF8.GetByteCount(text)); // stat size = contents
        }
        Assert.StartsWith("stage-2 translation: guest physical -> host memory", File.ReadAllText(m["vms/5/stage2"]));
        string info = File.ReadAllText(m["vms/5/info"]);
        Assert.Contains($"owner pid     {Environment.ProcessId}", info);
        Assert.Contains("vcpus         1 0", info);

        // The VM lives while a kvmfs fd refers to it: the creating kvm fd, or its vm node.
        Native.Close(kvm);
        Assert.False(vm.Released);
        Native.Close(vmFd);
        Assert.True(SpinWait.SpinUntil(() => vm.Released, 2000));
        Assert.Empty(Directory.EnumerateFileSystemEntries(m["vms"]));
    }

    [FuseFact]
    public void Trace_read_waits_for_the_next_ioctl_and_shows_it()
    {
        using var m = new MountedKvmfs(MountedKvmfs.ProbeView());
        int trace = Native.Open(m["trace"], Native.O_RDONLY);
        var header = Native.ReadSome(trace, 65536);
        Assert.StartsWith("ioctl and exit trace:", Encoding.UTF8.GetString(header.Data));

        var reader = Task.Run(() => Native.ReadSome(trace, 65536));
        Thread.Sleep(200);
        Assert.False(reader.IsCompleted, "a trace read with no events must wait");

        // While that reader waits, the file system keeps answering.
        Assert.Equal(3, Directory.EnumerateFileSystemEntries(m.Dir).Count());
        int kvm = Native.Open(m["kvm"], Native.O_RDWR);
        Assert.Equal(1235, Native.Ioctl(kvm, ProbeSystem.EchoValue, 1234));
        Assert.True(reader.Wait(5000), "the waiting read must return once an event arrives");
        string line = Encoding.UTF8.GetString(reader.Result.Data);
        Assert.Contains($"[{Environment.ProcessId}] _IO(0x99, 0x01)(kvm, 1234) = 1235\n", line);
        Native.Close(kvm);
        Native.Close(trace);
    }

    [FuseFact]
    public void Trace_poll_and_nonblocking_read_follow_the_data()
    {
        using var m = new MountedKvmfs(MountedKvmfs.ProbeView());
        int trace = Native.Open(m["trace"], Native.O_RDONLY | Native.O_NONBLOCK);
        Assert.True(Native.ReadSome(trace, 65536).Result > 0); // the headline
        Assert.Equal(-Native.EAGAIN, Native.ReadSome(trace, 65536).Result);

        var pfd = new Native.PollFd { Fd = trace, Events = Native.POLLIN };
        Assert.Equal(0, Native.Poll(&pfd, 1, 100));

        var poller = Task.Run(() =>
        {
            var p = new Native.PollFd { Fd = trace, Events = Native.POLLIN };
            int rc = Native.Poll(&p, 1, 5000);
            return (rc, p.Revents);
        });
        Thread.Sleep(100);
        int kvm = Native.Open(m["kvm"], Native.O_RDWR);
        Native.Ioctl(kvm, ProbeSystem.EchoValue, 1);
        Assert.True(poller.Wait(5000));
        Assert.Equal((1, Native.POLLIN), (poller.Result.rc, (short)(poller.Result.Revents & Native.POLLIN)));
        Assert.True(Native.ReadSome(trace, 65536).Result > 0);
        Native.Close(kvm);
        Native.Close(trace);
    }

    [FuseFact]
    public void A_blocked_trace_read_ends_with_EINTR_when_the_reader_gets_a_signal()
    {
        using var handler = PosixSignalRegistration.Create((PosixSignal)Native.SIGUSR1, c => c.Cancel = true);
        using var m = new MountedKvmfs(MountedKvmfs.ProbeView());
        int trace = Native.Open(m["trace"], Native.O_RDONLY);
        Native.ReadSome(trace, 65536); // the headline

        int tid = 0;
        int result = 1;
        var reader = new Thread(() => { Volatile.Write(ref tid, Native.GetTid()); result = Native.ReadSome(trace, 4096).Result; });
        reader.Start();
        SpinWait.SpinUntil(() => Volatile.Read(ref tid) != 0);
        var watch = Stopwatch.StartNew();
        // Signal until it lands inside the read (one sent before the read began would be lost).
        while (reader.IsAlive && watch.ElapsedMilliseconds < 5000)
        {
            Thread.Sleep(100);
            Native.Tgkill(Native.GetPid(), tid, Native.SIGUSR1);
        }
        Assert.True(reader.Join(1000), "the signal must end the blocked read");
        Assert.Equal(-Native.EINTR, result);
        Native.Close(trace);
    }

    [FuseFact]
    public void KVM_RUN_through_a_vcpu_node_is_kicked_out_by_a_signal_with_EINTR()
    {
        using var handler = PosixSignalRegistration.Create((PosixSignal)Native.SIGUSR1, c => c.Cancel = true);
        using var m = new MountedKvmfs(MountedKvmfs.ProbeView(() => new ProbeVm(1)));
        int kvm = Native.Open(m["kvm"], Native.O_RDWR);
        Assert.Equal(1, Native.Ioctl(kvm, KVM_CREATE_VM, 0));
        int vm = Native.Open(m["vms/1/vm"], Native.O_RDWR);
        Assert.Equal(3, Native.Ioctl(vm, KVM_CREATE_VCPU, 3));
        int vcpu = Native.Open(m["vms/1/vcpus/3/vcpu"], Native.O_RDWR);

        int tid = 0;
        (long, int) result = (0, 0);
        var runner = new Thread(() => { Volatile.Write(ref tid, Native.GetTid()); result = Actual(Native.Ioctl(vcpu, KVM_RUN, 0)); });
        runner.Start();
        SpinWait.SpinUntil(() => Volatile.Read(ref tid) != 0);
        Thread.Sleep(200);
        Assert.True(runner.IsAlive, "KVM_RUN blocks while the vCPU runs");
        // Other nodes keep working while a vCPU runs.
        Assert.Contains("vcpus", Directory.EnumerateFileSystemEntries(m["vms/1"]).Select(Path.GetFileName));
        var watch = Stopwatch.StartNew();
        while (runner.IsAlive && watch.ElapsedMilliseconds < 5000)
        {
            Native.Tgkill(Native.GetPid(), tid, Native.SIGUSR1);
            Thread.Sleep(100);
        }
        Assert.False(runner.IsAlive);
        Assert.Equal((-1L, Native.EINTR), result);
        Native.Close(vcpu); Native.Close(vm); Native.Close(kvm);
    }

    [FuseFact]
    public void Tail_f_follows_the_trace()
    {
        using var m = new MountedKvmfs(MountedKvmfs.ProbeView());
        var psi = new ProcessStartInfo("tail", ["-f", "-n", "5", m["trace"]]) { RedirectStandardOutput = true };
        using var tail = Process.Start(psi)!;
        var output = new StringBuilder();
        tail.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        tail.BeginOutputReadLine();
        int kvm = Native.Open(m["kvm"], Native.O_RDWR);
        var watch = Stopwatch.StartNew();
        bool seen = false;
        for (ulong i = 1000; !seen && watch.ElapsedMilliseconds < 8000; i++)
        {
            Native.Ioctl(kvm, ProbeSystem.EchoValue, (nuint)i);
            Thread.Sleep(100);
            lock (output) seen = output.ToString().Contains("_IO(0x99, 0x01)(kvm, 10");
        }
        tail.Kill();
        tail.WaitForExit();
        Native.Close(kvm);
        Assert.True(seen, "tail -f printed: " + output);
    }

    [FuseFact]
    public void Unmounting_ends_a_blocked_read_and_removes_the_mount()
    {
        var m = new MountedKvmfs(MountedKvmfs.ProbeView());
        int trace = Native.Open(m["trace"], Native.O_RDONLY);
        Native.ReadSome(trace, 65536);
        var reader = Task.Run(() => Native.ReadSome(trace, 4096).Result);
        Thread.Sleep(200);
        m.Dispose();
        Assert.True(reader.Wait(5000), "unmounting must end a waiting read");
        Assert.True(reader.Result <= 0);
        Native.Close(trace);
        Assert.False(Native.IsMounted(m.Dir));
    }

    [FuseFact]
    public void A_stale_mount_from_a_crashed_daemon_is_cleaned_at_the_next_start()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kvmfs-stale-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        // A "daemon" that mounts and dies: its /dev/fuse fd closes without an unmount.
        int fd = Native.Open("/dev/fuse", Native.O_RDWR);
        Assert.Equal(0, Native.Mount("kvmfs", dir, "fuse.kvmfs", 6, $"fd={fd},rootmode=40000,user_id=0,group_id=0"));
        Native.Close(fd);
        var e = Assert.ThrowsAny<IOException>(() => Directory.EnumerateFileSystemEntries(dir).ToList());
        Assert.Contains("not connected", e.Message, StringComparison.OrdinalIgnoreCase);

        using (var fs = KvmfsFileSystem.Mount(dir, null, new KvmfsOptions { UnmountOnExit = false }))
            Assert.Equal(3, Directory.EnumerateFileSystemEntries(dir).Count());
        Assert.False(Native.IsMounted(dir));
        Directory.Delete(dir);
    }

    [FuseFact]
    public void Requests_the_file_system_does_not_know_fail_cleanly()
    {
        using var m = new MountedKvmfs();
        var e = Assert.ThrowsAny<IOException>(() => Directory.CreateDirectory(m["vms/new"]));
        Assert.ThrowsAny<Exception>(() => File.WriteAllText(m["trace"], "x"));
        Assert.False(File.Exists(m["nothing"]));
        Assert.Equal(3, Directory.EnumerateFileSystemEntries(m.Dir).Count());
    }

    private sealed class NoUserMemory : IUserAccess
    {
        public int CopyFromUser(ulong address, Span<byte> destination) => -14;
        public int CopyToUser(ulong address, ReadOnlySpan<byte> source) => -14;
        public int GetFile(int vmmFd) => -9;
        public int ShareMemory(ulong address, ulong size, out SharedMemory? memory) { memory = null; return -14; }
    }
}
