using System.CommandLine;

namespace Kvmfs.Daemon.Cli;

/// <summary>kvmfs user (placeholder until its issue lands it).</summary>
public static class UserCommand
{
    public static Command Create()
    {
        var command = new Command("user", "Not built yet.");
        command.SetAction(_ => { Console.Error.WriteLine("kvmfs user: not built yet"); return 1; });
        return command;
    }
}
