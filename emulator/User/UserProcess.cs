using System.Diagnostics;
using System.Security.Cryptography;
using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.User;

/// <summary>Settings of one user-mode run.</summary>
public sealed class UserOptions
{
    /// <summary>Print every system call with its arguments and result on stderr.</summary>
    public bool TraceSyscalls;
    /// <summary>Log unknown system calls (also on with KVMFS_USER_TRACE=1).</summary>
    public bool TraceUnknown = Environment.GetEnvironmentVariable("KVMFS_USER_TRACE") == "1";
    /// <summary>Where diagnostics go (default: the host's stderr).</summary>
    public TextWriter? Log;
    /// <summary>Stop a runaway program after this many instructions (0 = never), as SIGKILL would.</summary>
    public ulong MaxInstructions;
    /// <summary>The instruction decode table (default: <see cref="A64Table.Default"/>).</summary>
    public DecodeTable? Table;
}

/// <summary>What a finished run reports.</summary>
public readonly record struct UserRunResult(int ExitStatus, ulong Instructions, double WallSeconds, int Signal);

/// <summary>
/// A Linux process on the emulator: a static AArch64 ELF at EL0 on <see cref="ArmCpu"/>, with this
/// class standing in for the EL1 kernel (<see cref="ISupervisor"/>). SVC calls go to
/// <see cref="Syscalls"/>; any other exception from EL0 becomes the signal Linux would deliver,
/// which (no signal handlers are run) ends the process with status 128+signal, like a shell reports it.
/// </summary>
public sealed class UserProcess : ISupervisor, IDisposable
{
    public readonly UserAddressSpace Memory;
    public readonly ArmCpu Cpu;
    public readonly FdTable Fds = new();
    public readonly UserOptions Options;
    public readonly Syscalls Syscalls;
    public readonly string ProgramPath;
    public readonly int Pid = Environment.ProcessId;

    public bool Exited { get; private set; }
    public int ExitStatus { get; private set; }
    public int TerminatingSignal { get; private set; }

    public const int SIGILL = 4, SIGTRAP = 5, SIGABRT = 6, SIGBUS = 7, SIGFPE = 8, SIGKILL = 9, SIGSEGV = 11, SIGPIPE = 13;

    /// <summary>Loads <paramref name="path"/> and prepares the CPU at its entry point. The three host fds
    /// become the guest's 0, 1 and 2 (duplicated: the caller keeps its own).</summary>
    public UserProcess(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp,
        int stdinFd = 0, int stdoutFd = 1, int stderrFd = 2, UserOptions? options = null)
    {
        Options = options ?? new UserOptions();
        ProgramPath = Path.GetFullPath(path);
        Memory = new UserAddressSpace();
        try
        {
            Cpu = new ArmCpu(Memory, 0, Options.Table);
            Memory.Cpu = Cpu;
            Cpu.Supervisor = this;
            foreach (int fd in new[] { stdinFd, stdoutFd, stderrFd })
            {
                int dup = Libc.dup(fd);
                Fds.Add(dup < 0 ? OpenDevNull() : dup);
            }

            LoadedProgram program = ElfLoader.Load(Memory, path);
            Memory.BrkStart = Memory.BrkCurrent = program.BrkStart;
            if (!Memory.Map(UserAddressSpace.StackTop - UserAddressSpace.StackSize, UserAddressSpace.StackSize,
                    Kvmfs.Emulator.Memory.PagePerms.Read | Kvmfs.Emulator.Memory.PagePerms.Write))
                throw new InvalidOperationException("cannot map the stack");
            Span<byte> random = stackalloc byte[16];
            RandomNumberGenerator.Fill(random);
            ulong sp = InitialStack.Build(Memory, UserAddressSpace.StackTop, program, argv, envp, path,
                InitialStack.HwcapFromIdRegisters(Cpu), random);
            PrepareCpu(program.Entry, sp);
            Syscalls = new Syscalls(this);
        }
        catch
        {
            Cpu?.Dispose();
            Memory.Dispose();
            Fds.Dispose();
            throw;
        }
    }

    /// <summary>For the rare caller without standard descriptors.</summary>
    static unsafe int OpenDevNull()
    {
        fixed (byte* p = "/dev/null\0"u8) return Libc.openat(Libc.AT_FDCWD, p, 2, 0);
    }

    /// <summary>The EL1 setup Linux performs before the first return to EL0.</summary>
    unsafe void PrepareCpu(ulong entry, ulong sp)
    {
        // SCTLR_EL1 as Linux runs user space: MMU and caches on, EL0 may use CTR_EL0 (UCT), DC ZVA (DZE),
        // cache maintenance by VA (UCI), WFI/WFE (nTWI/nTWE) without trapping.
        Cpu.Sys(SysReg.SCTLR_EL1) |= 1UL << 0 | 1UL << 2 | 1UL << 12 | 1UL << 14 | 1UL << 15 | 1UL << 16 | 1UL << 18 | 1UL << 26;
        Cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20;        // FPEN: FP/AdvSIMD at EL0 and EL1
        Cpu.Sys(SysReg.CNTKCTL_EL1) = 1UL << 1;       // EL0VCTEN: the virtual counter is readable at EL0
        Cpu.SetPstate(Pstate.EL0t);
        for (uint i = 0; i < 31; i++) Cpu.SetX(i, 0);
        Cpu.SetSp(0, sp);
        Cpu.S->PC = entry;
    }

