using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Tests.Cpu;

public unsafe class IntegerTests
{
    [Fact]
    public void ArithmeticBitfieldMultiplyExclusivesAndConditionals()
    {
        // Assembled with aarch64-linux-gnu-as from: movz/udiv/msub/lsl/asr/sxtw/movn/clz/cls/umulh/ubfx/extr/
        // ldxr/stxr/ldr/cmp/csinc/ccmp/cset/svc (see the expected values below for the operands).
        uint[] program = { 0xd2800c80, 0xd28000e1, 0x9ac10802, 0x9b018043, 0xd3440c04, 0x937efc85, 0x93407ca6, 0x92800007,
            0xdac01028, 0xdac014e9, 0x9bc77cea, 0xd342100b, 0x93c1100c, 0x910003ed, 0xc85f7dae, 0x910015ce, 0xc80f7dae,
            0xf94001b0, 0xeb01001f, 0x9a81b411, 0xfa471800, 0x9a9f17f2, 0xd4000001 };
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(FlatMemory.Base, program);
        using var cpu = new ArmCpu(mem);
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        cpu.SetPstate(Pstate.EL0t);
        cpu.S->PC = FlatMemory.Base;
        cpu.S->X[31] = FlatMemory.Base + 0x8000;
        cpu.Run(1000);
        Assert.Single(sup.Exceptions);
        ulong[] expected = { 100, 7, 14, 2, 0x4000000000000000, 1, 1, ulong.MaxValue, 61, 63, 0xFFFFFFFFFFFFFFFE, 1,
            0x4000000000000000, FlatMemory.Base + 0x8000, 5, 0, 5, 8, 0 };
        for (int r = 0; r < expected.Length; r++)
            Assert.True(expected[r] == cpu.S->X[r], $"X{r}: expected {expected[r]:X}, got {cpu.S->X[r]:X}");
    }

    [Theory]
    // ccmp w0,#0,#4,ne with Z clear: compares (0 - 0) -> Z,C; with Z set: NZCV = #4.
    [InlineData(0x7a401804u, 0UL, 0u, Pstate.Z | Pstate.C)]
    [InlineData(0x7a401804u, 0UL, Pstate.Z, Pstate.Z)]
    // ccmn x1,#5,#2,eq with Z set: x1 + 5 where x1 = -5 -> Z,C; with Z clear: NZCV = #2 (C).
    [InlineData(0xba450822u, 0xFFFF_FFFF_FFFF_FFFBUL, Pstate.Z, Pstate.Z | Pstate.C)]
    [InlineData(0xba450822u, 0xFFFF_FFFF_FFFF_FFFBUL, 0u, Pstate.C)]
    public void ConditionalCompareImmediate(uint insn, ulong x, uint nzcvIn, uint nzcvOut)
    {
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(FlatMemory.Base, insn);
        using var cpu = new ArmCpu(mem);
        cpu.S->PC = FlatMemory.Base;
        cpu.S->X[0] = x; cpu.S->X[1] = x;
        cpu.S->Nzcv = nzcvIn;
        cpu.Step();
        Assert.Equal(FlatMemory.Base + 4, cpu.S->PC);
        Assert.Equal(nzcvOut, cpu.S->Nzcv);
    }
}
