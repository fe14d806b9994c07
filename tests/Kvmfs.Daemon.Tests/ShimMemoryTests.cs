using System.Diagnostics;
using Kvmfs.Daemon.Exec;
using Kvmfs.Daemon.Shim;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// Guest RAM through the preload shim and the real KVM objects (clients/kvm_remap.c, an arm64
/// VMM under qemu-user): memslots cost neither side an fd each (the shim's one arena memfd, the
/// daemon maps and closes), and RAM freed and mapped again at the same address is shared afresh.
/// </summary>
public class ShimMemoryTests
{
    [Fact]
    public void RemappedRamIsSharedAfresh_AndSlotsCostNoFds()
    {
        Environment.SetEnvironmentVariable("KVMFS_SHIM_DIR", Toolchain.ShimDir);
        using var server = new ShimServer(Path.Combine(Toolchain.WorkDir, $"remap{Environment.ProcessId}.sock"));
        server.Start();
        int daemonFdsBefore = Directory.GetFiles("/proc/self/fd").Length;
        var psi = VmmLauncher.Prepare([Toolchain.Client("kvm_remap")], server.SocketPath);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardInput = true;
        using var p = Process.Start(psi)!;
        var lines = new List<string>();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null && line != "ready=1") lines.Add(line);
        // Every slot of the VMM is alive now: the daemon must not hold an fd for each.
        int daemonFdsLive = Directory.GetFiles("/proc/self/fd").Length;
        p.StandardInput.WriteLine("go");
        p.StandardInput.Flush();
        string text = string.Join("\n", lines) + "\n" + p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60000), "the client did not finish");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}\n{text}");
        var v = Toolchain.Values(text);
        Assert.True(v.GetValueOrDefault("stale") == "0", text);
        Assert.True(v.GetValueOrDefault("slots_failed") == "0", text);
        Assert.True(int.Parse(v["fd_growth"]) <= 2, text); // the arena (and at most one more), not 2000
        Assert.True(daemonFdsLive - daemonFdsBefore < 100, $"the daemon held {daemonFdsLive - daemonFdsBefore} more fds with 2000 slots alive");
    }
}
