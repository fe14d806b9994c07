using System.CommandLine;
using System.Text;
using Kvmfs.Emulator.User;

namespace Kvmfs.Daemon.Cli;

/// <summary>
/// kvmfs user: runs a static arm64 Linux program at EL0 on the emulator, with a minimal Linux system-call
/// layer in place of a kernel. stdin/stdout/stderr, the environment and the exit status pass through.
/// A debugging and benchmarking aid, and the basis of the differential tests against qemu-aarch64.
/// </summary>
public static class UserCommand
{
    public static Command Create()
    {
        var traceSyscalls = new Option<bool>("--trace-syscalls") { Description = "Print every system call and its result on stderr." };
        var stats = new Option<bool>("--stats") { Description = "At exit print instructions executed, wall seconds and MIPS on stderr." };
        var program = new Argument<string[]>("program") { Description = "The program and its arguments, after --.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("user", "Run a static arm64 Linux program on the emulator (e.g. `kvmfs user --stats -- busybox sha256sum FILE`).");
        command.Options.Add(traceSyscalls);
        command.Options.Add(stats);
        command.Arguments.Add(program);
        command.SetAction(r => Run(r.GetValue(program) ?? [], r.GetValue(traceSyscalls), r.GetValue(stats)));
        return command;
    }

    public static int Run(IReadOnlyList<string> argv, bool traceSyscalls, bool stats)
    {
        if (argv.Count == 0) { Console.Error.WriteLine("kvmfs user: no program given"); return 2; }
        if (!File.Exists(argv[0])) { Console.Error.WriteLine($"kvmfs user: {argv[0]}: no such file"); return 127; }
        var options = new UserOptions { TraceSyscalls = traceSyscalls };
        if (traceSyscalls) options.TraceUnknown = true;
        UserRunResult result;
        try
        {
            using var process = new UserProcess(argv[0], argv, HostEnvironment(), 0, 1, 2, options);
            result = process.Run();
        }
        catch (BadImageFormatException e)
        {
            Console.Error.WriteLine($"kvmfs user: {e.Message}");
            return 126;
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"kvmfs user: {argv[0]}: {e.Message}");
            return 126;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug in the emulator, not in the program: say so plainly instead of a bare stack trace.
            Console.Error.WriteLine($"kvmfs user: internal error: {e}");
            return 125;
        }
        if (stats)
        {
            double mips = result.WallSeconds > 0 ? result.Instructions / result.WallSeconds / 1e6 : 0;
            Console.Error.WriteLine($"kvmfs user: instructions {result.Instructions}, wall {result.WallSeconds:F3} s, {mips:F1} MIPS, exit {result.ExitStatus}");
        }
        return result.ExitStatus;
    }

    /// <summary>The environment in the order the host gave it (as a kernel would pass it on).</summary>
    static List<string> HostEnvironment()
    {
        try
        {
            var raw = File.ReadAllBytes("/proc/self/environ");
            var list = new List<string>();
            int start = 0;
            for (int i = 0; i < raw.Length; i++)
            {
                if (raw[i] != 0) continue;
                if (i > start) list.Add(Encoding.UTF8.GetString(raw, start, i - start));
                start = i + 1;
            }
            return list;
        }
        catch (IOException)
        {
            var list = new List<string>();
            foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables()) list.Add($"{e.Key}={e.Value}");
            return list;
        }
    }
}
