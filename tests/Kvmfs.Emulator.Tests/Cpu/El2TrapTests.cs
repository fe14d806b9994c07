using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Tests.Cpu;

public unsafe class El2TrapTests
{
    sealed class RecordingHyp : IHypervisor
    {
        public readonly List<(ExceptionKind Kind, uint Esr, ulong Elr, ulong Spsr)> Traps = new();
        public void OnTrap(ArmCpu cpu, ExceptionKind kind, uint esr)
        {
            Traps.Add((kind, esr, cpu.Sys(SysReg.ELR_EL2), cpu.Sys(SysReg.SPSR_EL2)));
            Assert.Equal(2u, cpu.S->CurrentEl);
            // Emulate a trapped instruction: skip it, as KVM does for WFI or a sysreg access.
            if (esr >> 26 != ExceptionClass.Hvc64) cpu.Sys(SysReg.ELR_EL2) += 4;
        }
    }

    [Fact]
    public void HvcWfiAndId3TrapsReachTheHypervisorWithSyndromes()
    {
        // hvc #0x12; wfi; mrs x1, id_aa64pfr0_el1; movz x5,#5; brk #0
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(FlatMemory.Base, 0xD4000242, 0xD503207F, 0xD5380401, 0xD28000A5, 0xD4200000);
        using var cpu = new ArmCpu(mem);
        var hyp = new RecordingHyp();
        cpu.Hypervisor = hyp;
        cpu.Sys(SysReg.HCR_EL2) = ArmCpu.Hcr.RW | ArmCpu.Hcr.TWI | ArmCpu.Hcr.TID3;
        cpu.Sys(SysReg.VBAR_EL1) = FlatMemory.Base + 0x1000;
        cpu.S->PC = FlatMemory.Base;  // EL1h after reset
        cpu.Run(4);
        Assert.Equal(3, hyp.Traps.Count);
        Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.Hvc64, 0x12), hyp.Traps[0].Esr);
        Assert.Equal(FlatMemory.Base + 4, hyp.Traps[0].Elr);          // HVC: preferred return is the next instruction
        Assert.Equal(0x3C5UL, hyp.Traps[0].Spsr);                     // EL1h, DAIF masked
        Assert.Equal(ExceptionClass.WfiWfe, hyp.Traps[1].Esr >> 26);
        Assert.Equal(FlatMemory.Base + 4, hyp.Traps[1].Elr);
        uint iss = hyp.Traps[2].Esr & 0x1FFFFFF;
        Assert.Equal(ExceptionClass.SysRegTrap, hyp.Traps[2].Esr >> 26);
        Assert.Equal(1u, iss & 1);                                    // direction: read (MRS)
        Assert.Equal(1u, (iss >> 5) & 31);                            // Rt = x1
        Assert.Equal(3u, (iss >> 20) & 3);                            // Op0
        Assert.Equal(4u, (iss >> 1) & 15);                            // CRm
        Assert.Equal(5UL, cpu.S->X[5]);
        Assert.Equal(1u, cpu.S->CurrentEl);
    }
}
