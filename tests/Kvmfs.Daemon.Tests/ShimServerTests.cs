using System.Diagnostics;
using Kvmfs.Daemon.Shim;
using Kvmfs.Protocol.Wire;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// The daemon's socket server against clients that follow the wire format, and against clients
/// that do not: garbage never takes the daemon down, and never disturbs another VMM's VM.
/// </summary>
public class ShimServerTests
{
    private static string NewSocketPath() => Path.Combine(Toolchain.WorkDir, $"s{Guid.NewGuid():N}"[..12] + ".sock");

    private static ulong _token = (ulong)Environment.ProcessId << 20;
    private static ulong NewToken() => Interlocked.Increment(ref _token);

    private static void AssertError(WireClient c, int errno, string what)
    {
        var f = c.Receive(3000);
        Assert.True(f is not null, $"{what}: no answer");
        Assert.Equal(MsgType.ErrorReply, WireClient.TypeOf(f!));
        Assert.Equal(errno, WireClient.Read<WireErrorReply>(f!).error);
    }

    private static void AssertClosed(WireClient c, string what)
    {
        for (int i = 0; i < 4; i++)
        {
            var f = c.Receive(3000);
            if (f is null) return;
        }
        Assert.Fail($"{what}: connection still open");
    }

    private static WireClient Session(string path, out uint system)
    {
        var c = new WireClient(path);
        Assert.Equal(0, c.Hello(NewToken(), newSession: true));
        system = c.OpenDevice();
        return c;
    }

