using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Tests.Cpu;

public unsafe class CpuBasicsTests
{
    const ulong Code = FlatMemory.Base;

    static (ArmCpu, FlatMemory, RecordingSupervisor) El0Machine(params uint[] program)
    {
        var mem = new FlatMemory();
        mem.Load(Code, program);
        var cpu = new ArmCpu(mem);
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        cpu.SetPstate(Pstate.EL0t);
        cpu.S->PC = Code;
        cpu.S->X[31] = FlatMemory.Base + 0x8000;
        return (cpu, mem, sup);
    }

    [Fact]
    public void CountingLoopRunsAndSvcReachesSupervisor()
    {
        // mov x0, #0; mov x1, #10; loop: add x0, x0, #3; subs x1, x1, #1; b.ne loop; svc #0x42
        var (cpu, mem, sup) = El0Machine(0xD2800000, 0xD2800141, 0x91000C00, 0xF1000421, 0x54FFFFC1, 0xD4000841);
        using (mem) using (cpu)
        {
            cpu.Run(10_000);
            Assert.Equal(30UL, cpu.S->X[0]);
            Assert.Single(sup.Exceptions);
            Assert.Equal(ExceptionClass.Svc64, sup.Exceptions[0].Esr >> 26);
            Assert.Equal(0x42u, sup.Exceptions[0].Esr & 0xFFFF);
            Assert.Equal(Code + 6 * 4, sup.Exceptions[0].Pc);  // preferred return: after SVC
            Assert.Equal(Pstate.Z | Pstate.C, cpu.S->Nzcv);    // last SUBS 1-1
        }
    }

    [Fact]
    public void StoreThenLoadPairAndRegister()
    {
        // movz x2,#0x1234; movz x3,#0x5678; stp x2,x3,[sp,#-16]!; ldr x4,[sp,#8]; ldp w5,w6,[sp]; svc #0
        var (cpu, mem, sup) = El0Machine(0xD2824682, 0xD28ACF03, 0xA9BF0FE2, 0xF94007E4, 0x29401BE5, 0xD4000001);
        using (mem) using (cpu)
        {
            ulong sp0 = cpu.S->X[31];
            cpu.Run(100);
            Assert.Equal(sp0 - 16, cpu.S->X[31]);
            Assert.Equal(0x5678UL, cpu.S->X[4]);
            Assert.Equal(0x1234UL, cpu.S->X[5]);
            Assert.Equal(0UL, cpu.S->X[6]);
        }
    }

    [Fact]
    public void UnallocatedEncodingIsUndefinedInstruction()
    {
        var (cpu, mem, sup) = El0Machine(0x00000000);
        using (mem) using (cpu)
        {
            cpu.Run(10);
            Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.Unknown, 0), sup.Exceptions[0].Esr);
            Assert.Equal(Code, sup.Exceptions[0].Pc);
        }
    }

    [Fact]
    public void El1RegisterFromEl0IsUndefined_AndLoadOutsideMemoryIsDataAbort()
    {
        // mrs x0, sctlr_el1
        var (cpu, mem, sup) = El0Machine(0xD5381000);
        using (mem) using (cpu)
        {
            cpu.Run(10);
            Assert.Equal(ExceptionClass.Unknown, sup.Exceptions[0].Esr >> 26);
        }
        // movz x1,#0x10, lsl #16 ... ldr x0,[x1]  (0x100000 is outside the flat RAM)
        var (cpu2, mem2, sup2) = El0Machine(0xD2A00201, 0xF9400020);
        using (mem2) using (cpu2)
        {
            cpu2.Run(10);
            uint esr = sup2.Exceptions[0].Esr;
            Assert.Equal(ExceptionClass.DataAbortLower, esr >> 26);
            Assert.Equal(0x04u, esr & 0x3F);                  // translation fault, level 0
            Assert.Equal(0u, (esr >> 6) & 1);                 // WnR = read
            Assert.Equal(1u, (esr >> 24) & 1);                // ISV: single register load
            Assert.Equal(3u, (esr >> 22) & 3);                // SAS = doubleword
            Assert.Equal(0x100000UL, sup2.Exceptions[0].Far);
        }
    }

    [Fact]
    public void ExceptionToEl1UsesVbarAndEretReturns()
    {
        var mem = new FlatMemory();
        using var memScope = mem;
        using var cpu = new ArmCpu(mem);
        // Vector at VBAR+0x400 (lower EL, sync): eret with ELR advanced by the handler: mrs x9, elr_el1; add x9,x9,#0; msr elr_el1,x9; eret
        ulong vbar = FlatMemory.Base + 0x1000;
        mem.Load(vbar + 0x400, 0xD5384029, 0xD5184029, 0xD69F03E0);
        // EL0 code: svc #1; movz x7,#7; brk #0
        mem.Load(Code, 0xD4000021, 0xD28000E7, 0xD4200000);
        cpu.Sys(SysReg.VBAR_EL1) = vbar;
        cpu.SetPstate(Pstate.EL0t);
        cpu.S->PC = Code;
        cpu.Run(4);   // svc, then the 3 handler instructions
        Assert.Equal(Code + 4, cpu.S->PC);
        Assert.Equal(Code + 4, cpu.Sys(SysReg.ELR_EL1));
        cpu.Step();   // movz x7, #7 at EL0
        Assert.Equal(7UL, cpu.S->X[7]);
        Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.Svc64, 1), (uint)cpu.Sys(SysReg.ESR_EL1));
        Assert.Equal(0u, cpu.S->CurrentEl);
    }

    [Fact]
    public void RegistersByNameAndEncoding()
    {
        var mem = new FlatMemory();
        using var memScope = mem;
        using var cpu = new ArmCpu(mem);
        Assert.True(cpu.TrySetRegister("X5", 55));
        Assert.True(cpu.TryGetRegister("x5", out ulong x5));
        Assert.Equal(55UL, x5);
        Assert.True(cpu.TrySetRegister("TTBR0_EL1", 0xABC000));
        Assert.True(cpu.TryGetSysReg(SysRegTable.Encode(3, 0, 2, 0, 0), out ulong ttbr));
        Assert.Equal(0xABC000UL, ttbr);
        Assert.True(cpu.TryGetRegister("PSTATE", out ulong ps));
        Assert.Equal(0x3C5UL, ps);                                  // reset: EL1h, DAIF masked
        Assert.False(cpu.TryGetSysReg(SysRegTable.Encode(3, 7, 15, 15, 7), out _));
    }

    [Theory]
    [InlineData(1u, 0u, 0u, true, 1UL)]
    [InlineData(0u, 0b111100u, 0u, true, 0x5555555555555555UL)]
    [InlineData(0u, 0b000111u, 1u, false, 0x8000007Fu)]
    public void DecodeBitMasks(uint n, uint imms, uint immr, bool is64, ulong expected)
    {
        Assert.True(Handlers.DecodeBitMasks(n, imms, immr, is64, out ulong mask));
        Assert.Equal(expected, mask);
    }
}
