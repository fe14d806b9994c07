using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Kvmfs.Daemon.Shim;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// The kvmfs file system with VMs held by stock QEMU: `kvmfs serve --mount` as its own process,
/// two QEMUs under `kvmfs exec` using it (GICv3 with 2 vCPUs, and the default GICv2), both started
/// with -S so each sets its VM up completely and waits without running it. Then the whole tree is
/// listed and every file read, and what the files say is checked against what QEMU did (the
/// trace) and against the QEMU process itself. Native clients (tests/.../clients/kvmfs_fs_client.c)
/// use the ioctl nodes and interrupt a blocked trace read. Finally QEMU is killed and its VM
/// must leave the tree, and the daemon must unmount on SIGTERM.
/// Needs root and /dev/fuse (mount), qemu-system-arm:arm64, qemu-aarch64-static, gcc, the guest Image.
/// </summary>
[Trait("Needs", "root, /dev/fuse, qemu-system-arm:arm64, qemu-aarch64-static, gcc, .cache/guest/Image")]
public class FileSystemQemuTests
{
    /// <summary>The trace's text form (docs/trace-format.md), as `kvmfs exec --trace` writes it.</summary>
    private static readonly Regex TraceLine = new(@"^\d\d:\d\d:\d\d\.\d{6} \[(?<pid>\d+)\] (?<name>[A-Za-z0-9_]+|_IO\w*\([^)]*\))\((?<obj>kvm|vm \d+|vcpu \d+|device \d+)[,)].* = (-1 [A-Z0-9]+|-?\d+)", RegexOptions.Compiled);

    private sealed record Qemu(string Name, string[] Machine, int Vcpus, bool V3)
    {
        public Process? Exec;
        public string Qmp = "";
        public int Pid;
        public string Dir = "";
    }

    [RootFuseFact]
    public void Every_file_of_a_mount_with_VMs_held_by_stock_QEMU_shows_what_QEMU_set_up()
    {
        string image = Path.Combine(Toolchain.RepoRoot, ".cache", "guest", "Image");
        Assert.True(File.Exists(image), $"{image} missing: run make setup");
        string client = Toolchain.Client("kvmfs_fs_client", arm64: false);
        string shims = Toolchain.ShimDir;

        using var serve = new ServeProcess();
        // The trace records only while open: a reader (plain cat) before any QEMU starts.
        using var trace = new LineReader("cat", [serve.Path("trace")]);

        var qemus = new[]
        {
            new Qemu("gicv3-smp2", ["-M", "virt,gic-version=3", "-smp", "2"], 2, true),
            new Qemu("gicv2", ["-M", "virt"], 1, false),
        };
        try
        {
            foreach (var q in qemus)
            {
                q.Qmp = Path.Combine(Toolchain.WorkDir, $"qmp-{q.Name}-{Environment.ProcessId}.sock");
                q.Exec = StartQemu(serve.Socket, shims, image, q);
            }
            // QMP answers from QEMU's main loop, which starts after the machine is created, reset and
            // its registers are written to KVM: "prelaunch" = fully set up, held by -S, not running.
            foreach (var q in qemus)
                Assert.Equal("prelaunch", QmpStatus(q, TimeSpan.FromSeconds(60)));

            string[] vmDirs = Directory.GetDirectories(serve.Path("vms"));
            foreach (var q in qemus) FindVm(q, vmDirs);
            Assert.Equal(qemus.Length, vmDirs.Length);   // the scratch VMs QEMU probes the host with are gone
            var lines = trace.Lines();

            CheckTree(serve, qemus);
            foreach (var q in qemus) CheckVm(serve, q, lines);
            CheckTraceFile(lines, qemus);
            var clientRuns = new StringBuilder();
            CheckIoctlNodes(serve, client, qemus[0], clientRuns);
            CheckBlockedTraceRead(serve, client, clientRuns);
            WriteTranscript(serve, qemus, trace, clientRuns.ToString());

            // Teardown: a VMM that dies (SIGKILL, no clean close) takes its VM out of the tree.
            foreach (var q in qemus)
            {
                Assert.Equal(0, Kill(q.Pid, 9));
                Assert.True(q.Exec!.WaitForExit(20000), $"kvmfs exec for {q.Name} did not end after QEMU died");
            }
            Assert.True(SpinWait.SpinUntil(() => Directory.GetDirectories(serve.Path("vms")).Length == 0, 10000),
                "VMs left after QEMU died: " + string.Join(", ", Directory.GetDirectories(serve.Path("vms"))));
        }
        finally
        {
            foreach (var q in qemus)
                if (q.Exec is { HasExited: false } p) { p.Kill(entireProcessTree: true); p.WaitForExit(5000); }
        }
        string log = serve.Stop();
        Assert.False(IsMounted(serve.Mount), "kvmfs serve must unmount on SIGTERM");
        Assert.True(log.Contains("fuse: unmounted"), log);
    }

