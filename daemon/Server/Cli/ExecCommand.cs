using System.CommandLine;

namespace Kvmfs.Daemon.Cli;

/// <summary>kvmfs exec (placeholder until its issue lands it).</summary>
public static class ExecCommand
{
    public static Command Create()
    {
        var command = new Command("exec", "Not built yet.");
        command.SetAction(_ => { Console.Error.WriteLine("kvmfs exec: not built yet"); return 1; });
        return command;
    }
}
