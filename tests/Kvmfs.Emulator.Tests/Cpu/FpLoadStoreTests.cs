using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Tests.Cpu;

public unsafe class FpLoadStoreTests
{
    [Fact]
    public void SimdAndFpRegisterLoadsAndStoresInEachAddressingMode()
    {
        // movz x0,#0x1122; movz x1,#0x3344; add x2,sp,#0; stp x0,x1,[x2]; ldr q3,[x2]; str q3,[x2,#32]!;
        // ldr d4,[x2],#8; ldp s5,s6,[sp]; ldur h7,[x2,#-8]; mov x9,#1; ldr b8,[sp,x9]; svc #0
        uint[] program = { 0xd2822440, 0xd2866881, 0x910003e2, 0xa9000440, 0x3dc00043, 0x3c820c43, 0xfc408444, 0x2d401be5,
            0x7c5f8047, 0xd2800029, 0x3c696be8, 0xd4000001 };
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(FlatMemory.Base, program);
        using var cpu = new ArmCpu(mem);
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20; // FPEN: no trap at EL0
        cpu.SetPstate(Pstate.EL0t);
        cpu.S->PC = FlatMemory.Base;
        ulong sp = FlatMemory.Base + 0x8000;
        cpu.S->X[31] = sp;
        for (uint v = 0; v < 32; v++) cpu.SetV(v, UInt128.MaxValue); // loads must zero the upper bits
        cpu.Run(1000);
        Assert.Equal(ExceptionClass.Svc64, sup.Exceptions.Single().Esr >> 26);
        Assert.Equal(new UInt128(0x3344, 0x1122), cpu.GetV(3));
        Assert.Equal(sp + 40, cpu.S->X[2]);
        Assert.Equal((UInt128)0x1122, cpu.GetV(4));
        Assert.Equal((UInt128)0x1122, cpu.GetV(5));
        Assert.Equal((UInt128)0, cpu.GetV(6));
        Assert.Equal((UInt128)0x1122, cpu.GetV(7));
        Assert.Equal((UInt128)0x11, cpu.GetV(8));
        Assert.Equal(0x3344UL, *(ulong*)(mem.Host + 0x8000 + 40));
    }

    [Fact]
    public void FpAccessTrapsWhenCpacrDisablesIt()
    {
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(FlatMemory.Base, 0x3dc00043); // ldr q3, [x2]
        using var cpu = new ArmCpu(mem);
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        cpu.SetPstate(Pstate.EL0t);
        cpu.S->PC = FlatMemory.Base;
        cpu.S->X[2] = FlatMemory.Base;
        cpu.Run(10);
        Assert.Equal(ExceptionClass.FpAccess, sup.Exceptions.Single().Esr >> 26);
        Assert.Equal(FlatMemory.Base, sup.Exceptions[0].Pc);
    }
}