    // ------------------------------------------------------------------ the checks

    /// <summary>`ls -R`: every directory lists, with exactly the documented names.</summary>
    private static void CheckTree(ServeProcess serve, Qemu[] qemus)
    {
        var ls = Toolchain.Run("ls", ["-R", serve.Mount], 20);
        Assert.True(ls.ExitCode == 0, ls.Stderr);
        Assert.Equal(["kvm", "trace", "vms"], Names(serve.Mount));
        foreach (var q in qemus)
        {
            Assert.Equal(["devices", "info", "memslots", "stage2", "vcpus", "vgic", "vm"], Names(q.Dir));
            Assert.Equal(Enumerable.Range(0, q.Vcpus).Select(i => i.ToString()), Names(Path.Combine(q.Dir, "vcpus")).OrderBy(int.Parse));
            for (int i = 0; i < q.Vcpus; i++)
                Assert.Equal(["regs", "stats", "sysregs", "vcpu"], Names(Path.Combine(q.Dir, "vcpus", i.ToString())));
            // QEMU's devices: the vGIC, and with GICv3 also the ITS.
            Assert.Equal(q.V3 ? 2 : 1, Names(Path.Combine(q.Dir, "devices")).Length);
        }

        // Every file of the tree: text files start with their documented first line and say more;
        // the ioctl nodes are not readable (read(2) of a KVM fd is EINVAL).
        var headlines = DocumentedHeadlines();
        foreach (var file in Directory.EnumerateFiles(serve.Path("vms"), "*", SearchOption.AllDirectories))
        {
            string name = Path.GetFileName(file);
            if (name is "vm" or "vcpu" || Path.GetFileName(Path.GetDirectoryName(file)) == "devices")
            {
                var e = Assert.ThrowsAny<IOException>(() => File.ReadAllBytes(file));
                Assert.Contains("Invalid argument", e.Message);
                continue;
            }
            string text = File.ReadAllText(file);
            string first = text.Split('\n')[0];
            Assert.True(headlines.TryGetValue(name, out var headline), $"{file}: no documented first line in docs/filesystem.md");
            Assert.Matches(headline, first);
            Assert.True(text.Length > first.Length + 20, $"{file} says nothing after its first line:\n{text}");
            Assert.Equal(new FileInfo(file).Length, Encoding.UTF8.GetByteCount(text));
        }
    }

