namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// The seam between the FP/AdvSIMD handlers and the CPU core. Each decode-table handler is a thin
/// wrapper: the core's FP/SIMD access check first (CPACR_EL1.FPEN, CPTR_EL2.TFP; it raises the
/// EC 0x07 trap itself), then the instruction's core on the register state; a core returns false for
/// an unallocated encoding and the wrapper raises Undefined. The cores need only
/// <see cref="CpuState"/>, so they can also be run directly (tests, a future translator).
/// </summary>
internal static unsafe class Guard
{
    public static void Run(ArmCpu cpu, uint insn, delegate*<CpuState*, uint, bool> core)
    {
        if (!cpu.CheckFpEnabled()) return;
        if (!core(cpu.S, insn)) Handlers.Undefined(cpu, insn);
    }
}
