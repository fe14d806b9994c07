using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Tests.Cpu;

public unsafe class StructureLoadStoreTests
{
    [Fact]
    public void Ld1Ld2St1WithPostIndex()
    {
        // add x2,sp,#0; ld1 {v0.16b},[x2],#16; ld2 {v1.4s,v2.4s},[x2]; st1 {v1.8b,v2.8b},[x2],x3; svc #0
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(FlatMemory.Base, 0x910003e2, 0x4cdf7040, 0x4c408841, 0x0c83a041, 0xd4000001);
        byte* stack = mem.Host + 0x8000;
        for (int k = 0; k < 64; k++) stack[k] = (byte)k;
        using var cpu = new ArmCpu(mem);
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20;
        cpu.SetPstate(Pstate.EL0t);
        cpu.S->PC = FlatMemory.Base;
        ulong sp = FlatMemory.Base + 0x8000;
        cpu.S->X[31] = sp;
        cpu.S->X[3] = 100;
        cpu.Run(100);
        Assert.Equal(ExceptionClass.Svc64, sup.Exceptions.Single().Esr >> 26);
        for (int k = 0; k < 16; k++) Assert.Equal((byte)k, cpu.V(0)[k]);
        Assert.Equal(0x13121110u, ((uint*)cpu.V(1))[0]);
        Assert.Equal(0x1B1A1918u, ((uint*)cpu.V(1))[1]);
        Assert.Equal(0x17161514u, ((uint*)cpu.V(2))[0]);
        byte[] expected = { 16, 17, 18, 19, 24, 25, 26, 27, 20, 21, 22, 23, 28, 29, 30, 31 };
        for (int k = 0; k < 16; k++) Assert.Equal(expected[k], stack[16 + k]);
        Assert.Equal(sp + 116, cpu.S->X[2]);
    }
}