    private static void CheckVm(ServeProcess serve, Qemu q, string[] trace)
    {
        string Read(string rel) => File.ReadAllText(Path.Combine(q.Dir, rel));
        // Only this QEMU's calls; its scratch VM (vm ids differ) made no SET calls we look at.
        var mine = trace.Where(l => TraceLine.Match(l) is { Success: true } m && m.Groups["pid"].Value == q.Pid.ToString()).ToArray();
        Assert.NotEmpty(mine);
        Assert.DoesNotContain(mine, l => l.Contains(" KVM_RUN("));   // -S: set up, never run

        // info: QEMU's pid and its command line as the kernel has it, vCPUs, the vGIC device.
        string info = Read("info");
        string cmdline = File.ReadAllText($"/proc/{q.Pid}/cmdline").TrimEnd('\0').Replace('\0', ' ');
        Assert.Contains($"\nowner pid      {q.Pid}\n", info);
        Assert.Contains($"\ncommand line   {cmdline}\n", info);
        Assert.Contains("qemu-system-aarch64 " + string.Join(' ', q.Machine), cmdline);
        Assert.Matches($@"\nvcpus +{q.Vcpus} \(ids {string.Join(' ', Enumerable.Range(0, q.Vcpus))};", info);
        Assert.Matches(q.V3 ? @"\ndevices +\d+ kvm-arm-vgic-v3, \d+ kvm-arm-vgic-its " : @"\ndevices +\d+ kvm-arm-vgic-v2 ", info);
        Assert.Contains($"\nirqchip        {(q.V3 ? "GICv3" : "GICv2")}\n", info);
        Assert.Contains("\nhas run        no ", info);

        // memslots: each KVM_SET_USER_MEMORY_REGION QEMU made, RAM at 0x40000000 with -m 256.
        string slots = Read("memslots");
        var regions = mine.Select(l => Regex.Match(l, @"KVM_SET_USER_MEMORY_REGION\(vm \d+, \{slot=(\d+), flags=(\S+), guest_phys_addr=0x([0-9a-f]+), memory_size=0x([0-9a-f]+), userspace_addr=0x([0-9a-f]+)\}\) = 0"))
            .Where(m => m.Success).ToList();
        Assert.Contains(regions, m => m.Groups[3].Value == "40000000" && Convert.ToUInt64(m.Groups[4].Value, 16) == 256UL << 20);
        foreach (var m in regions.Where(m => m.Groups[4].Value != "0"))
        {
            ulong gpa = Convert.ToUInt64(m.Groups[3].Value, 16), size = Convert.ToUInt64(m.Groups[4].Value, 16);
            string flags = m.Groups[2].Value.Contains("READONLY") ? "READONLY" : "-";
            Assert.Matches($@"\n{m.Groups[1].Value} +0x{gpa:x16}  0x{size:x16} \(\d+ [KMG]iB\) +{flags} +0x{m.Groups[5].Value}\n", slots);
        }
        Assert.Matches(@"\n\d+ +0x0000000040000000  0x0000000010000000 \(256 MiB\) +- +0x[0-9a-f]+\n", slots);

        // vgic: the addresses and sizes QEMU gave with KVM_SET_DEVICE_ATTR.
        string vgic = Read("vgic");
        string Attr(string what) => mine.Select(l => Regex.Match(l, $@"KVM_SET_DEVICE_ATTR\(device \d+, \{{flags=0x0, {what}, addr=0x[0-9a-f]+, value=0x([0-9a-f]+)")).Last(m => m.Success).Groups[1].Value;
        string Addr(string type) => Attr($"group=KVM_DEV_ARM_VGIC_GRP_ADDR, attr={type}");
        Assert.Contains("\ninitialized  yes", vgic);
        // GICD_CTLR as QEMU restored it: group enable bits 0 and 1.
        ulong gicdCtlr = Convert.ToUInt64(Attr(@"group=KVM_DEV_ARM_VGIC_GRP_DIST_REGS, attr=0x0 \(cpu 0x0, offset 0x0\)"), 16);
        string distState = (gicdCtlr & 3) != 0 ? "enabled" : "disabled";
        Assert.Contains($"\nnr_irqs      {Convert.ToInt32(Attr("group=KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr=0x0"), 16)} ", vgic);   // KVM_DEV_ARM_VGIC_GRP_NR_IRQS
        if (q.V3)
        {
            Assert.Contains($"\ndistributor  0x{Addr("KVM_VGIC_V3_ADDR_TYPE_DIST")}, {distState} ", vgic);
            var rd = Regex.Match(mine.Last(l => l.Contains("KVM_SET_DEVICE_ATTR(") && l.Contains("KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, addr=")), @"\(index (\d+), base 0x([0-9a-f]+), count (\d+)\)");
            Assert.True(rd.Success);
            ulong rdBase = Convert.ToUInt64(rd.Groups[2].Value, 16);
            Assert.Contains($"\nredistributor region {rd.Groups[1].Value}: base 0x{rdBase:x}, {rd.Groups[3].Value} frames, {q.Vcpus} in use\n", vgic);
            // Each vCPU's redistributor is the next 128 KiB (RD_base + SGI_base frames) of the region.
            for (int i = 0; i < q.Vcpus; i++)
                Assert.Contains($"\n  vcpu {i}: redistributor 0x{rdBase + (ulong)i * 0x20000:x}, ", vgic);
            Assert.Contains($"\nits          0x{Addr("KVM_VGIC_ITS_ADDR_TYPE")}, ", vgic);
        }
        else
        {
            Assert.Contains($"\ndistributor  0x{Addr("KVM_VGIC_V2_ADDR_TYPE_DIST")}, {distState} ", vgic);
            Assert.Contains($"\ncpu interface 0x{Addr("KVM_VGIC_V2_ADDR_TYPE_CPU")}\n", vgic);
            Assert.Contains("\n  vcpu 0: GICC_CTLR ", vgic);
        }

        // The registers QEMU last wrote with KVM_SET_ONE_REG: the boot CPU at QEMU's boot stub at the
        // start of RAM (it jumps to the kernel), PSTATE EL1h with DAIF masked; the others powered off.
        for (int i = 0; i < q.Vcpus; i++)
        {
            string regs = Read($"vcpus/{i}/regs"), stats = Read($"vcpus/{i}/stats"), sysregs = Read($"vcpus/{i}/sysregs");
            string LastSet(string reg) => mine.Select(l => Regex.Match(l, $@"KVM_SET_ONE_REG\(vcpu {i}, \{{id=0x[0-9a-f]+ {reg}, addr=0x[0-9a-f]+, value=0x([0-9a-f]+)\}}\) = 0$")).Last(m => m.Success).Groups[1].Value;
            ulong pc = Convert.ToUInt64(LastSet("pc"), 16), pstate = Convert.ToUInt64(LastSet("pstate"), 16);
            Assert.Contains($"\npc       0x{pc:x16}\n", regs);
            Assert.Matches($@"\npstate   0x{pstate:x16}   \(EL1h, DAIF masked, NZCV \w+\)\n", regs);
            if (i == 0) Assert.Equal(0x40000000UL, pc);

            string mp = Regex.Match(mine.Last(l => l.Contains($"KVM_SET_MP_STATE(vcpu {i}, ")), @"mp_state=(\w+)").Groups[1].Value;
            Assert.Equal(i == 0 ? "KVM_MP_STATE_RUNNABLE" : "KVM_MP_STATE_STOPPED", mp);
            Assert.Contains($"\nmp state       {mp}\n", stats);
            Assert.Contains("\nKVM_RUN calls  0\n", stats);
            Assert.Contains("KVM_ARM_VCPU_PSCI_0_2", stats);
            string mpidr = Regex.Match(stats, @"\nmpidr +(0x[0-9a-f]+)\n").Groups[1].Value;
            Assert.Equal(0x80000000UL | (ulong)i, Convert.ToUInt64(mpidr, 16));
            Assert.Matches($@"\nMPIDR_EL1 +0x0*{mpidr[2..]}\n", sysregs);
            Assert.True(sysregs.Split('\n').Count(l => Regex.IsMatch(l, @"^[A-Z0-9_]+ +0x[0-9a-f]{16}( |$)")) > 50, sysregs);
        }

        string stage2 = Read("stage2");
        Assert.Contains("not built yet", stage2);
    }