    /// <summary>Runs until the program exits (or dies of a signal); returns its wait status as a shell shows it.</summary>
    public UserRunResult Run()
    {
        var clock = Stopwatch.StartNew();
        ulong limit = Options.MaxInstructions == 0 ? ulong.MaxValue : Options.MaxInstructions;
        while (!Exited)
        {
            if (Cpu.InstructionCount >= limit) { Kill(SIGKILL, $"after the instruction limit ({limit}) at pc=0x{PcNow():x}"); break; }
            Cpu.Run(limit == ulong.MaxValue ? ulong.MaxValue : limit - Cpu.InstructionCount);
        }
        clock.Stop();
        return new UserRunResult(ExitStatus, Cpu.InstructionCount, clock.Elapsed.TotalSeconds, TerminatingSignal);
    }

    /// <summary>One-call entry point for tests and the CLI.</summary>
    public static UserRunResult Run(string path, IReadOnlyList<string> argv, IReadOnlyList<string> envp,
        int stdinFd = 0, int stdoutFd = 1, int stderrFd = 2, UserOptions? options = null)
    {
        using var p = new UserProcess(path, argv, envp, stdinFd, stdoutFd, stderrFd, options);
        return p.Run();
    }

    public void Exit(int status)
    {
        Exited = true;
        ExitStatus = status & 0xFF;
        Cpu.RequestStop();
    }

    /// <summary>Ends the process as the default action of a fatal signal would.</summary>
    public void Kill(int signal, string why)
    {
        Diagnostic($"kvmfs user: {SignalName(signal)} {why}");
        TerminatingSignal = signal;
        Exit(128 + signal);
    }

    public void Diagnostic(string line)
    {
        var w = Options.Log ?? Console.Error;
        w.WriteLine(line);
        w.Flush();
    }

    public unsafe void OnException(ArmCpu cpu, uint esr, ulong far)
    {
        uint ec = esr >> 26;
        ulong pc = cpu.S->PC;
        switch (ec)
        {
            case ExceptionClass.Svc64:
                Syscalls.Dispatch();
                return;
            case ExceptionClass.Unknown:
            case ExceptionClass.SysRegTrap:
            case ExceptionClass.IllegalState:
            case ExceptionClass.FpAccess:
                Kill(SIGILL, $"at pc=0x{pc:x} insn=0x{InsnAt(pc)} (esr=0x{esr:x})");
                return;
            case ExceptionClass.InstructionAbortLower:
            case ExceptionClass.DataAbortLower:
            case ExceptionClass.InstructionAbortSame:
            case ExceptionClass.DataAbortSame:
                bool alignment = (esr & 0x3F) == 0x21;
                Kill(alignment ? SIGBUS : SIGSEGV, $"at pc=0x{pc:x} addr=0x{far:x} insn=0x{InsnAt(pc)} (esr=0x{esr:x})");
                return;
            case ExceptionClass.PcAlignment:
            case ExceptionClass.SpAlignment:
                Kill(SIGBUS, $"at pc=0x{pc:x} addr=0x{far:x} (esr=0x{esr:x})");
                return;
            case ExceptionClass.Brk64:
                Kill(SIGTRAP, $"at pc=0x{pc:x} brk #0x{esr & 0xFFFF:x}");
                return;
            case ExceptionClass.FpException:
                Kill(SIGFPE, $"at pc=0x{pc:x} (esr=0x{esr:x})");
                return;
            default:
                Kill(SIGILL, $"unexpected exception at pc=0x{pc:x} (esr=0x{esr:x})");
                return;
        }
    }

    unsafe ulong PcNow() => Cpu.S->PC;

    unsafe string InsnAt(ulong pc)
    {
        if ((pc & 3) != 0 || Memory.PermsAt(pc) == Kvmfs.Emulator.Memory.PagePerms.None) return "????????";
        return (*(uint*)Memory.Host(pc)).ToString("x8");
    }

    public static string SignalName(int signal) => signal switch
    {
        1 => "SIGHUP", 2 => "SIGINT", 3 => "SIGQUIT", 4 => "SIGILL", 5 => "SIGTRAP", 6 => "SIGABRT", 7 => "SIGBUS",
        8 => "SIGFPE", 9 => "SIGKILL", 10 => "SIGUSR1", 11 => "SIGSEGV", 12 => "SIGUSR2", 13 => "SIGPIPE",
        14 => "SIGALRM", 15 => "SIGTERM", _ => $"signal {signal}",
    };

    public void Dispose()
    {
        Fds.Dispose();
        Cpu.Dispose();
        Memory.Dispose();
    }
}
