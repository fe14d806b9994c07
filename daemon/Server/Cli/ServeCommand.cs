using System.CommandLine;

namespace Kvmfs.Daemon.Cli;

/// <summary>kvmfs serve (placeholder until its issue lands it).</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var command = new Command("serve", "Not built yet.");
        command.SetAction(_ => { Console.Error.WriteLine("kvmfs serve: not built yet"); return 1; });
        return command;
    }
}