    private static void CheckTraceFile(string[] lines, Qemu[] qemus)
    {
        Assert.Matches(DocumentedHeadlines()["trace"], lines[0]);
        var bad = lines.Skip(1).Where(l => !TraceLine.IsMatch(l)).Take(5).ToList();
        Assert.True(bad.Count == 0, "trace lines not in the exec --trace format:\n" + string.Join('\n', bad));
        foreach (var q in qemus)
        {
            Assert.Contains(lines, l => l.Contains($"[{q.Pid}] KVM_CREATE_VM(kvm, "));
            Assert.Contains(lines, l => l.Contains($"[{q.Pid}] KVM_ARM_VCPU_INIT(vcpu "));
        }
    }

    /// <summary>A native program's own VM through the kvm node, and QEMU's VM's nodes refusing it.</summary>
    private static void CheckIoctlNodes(ServeProcess serve, string client, Qemu q, StringBuilder transcript)
    {
        // Another process's VM: KVM answers EIO to any process but the VMM (kvm->mm != current->mm).
        foreach (var node in new[] { "vm", "vcpus/0/vcpu", "vcpus/1/vcpu", "devices/1" })
        {
            var r = Toolchain.Run(client, ["foreign", Path.Combine(q.Dir, node)], 20);
            transcript.Append($"$ kvmfs_fs_client foreign {Path.Combine(q.Dir, node)}    # QEMU's node, from another process\n{r.Stdout}");
            var v = Toolchain.Values(r.Stdout);
            Assert.True(v.GetValueOrDefault("open") == "0", r.Stdout + r.Stderr);
            Assert.Equal("-1 5", v["check_extension"]);
            Assert.Equal("-1 5", v["get_mp_state"]);
        }

        // Its own VM: made on the kvm node, then used through its vm and vcpu nodes by path.
        var psi = new ProcessStartInfo(client) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("own");
        psi.ArgumentList.Add(serve.Mount);
        using var p = Process.Start(psi)!;
        var output = new StringBuilder();
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null && line != "ready=1") output.AppendLine(line);
        var v2 = Toolchain.Values(output.ToString());
        string Why() => output.ToString();
        Assert.True(line == "ready=1", Why());
        Assert.Equal("0", v2["open_kvm"]);
        Assert.Equal("12", v2["api_version"]);
        Assert.True(int.Parse(v2["ipa_size"]) >= 40, Why());
        Assert.True(int.Parse(v2["vcpu_mmap_size"]) >= 4096, Why());
        int vmId = int.Parse(v2["vm_id"]);
        Assert.Equal("0", v2["open_vm"]);
        Assert.True(int.Parse(v2["vm_nr_vcpus"]) >= 1, Why());
        Assert.Equal("0", v2["preferred_target_rc"]);
        Assert.Equal("0", v2["vcpu_id"]);
        Assert.Equal("0", v2["open_vcpu"]);
        Assert.Equal("0", v2["vcpu_init"]);
        Assert.Equal("0", v2["get_mp_state"]);
        Assert.Equal("0", v2["mp_state"]);                 // KVM_MP_STATE_RUNNABLE
        Assert.Equal("-1 14", v2["get_one_reg_pc"]);       // EFAULT: the value pointer cannot cross FUSE

