using System.CommandLine;
using Kvmfs.Daemon.Cli;

namespace Kvmfs.Daemon;

/// <summary>The kvmfs program: one verb per file under Cli/.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("kvmfs: an arm64 KVM for any Linux box, answered by a C# daemon and an emulated ARMv8-A CPU.");
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ExecCommand.Create());
        root.Subcommands.Add(UserCommand.Create());
        return root.Parse(args).Invoke();
    }
}
