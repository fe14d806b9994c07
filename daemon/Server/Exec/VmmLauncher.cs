using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Kvmfs.Daemon.Exec;

/// <summary>
/// How `kvmfs exec` starts a VMM: with the preload shim of the VMM's architecture, and, for an
/// arm64 binary on a host that is not arm64, under qemu-aarch64-static (qemu-user knows no KVM
/// ioctl, so the shim must live inside the emulated process; -L / finds Debian's multiarch arm64
/// libraries under /lib/aarch64-linux-gnu).
/// </summary>
public static class VmmLauncher
{
    public const ushort EM_X86_64 = 62;
    public const ushort EM_AARCH64 = 183;
    public const string ShimName = "libkvmfs-preload.so";

    /// <summary>The ELF machine of <paramref name="path"/> (e_machine), or null if it is not an ELF file.</summary>
    public static ushort? ElfMachine(string path)
    {
        try
        {
            using var f = File.OpenRead(path);
            Span<byte> h = stackalloc byte[20];
            if (f.Read(h) < 20 || h[0] != 0x7f || h[1] != (byte)'E' || h[2] != (byte)'L' || h[3] != (byte)'F') return null;
            return BitConverter.ToUInt16(h[18..]);   // little-endian ELF, as both our architectures are
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Finds <paramref name="command"/> the way execvp does: as given if it has a slash, else on $PATH.</summary>
    public static string? Resolve(string command)
    {
        if (command.Contains('/')) return File.Exists(command) ? Path.GetFullPath(command) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            if (dir.Length == 0) continue;
            var p = Path.Combine(dir, command);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Architecture directory name for an ELF machine: "aarch64", "x86_64".</summary>
    public static string ArchName(ushort machine) => machine switch
    {
        EM_AARCH64 => "aarch64",
        EM_X86_64 => "x86_64",
        _ => $"machine-{machine}",
    };

    public static ushort HostMachine => RuntimeInformation.OSArchitecture switch
    {
        Architecture.Arm64 => EM_AARCH64,
        Architecture.X64 => EM_X86_64,
        _ => 0,
    };

    /// <summary>
    /// The shim for <paramref name="arch"/>: $KVMFS_SHIM_DIR/&lt;arch&gt;/, else out/lib/&lt;arch&gt;/
    /// next to out/bin/kvmfs (where make build puts both), else lib/&lt;arch&gt;/ beside the program.
    /// </summary>
    public static string? FindShim(string arch)
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("KVMFS_SHIM_DIR") is { Length: > 0 } d) candidates.Add(Path.Combine(d, arch, ShimName));
        var bin = AppContext.BaseDirectory;
        candidates.Add(Path.GetFullPath(Path.Combine(bin, "..", "lib", arch, ShimName)));
        candidates.Add(Path.GetFullPath(Path.Combine(bin, "lib", arch, ShimName)));
        // A build tree (tests, dotnet run): walk up to the checkout's out/lib.
        for (var dir = new DirectoryInfo(bin); dir is not null; dir = dir.Parent)
            candidates.Add(Path.Combine(dir.FullName, "out", "lib", arch, ShimName));
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>
    /// The process to start for <paramref name="command"/> with the shim preloaded and
    /// KVMFS_SOCKET pointing at <paramref name="socketPath"/>. Throws with a message a user can act on.
    /// </summary>
    public static ProcessStartInfo Prepare(IReadOnlyList<string> command, string socketPath)
    {
        if (command.Count == 0) throw new ArgumentException("no command to run");
        string exe = Resolve(command[0]) ?? throw new FileNotFoundException($"{command[0]}: command not found");
        ushort machine = ElfMachine(exe) ?? HostMachine;   // a script runs its interpreter: the host's
        string arch = ArchName(machine);
        string shim = FindShim(arch) ?? throw new FileNotFoundException(
            $"no {arch} preload shim ({ShimName}) found; run `make build` (it builds out/lib/{arch}/{ShimName})");

        ProcessStartInfo psi;
        if (machine == EM_AARCH64 && HostMachine != EM_AARCH64)
        {
            string qemu = Resolve("qemu-aarch64-static") ?? Resolve("qemu-aarch64")
                ?? throw new FileNotFoundException("qemu-aarch64-static not found (Debian package qemu-user-static) to run an arm64 VMM");
            psi = new ProcessStartInfo(qemu);
            // -E sets the variable in the emulated process only: the x86 loader never sees the arm64 shim.
            foreach (var a in new[] { "-L", "/", "-E", "LD_PRELOAD=" + shim, exe }) psi.ArgumentList.Add(a);
        }
        else
        {
            psi = new ProcessStartInfo(exe);
            string? existing = Environment.GetEnvironmentVariable("LD_PRELOAD");
            psi.Environment["LD_PRELOAD"] = string.IsNullOrEmpty(existing) ? shim : shim + ":" + existing;
        }
        for (int i = 1; i < command.Count; i++) psi.ArgumentList.Add(command[i]);
        psi.Environment["KVMFS_SOCKET"] = socketPath;
        psi.UseShellExecute = false;
        return psi;
    }
}