        string dir = serve.Path($"vms/{vmId}");
        string info = File.ReadAllText(Path.Combine(dir, "info"));
        Assert.Contains($"\nowner pid      {p.Id}\n", info);
        Assert.Contains($"\ncommand line   {client} own {serve.Mount}\n", info);
        Assert.Contains("(ids 0;", info);
        Assert.Contains("pc       0x0000000000000000", File.ReadAllText(Path.Combine(dir, "vcpus/0/regs")));

        transcript.Append($"$ kvmfs_fs_client own {serve.Mount}    # its own VM, made on the kvm node\n{output}ready=1\n");
        transcript.Append($"$ cat {dir}/info    # while it holds the VM\n{info}");
        p.StandardInput.WriteLine("go");
        p.StandardInput.Flush();
        Assert.True(p.WaitForExit(10000));
        Assert.Equal(0, p.ExitCode);
        // Its last fd closed: the VM is gone (readdir; a lookup may still hit the dentry cache).
        Assert.True(SpinWait.SpinUntil(() => !Directory.GetDirectories(serve.Path("vms")).Contains(dir), 5000), $"{dir} still listed");
    }

    private static void CheckBlockedTraceRead(ServeProcess serve, string client, StringBuilder transcript)
    {
        var r = Toolchain.Run(client, ["trace", serve.Mount], 20);
        transcript.Append($"$ kvmfs_fs_client trace {serve.Mount}    # a read of trace that waits, then SIGALRM\n{r.Stdout}");
        var v = Toolchain.Values(r.Stdout);
        Assert.True(v.GetValueOrDefault("open") == "0", r.Stdout + r.Stderr);
        Assert.Matches(DocumentedHeadlines()["trace"], v["headline"]);
        Assert.Equal("-1 4", v["blocked_read"]);   // EINTR
    }

    /// <summary>`ls -R` and `cat` of each kind of file, for people (KVMFS_FS_TRANSCRIPT=FILE).</summary>
    private static void WriteTranscript(ServeProcess serve, Qemu[] qemus, LineReader traceReader, string clientRuns)
    {
        string? path = Environment.GetEnvironmentVariable("KVMFS_FS_TRANSCRIPT");
        if (string.IsNullOrEmpty(path)) return;
        var sb = new StringBuilder();
        string[] trace = traceReader.Lines();
        string Public(string text) => text.Replace(serve.Mount, "/run/kvmfs/fs");
        void Shell(string command)
        {
            sb.Append("$ ").Append(Public(command)).Append('\n');
            var r = Toolchain.Run("sh", ["-c", command], 20);
            sb.Append(Public(r.Stdout + r.Stderr));
        }
        sb.Append("# kvmfs serve --mount /run/kvmfs/fs (mount point renamed here), and two stock QEMU 7.2 (arm64,\n");
        sb.Append("# under qemu-aarch64-static) through kvmfs exec --socket, both with -S: set up, held, never run.\n");
        foreach (var q in qemus)
            sb.Append($"#   {q.Name}: pid {q.Pid}, {Path.GetRelativePath(serve.Mount, q.Dir)}: qemu-system-aarch64 {string.Join(' ', q.Machine)} -accel kvm -cpu host -m 256 -nographic -nic none -S -kernel Image -qmp ...\n");
        Shell($"ls -R {serve.Mount}");
        string v3 = qemus[0].Dir, v2 = qemus[1].Dir;
        foreach (var f in new[] { "info", "memslots", "stage2", "vgic", "vcpus/0/regs", "vcpus/0/stats", "vcpus/1/stats", "vcpus/1/sysregs" })
            Shell($"cat {v3}/{f}");
        foreach (var f in new[] { "memslots", "vgic" })
            Shell($"cat {v2}/{f}");
        Shell($"cat {v3}/vm");
        sb.Append($"$ tail -f /run/kvmfs/fs/trace    # opened before QEMU started; {trace.Length} lines, a few shown\n");
        var interesting = new Regex(@"KVM_CREATE_VM|KVM_SET_USER_MEMORY_REGION|KVM_CREATE_VCPU|KVM_ARM_VCPU_INIT|KVM_CREATE_DEVICE\(|GRP_ADDR|id=0x6030000000100040 pc|KVM_SET_MP_STATE|EIO");
        sb.Append(trace[0]).Append('\n');
        foreach (var l in trace.Skip(1).Where(l => interesting.IsMatch(l) && l.Contains($"[{qemus[0].Pid}]")).Take(40))
            sb.Append(l).Append('\n');
        sb.Append("...    and the native client's calls through the kvm, vm and vcpu nodes (below):\n");
        foreach (var l in trace.Skip(1).Where(l => !qemus.Any(q => l.Contains($"[{q.Pid}]"))).Take(30))
            sb.Append(l).Append('\n');
        sb.Append(Public(clientRuns));
        File.WriteAllText(path, sb.ToString());
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>The first line of each file as docs/filesystem.md documents it, as a pattern (&lt;id&gt;, &lt;n&gt;: a number).</summary>
    private static Dictionary<string, string> DocumentedHeadlines()
    {
        string doc = File.ReadAllText(Path.Combine(Toolchain.RepoRoot, "docs", "filesystem.md"));
        var block = Regex.Match(doc, @"## First lines\n(?:.*\n)*?```\n(?<rows>(?:.*\n)*?)```");
        Assert.True(block.Success, "docs/filesystem.md has no '## First lines' block");
        var d = new Dictionary<string, string>();
        foreach (var row in block.Groups["rows"].Value.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var m = Regex.Match(row, @"^(\S+) +(.+)$");
            d[m.Groups[1].Value] = "^" + Regex.Escape(m.Groups[2].Value).Replace("<id>", @"\d+").Replace("<n>", @"\d+") + "$";
        }
        return d;
    }

    private static string[] Names(string dir) =>
        Directory.EnumerateFileSystemEntries(dir).Select(e => Path.GetFileName(e)!).Order(StringComparer.Ordinal).ToArray();

    private static Process StartQemu(string socket, string shims, string image, Qemu q)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] args = [Toolchain.KvmfsDll, "exec", "--socket", socket, "--", "qemu-system-aarch64", .. q.Machine,
            "-accel", "kvm", "-cpu", "host", "-m", "256", "-nographic", "-nic", "none", "-S", "-kernel", image,
            "-qmp", $"unix:{q.Qmp},server=on,wait=off"];
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["KVMFS_SHIM_DIR"] = shims;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>QEMU's run state over QMP (query-status), once its main loop answers.</summary>
    private static string QmpStatus(Qemu q, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (q.Exec!.HasExited) Assert.Fail($"{q.Name}: kvmfs exec ended with {q.Exec.ExitCode} before QEMU was set up");
            try
            {
                using var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                s.Connect(new UnixDomainSocketEndPoint(q.Qmp));
                s.ReceiveTimeout = 20000;
                using var stream = new NetworkStream(s);
                using var reader = new StreamReader(stream);
                using var writer = new StreamWriter(stream) { AutoFlush = true, NewLine = "\n" };
                string? Reply() { string? l; while ((l = reader.ReadLine()) is not null && !l.Contains("\"return\"")) { } return l; }
                Assert.Contains("QMP", reader.ReadLine());
                writer.WriteLine("{\"execute\":\"qmp_capabilities\"}");
                Reply();
                writer.WriteLine("{\"execute\":\"query-status\"}");
                string status = Reply() ?? "";
                Assert.Contains("\"running\": false", status);
                return Regex.Match(status, "\"status\": \"(\\w+)\"").Groups[1].Value;
            }
            catch (SocketException) when (clock.Elapsed < limit) { Thread.Sleep(200); }
        }
    }

    /// <summary>The VM directory whose info names this QEMU's QMP socket (unique to it) as the owner's command line.</summary>
    private static void FindVm(Qemu q, string[] vmDirs)
    {
        foreach (var dir in vmDirs)
        {
            string info = File.ReadAllText(Path.Combine(dir, "info"));
            if (!info.Contains(q.Qmp)) continue;
            q.Dir = dir;
            q.Pid = int.Parse(Regex.Match(info, @"\nowner pid +(\d+)\n").Groups[1].Value);
            return;
        }
        Assert.Fail($"no VM of {q.Name} under vms/: {string.Join(", ", vmDirs)}");
    }

    private static bool IsMounted(string dir) => File.ReadAllLines("/proc/self/mounts").Any(l => l.Split(' ')[1] == dir);

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    /// <summary>`kvmfs serve --socket S --mount M` as its own process.</summary>
    private sealed class ServeProcess : IDisposable
    {
        private readonly Process _p;
        private readonly StringBuilder _log = new();
        private bool _stopped;

        public string Socket { get; } = System.IO.Path.Combine(Toolchain.WorkDir, $"fs-{Environment.ProcessId}.sock");
        public string Mount { get; } = System.IO.Path.Combine(Toolchain.WorkDir, "fs");

        public ServeProcess()
        {
            var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { Toolchain.KvmfsDll, "serve", "--socket", Socket, "--mount", Mount }) psi.ArgumentList.Add(a);
            _p = Process.Start(psi)!;
            _p.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
            _p.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
            _p.BeginErrorReadLine();
            _p.BeginOutputReadLine();
            bool up = SpinWait.SpinUntil(() => _p.HasExited || (ShimServer.IsAnswering(Socket) && IsMounted(Mount)), 20000);
            Assert.True(up && !_p.HasExited, "kvmfs serve --mount did not come up:\n" + Log);
        }

        public string Log { get { lock (_log) return _log.ToString(); } }

        public string Path(string relative) => System.IO.Path.Combine(Mount, relative);

        /// <summary>SIGTERM, as an init system stops it; returns its log.</summary>
        public string Stop()
        {
            _stopped = true;
            Kill(_p.Id, 15);
            Assert.True(_p.WaitForExit(15000), "kvmfs serve did not stop on SIGTERM:\n" + Log);
            _p.WaitForExit();
            Assert.Equal(0, _p.ExitCode);
            return Log;
        }

        public void Dispose()
        {
            if (!_stopped && !_p.HasExited) { Kill(_p.Id, 15); if (!_p.WaitForExit(10000)) _p.Kill(); }
            _p.Dispose();
        }
    }

    /// <summary>A process whose stdout lines are collected as they come (here: cat of the trace file).</summary>
    private sealed class LineReader : IDisposable
    {
        private readonly Process _p;
        private readonly List<string> _lines = [];

        public LineReader(string file, string[] args)
        {
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            _p = Process.Start(psi)!;
            _p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_lines) _lines.Add(e.Data); };
            _p.BeginOutputReadLine();
            // The trace records from the moment the file is open: wait for the headline.
            Assert.True(SpinWait.SpinUntil(() => { lock (_lines) return _lines.Count > 0; }, 10000), "no trace headline");
        }

        public string[] Lines() { lock (_lines) return [.. _lines]; }

        public void Dispose()
        {
            if (!_p.HasExited) { _p.Kill(); _p.WaitForExit(5000); }
            _p.Dispose();
        }
    }
}

/// <summary>A test that mounts FUSE and starts VMMs: needs root (mount(2)) and /dev/fuse.</summary>
public sealed class RootFuseFactAttribute : FactAttribute
{
    public RootFuseFactAttribute()
    {
        if (!File.Exists("/dev/fuse")) Skip = "/dev/fuse is absent: the kernel has no FUSE here";
        else if (Environment.UserName != "root") Skip = "mounting a FUSE file system with mount(2) needs root";
    }
}
