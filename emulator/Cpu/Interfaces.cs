namespace Kvmfs.Emulator.Cpu;

/// <summary>Exception classes (ESR_ELx.EC) the CPU raises.</summary>
public static class ExceptionClass
{
    public const uint Unknown = 0x00, WfiWfe = 0x01, FpAccess = 0x07, IllegalState = 0x0E, Svc64 = 0x15, Hvc64 = 0x16,
        Smc64 = 0x17, SysRegTrap = 0x18, InstructionAbortLower = 0x20, InstructionAbortSame = 0x21, PcAlignment = 0x22,
        DataAbortLower = 0x24, DataAbortSame = 0x25, SpAlignment = 0x26, FpException = 0x2C, SError = 0x2F,
        Brk64 = 0x3C;
}

/// <summary>The asynchronous exception kinds, also the vector slot (offset/0x80) inside a vector group.</summary>
public enum ExceptionKind { Synchronous = 0, Irq = 1, Fiq = 2, SError = 3 }

/// <summary>
/// The hypervisor that EL2 traps go to. A trap does not run EL2 code: the CPU sets ESR_EL2, FAR_EL2,
/// HPFAR_EL2, ELR_EL2 and SPSR_EL2 as the hardware would on entry to EL2, calls <see cref="OnTrap"/>, and
/// when it returns performs the exception return (PC = ELR_EL2, PSTATE = SPSR_EL2). The hyp edits those
/// registers (e.g. ELR_EL2 += 4 to skip an emulated instruction, or injects an exception into EL1).
/// </summary>
public interface IHypervisor
{
    void OnTrap(ArmCpu cpu, ExceptionKind kind, uint esr);
}

/// <summary>
/// User mode: C# code that stands in for the EL1 kernel. Exceptions from EL0 that would go to EL1 call
/// <see cref="OnException"/> instead of the EL1 vectors. On entry PC is the preferred return address
/// (e.g. the instruction after SVC); the handler may change registers and PC, or stop the CPU.
/// </summary>
public interface ISupervisor
{
    void OnException(ArmCpu cpu, uint esr, ulong far);
}

/// <summary>Why <see cref="ArmCpu.Run"/> returned.</summary>
public enum StopReason { StopRequested, InstructionLimit, WaitForInterrupt }
