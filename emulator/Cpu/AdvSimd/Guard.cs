namespace Kvmfs.Emulator.Cpu.AdvSimd;

/// <summary>
/// The seam between the FP/AdvSIMD handlers and the CPU core. Each decode-table handler is a thin
/// wrapper: it checks that FP/SIMD is enabled (raising the access trap otherwise), then runs the
/// instruction's core on the register state; a core returns false for an unallocated encoding and
/// the wrapper raises Undefined. The cores need only <see cref="CpuState"/>, so they can also be
/// run directly (tests, a future translator).
/// </summary>
public static unsafe class Guard
{
    internal static void Run(Cpu cpu, uint insn, delegate*<CpuState*, uint, bool> core)
    {
        if (!FpEnabled(cpu, insn)) return;
        if (!core(cpu.State, insn)) Handlers.Undefined(cpu, insn);
    }

    /// <summary>
    /// True when FP/SIMD may execute; otherwise the access trap has been raised.
    /// The trap itself (EC 0x07 to the level <see cref="FpTrapLevel"/> names) is the core's to raise:
    /// until it offers that, FP/SIMD is always enabled, which is what Linux configures anyway.
    /// </summary>
    static bool FpEnabled(Cpu cpu, uint insn) => true;

    /// <summary>
    /// Where an FP/AdvSIMD access from the current EL traps: 0 = no trap, 1 = EL1 (CPACR_EL1.FPEN:
    /// EL0 needs 0b11, EL1 needs 0bx1), 2 = EL2 (CPTR_EL2.TFP, for EL0/EL1). CPACR has priority.
    /// Also what the SIMD&amp;FP loads/stores must check.
    /// </summary>
    public static int FpTrapLevel(CpuState* s)
    {
        uint el = s->CurrentEl;
        if (el >= 2) return (s->Sys[(int)SysReg.CPTR_EL2] & (1u << 10)) != 0 && el == 2 ? 2 : 0;
        ulong fpen = (s->Sys[(int)SysReg.CPACR_EL1] >> 20) & 3;
        if (el == 0 ? fpen != 3 : (fpen & 1) == 0) return 1;
        if ((s->Sys[(int)SysReg.CPTR_EL2] & (1u << 10)) != 0) return 2;
        return 0;
    }
}