    [Fact]
    public void GarbageNeverStopsAnotherVmmsVm()
    {
        using var server = new ShimServer(NewSocketPath());
        server.Start();

        // VMM A: a VM that keeps answering (KVM_CHECK_EXTENSION(KVM_CAP_USER_MEMORY) on the VM fd is 1 on real KVM).
        using var a = Session(server.SocketPath, out uint aSystem);
        var vm = a.Ioctl(aSystem, WireClient.KVM_CREATE_VM, 0);
        Assert.NotNull(vm);
        Assert.True(vm!.Result >= 0 && vm.NewHandle != 0, $"KVM_CREATE_VM = {vm.Result}");
        int served = 0, failed = 0;
        using var stop = new CancellationTokenSource();
        var loop = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                var r = a.Ioctl(vm.NewHandle, WireClient.KVM_CHECK_EXTENSION, 3 /* KVM_CAP_USER_MEMORY */);
                if (r?.Result == 1) Interlocked.Increment(ref served); else Interlocked.Increment(ref failed);
            }
        }) { IsBackground = true };
        loop.Start();

        // Before HELLO nothing is served, and the connection is closed.
        using (var c = new WireClient(server.SocketPath))
        {
            c.SendRaw(c.IoctlFrame(1, WireClient.KVM_GET_API_VERSION, 0, []));
            AssertError(c, 71, "IOCTL before HELLO");
            AssertClosed(c, "IOCTL before HELLO");
        }
        using (var c = new WireClient(server.SocketPath))
        {
            Assert.Equal(1 /* EPERM */, c.Hello(NewToken(), true, pid: 1));
            AssertClosed(c, "HELLO with another process's pid");
        }
        using (var c = new WireClient(server.SocketPath))
        {
            Assert.Equal(3 /* ESRCH */, c.Hello(0xdead, newSession: false));
            AssertClosed(c, "joining a session that does not exist");
        }

        using var b = Session(server.SocketPath, out uint bSystem);
        var header = WireClient.Header(MsgType.Ioctl, 16);
        b.SendRaw(new byte[] { 1, 2, 3 });
        AssertError(b, 71, "short frame");
        var bad = header; bad.magic = 0x12345678;
        b.SendRaw(WireClient.Bytes(bad));
        AssertError(b, 71, "bad magic");
        var lying = header; lying.size = 100;
        b.SendRaw(WireClient.Bytes(lying));
        AssertError(b, 71, "size field disagrees with the frame");
        b.SendRaw(WireClient.Bytes(WireClient.Header((MsgType)0x77, 16)));
        AssertError(b, 71, "unknown frame type");
        var huge = new byte[Wire.MaxFrame + 4000];
        WireClient.Bytes(WireClient.Header(MsgType.Ioctl, huge.Length)).CopyTo(huge, 0);
        b.SendRaw(huge);
        AssertError(b, 71, "oversized frame");
        var frame = b.IoctlFrame(bSystem, WireClient.KVM_GET_API_VERSION, 0, new byte[8]);
        b.SendRaw(frame);
        AssertError(b, 22, "data_len disagrees with the _IO command");
        b.SendRaw(b.IoctlFrame(vm.NewHandle, WireClient.KVM_SET_USER_MEMORY_REGION, 0x1000, new byte[8]));
        AssertError(b, 22, "8 bytes for a 32-byte _IOW struct");
        var wrongLen = b.IoctlFrame(bSystem, WireClient.KVM_GET_API_VERSION, 0, []);
        BitConverter.TryWriteBytes(wrongLen.AsSpan(32), 4u);
        b.SendRaw(wrongLen);
        AssertError(b, 22, "data_len larger than the frame");
        Assert.Null(b.Ioctl(9999, WireClient.KVM_GET_API_VERSION, 0, null, null, out int err));
        Assert.Equal(9 /* EBADF */, err);
        // Another VMM's handle means nothing here: handles are per process.
        Assert.Null(b.Ioctl(vm.NewHandle, WireClient.KVM_CHECK_EXTENSION, 3, null, null, out err));
        Assert.Equal(9, err);
        b.SendRaw(WireClient.Bytes(new WireKick { hdr = WireClient.Header(MsgType.Kick, 24), handle = 4242 }));
        b.SendRaw(WireClient.Bytes(new WireClose { hdr = WireClient.Header(MsgType.Close, 24), handle = 4242 }));
        b.SendRaw(WireClient.Bytes(new WireUserStatus { hdr = WireClient.Header(MsgType.UserStatus, 32) }));
        AssertError(b, 71, "USER_STATUS outside a callback");
        // A descriptor beside a request is dropped, the request still served.
        int[] fds = new int[2];
        Assert.Equal(0, Pipe(fds));
        b.SendRaw(b.IoctlFrame(bSystem, WireClient.KVM_GET_API_VERSION, 0, []), fds[0]);
        var r1 = b.Receive();
        Assert.Equal(12, WireClient.Read<WireIoctlReply>(r1!).result);
        CloseFd(fds[0]); CloseFd(fds[1]);
        Assert.Equal(12, b.Ioctl(bSystem, WireClient.KVM_GET_API_VERSION)!.Result);
        // A closed fd: CLOSE drops the handle, later ioctls on it are EBADF.
        b.SendRaw(WireClient.Bytes(new WireClose { hdr = WireClient.Header(MsgType.Close, 24), handle = bSystem }));
        Assert.Null(b.Ioctl(bSystem, WireClient.KVM_GET_API_VERSION, 0, null, null, out err));
        Assert.Equal(9, err);

        // Random frames with a valid header: answered, ignored or the connection closed, nothing else.
        using (var f = Session(server.SocketPath, out uint fSystem))
        {
            var rng = new Random(1234);
            MsgType[] types = Enum.GetValues<MsgType>();
            for (int i = 0; i < 400; i++)
            {
                int len = 16 + rng.Next(0, 80);
                var g = new byte[len];
                rng.NextBytes(g);
                var h = WireClient.Header(rng.Next(4) == 0 ? (MsgType)rng.Next(256) : types[rng.Next(types.Length)], len);
                WireClient.Bytes(h).CopyTo(g, 0);
                if (f.SendRaw(g) < 0) break;
                while (f.Receive(0) is not null) { }
            }
        }

        // A VMM that answers a callback with nonsense: its connection goes, the daemon stays.
        using (var c = Session(server.SocketPath, out uint cSystem))
        {
            var cvm = c.Ioctl(cSystem, WireClient.KVM_CREATE_VM, 0)!;
            var region = new byte[32];
            BitConverter.TryWriteBytes(region.AsSpan(8), 0x80000000UL);
            BitConverter.TryWriteBytes(region.AsSpan(16), 0x200000UL);
            BitConverter.TryWriteBytes(region.AsSpan(24), 0x7f0000000000UL);
            var refused = c.Ioctl(cvm.NewHandle, WireClient.KVM_SET_USER_MEMORY_REGION, 0x1000, region, WireClient.Refuse);
            Assert.True(refused is not null && refused.Result < 0, "guest RAM the VMM cannot share must fail the ioctl");
            // An eventfd the VMM has already closed: fget fails, KVM_IOEVENTFD answers EBADF as KVM does.
            var ioeventfd = new byte[64];
            BitConverter.TryWriteBytes(ioeventfd.AsSpan(8), 0x9000000UL);   // addr
            BitConverter.TryWriteBytes(ioeventfd.AsSpan(16), 4);            // len
            BitConverter.TryWriteBytes(ioeventfd.AsSpan(20), 77);           // fd
            var closedFd = c.Ioctl(cvm.NewHandle, 0x4040AE79 /* KVM_IOEVENTFD */, 0x1000, ioeventfd, WireClient.Refuse);
            Assert.Equal(-9, closedFd?.Result);
            var nonsense = c.Ioctl(cvm.NewHandle, WireClient.KVM_SET_USER_MEMORY_REGION, 0x1000, region,
                _ => WireClient.Bytes(WireClient.Header((MsgType)0x55, 16)));
            Assert.Null(nonsense);
            AssertClosed(c, "nonsense callback reply");
        }

        // The other VMM was served all along (and at least a little after the garbage).
        int before = Volatile.Read(ref served);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref served) < before + 10 && clock.ElapsedMilliseconds < 10000) Thread.Sleep(10);
        stop.Cancel();
        Assert.True(loop.Join(TimeSpan.FromSeconds(20)));
        Assert.Equal(0, failed);
        Assert.True(served >= before + 10, $"served {served}");
        Assert.Equal(1, a.Ioctl(vm.NewHandle, WireClient.KVM_CHECK_EXTENSION, 3)!.Result);
        Assert.Contains(server.Sessions, s => s.Pid == Environment.ProcessId);
    }

    [Fact]
    public async Task KickMakesKvmRunReturnEintr()
    {
        var model = new FakeKvm();
        using var server = new ShimServer(NewSocketPath(), model.System);
        server.Start();
        ulong token = NewToken();
        using var control = new WireClient(server.SocketPath);
        Assert.Equal(0, control.Hello(token, newSession: true));
        using var thread = new WireClient(server.SocketPath);
        Assert.Equal(0, thread.Hello(token, newSession: false));
        uint system = thread.OpenDevice();
        var vm = thread.Ioctl(system, WireClient.KVM_CREATE_VM)!;
        var vcpu = thread.Ioctl(vm.NewHandle, WireClient.KVM_CREATE_VCPU)!;
        var run = Task.Run(() => thread.Ioctl(vcpu.NewHandle, WireClient.KVM_RUN));
        Assert.True(model.InRun.Wait(5000));
        Assert.NotSame(run, await Task.WhenAny(run, Task.Delay(200)));   // no return without a kick
        control.SendRaw(WireClient.Bytes(new WireKick { hdr = WireClient.Header(MsgType.Kick, 24), handle = vcpu.NewHandle }));
        Assert.Same(run, await Task.WhenAny(run, Task.Delay(5000)));
        Assert.Equal(-4, (await run)!.Result);
    }

    [Fact]
    public void VmmDyingInsideKvmRunTearsDownItsObjectsOnly()
    {
        var model = new FakeKvm();
        using var server = new ShimServer(NewSocketPath(), model.System);
        server.Start();
        using var other = Session(server.SocketPath, out uint otherSystem);
        var otherVm = other.Ioctl(otherSystem, WireClient.KVM_CREATE_VM)!;

        var dying = Session(server.SocketPath, out uint system);
        var vm = dying.Ioctl(system, WireClient.KVM_CREATE_VM)!;
        var vcpu = dying.Ioctl(vm.NewHandle, WireClient.KVM_CREATE_VCPU)!;
        dying.SendRaw(dying.IoctlFrame(vcpu.NewHandle, WireClient.KVM_RUN, 0, []));
        Assert.True(model.InRun.Wait(5000));
        dying.Close();   // what the kernel does to the sockets of a process killed with -9

        var clock = Stopwatch.StartNew();
        while (model.Released.Count < 3 && clock.ElapsedMilliseconds < 5000) Thread.Sleep(20);
        lock (model.Released) Assert.Equal(["vcpu 0", "vm 0", "kvm 0"], model.Released);
        Assert.Single(server.Sessions);
        Assert.Equal(12, other.Ioctl(otherSystem, WireClient.KVM_GET_API_VERSION)!.Result);
        Assert.Equal(-25, other.Ioctl(otherVm.NewHandle, 0xAEFF)!.Result);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "pipe")]
    private static extern int Pipe(int[] fds);

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "close")]
    private static extern int CloseFd(int fd);
}
