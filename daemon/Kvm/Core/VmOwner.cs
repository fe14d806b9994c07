namespace Kvmfs.Kvm.Core;

/// <summary>The VMM process behind a /dev/kvm fd: shown by the FUSE view and the trace.</summary>
public sealed record VmOwner(int Pid, string CommandLine)
{
    /// <summary>The owner as /proc shows it now; an empty command line when the process cannot be read.</summary>
    public static VmOwner OfProcess(int pid)
    {
        string cmdline = "";
        try { cmdline = File.ReadAllText($"/proc/{pid}/cmdline").TrimEnd('\0').Replace('\0', ' '); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new VmOwner(pid, cmdline);
    }
}
