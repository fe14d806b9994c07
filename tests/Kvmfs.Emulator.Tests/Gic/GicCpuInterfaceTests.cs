using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Cpu.Gic;
using Kvmfs.Emulator.Tests.Cpu;
using Kvmfs.Emulator.Tests.Memory;

namespace Kvmfs.Emulator.Tests.Gic;

/// <summary>
/// The GICv3 CPU interface system registers, driven by real MRS/MSR sequences on <see cref="ArmCpu"/>: the virtual
/// interface a hyp programs through ICH_LR/VMCR/HCR (taken as a virtual IRQ at EL1), its traps, and the physical
/// interface against a fake distributor.
/// </summary>
public unsafe class GicCpuInterfaceTests : IDisposable
{
    const ulong Code = FlatMemory.Base, Vbar = FlatMemory.Base + 0x1000, IrqVector = Vbar + 0x280;
    const uint DaifClrI = 0xD50342FF, DaifSetI = 0xD50342DF, Nop = 0xD503201F;
    static uint Hvc(uint imm) => 0xD400_0002u | imm << 5;
    static uint Mrs(string reg, uint rt) => A64.Mrs(reg, rt);
    static uint Msr(string reg, uint rt) => A64.Msr(reg, rt);

    // ICH_LR<n>_EL2 fields.
    const ulong Pending = 1UL << 62, Active = 2UL << 62, Group1 = 1UL << 60, Hw = 1UL << 61, Eoi = 1UL << 41;
    static ulong Lr(ulong state, uint vintid, uint priority, ulong extra = Group1) => state | extra | (ulong)priority << 48 | vintid;
    // ICH_VMCR_EL2: VENG1, VPMR.
    static ulong Vmcr(uint pmr, bool eng1 = true) => (ulong)pmr << 24 | (eng1 ? 2UL : 0);

    /// <summary>Records every trap; HVC stops the CPU (a checkpoint), sysreg traps are skipped as KVM would emulate them.</summary>
    sealed class Hyp : IHypervisor
    {
        public readonly List<(uint Esr, ulong Elr)> Traps = new();
        public void OnTrap(ArmCpu cpu, ExceptionKind kind, uint esr)
        {
            Traps.Add((esr, cpu.Sys(SysReg.ELR_EL2)));
            if (esr >> 26 == ExceptionClass.Hvc64) cpu.RequestStop();
            else if (esr >> 26 == ExceptionClass.SysRegTrap) cpu.Sys(SysReg.ELR_EL2) += 4;
        }
        public uint LastHvc => Traps.Count > 0 && Traps[^1].Esr >> 26 == ExceptionClass.Hvc64 ? Traps[^1].Esr & 0xFFFF : uint.MaxValue;
    }

    sealed class FakeDistributor : IGicCpuInterfaceBackend
    {
        public readonly List<(uint Intid, byte Priority, int Group)> PendingList = new();
        public readonly List<uint> Acked = new(), Deactivated = new();
        public readonly List<(ulong Value, SgiKind Kind)> Sgis = new();
        public bool TryGetHighestPending(ArmCpu cpu, out uint intid, out byte priority, out int group)
        {
            intid = 0; priority = 0xFF; group = 0;
            bool any = false;
            foreach (var p in PendingList)
                if (!any || p.Priority < priority) { (intid, priority, group) = p; any = true; }
            return any;
        }
        public void Acknowledge(ArmCpu cpu, uint intid) { Acked.Add(intid); PendingList.RemoveAll(p => p.Intid == intid); }
        public void Deactivate(ArmCpu cpu, uint intid) => Deactivated.Add(intid);
        public void GenerateSgi(ArmCpu cpu, ulong value, SgiKind kind) => Sgis.Add((value, kind));
    }

    readonly FlatMemory mem = new();
    readonly ArmCpu cpu;
    readonly Hyp hyp = new();

    public GicCpuInterfaceTests()
    {
        cpu = new ArmCpu(mem);
        cpu.Sys(SysReg.VBAR_EL1) = Vbar;
        cpu.S->PC = Code; // EL1h, DAIF masked after reset
    }

    public void Dispose() { cpu.Dispose(); mem.Dispose(); }

    void AsGuestUnderHyp(ulong ichHcr, ulong vmcr)
    {
        cpu.Hypervisor = hyp;
        cpu.Sys(SysReg.HCR_EL2) = ArmCpu.Hcr.RW | ArmCpu.Hcr.IMO | ArmCpu.Hcr.FMO;
        Assert.True(cpu.TrySetRegister("ICH_VMCR_EL2", vmcr));
        Assert.True(cpu.TrySetRegister("ICH_HCR_EL2", ichHcr));
    }

    ulong Reg(string name) { Assert.True(cpu.TryGetRegister(name, out ulong v), name); return v; }
    void SetReg(string name, ulong v) => Assert.True(cpu.TrySetRegister(name, v), name);

    [Fact]
    public void VirtualIrqIsTakenAcknowledgedAndEndedThroughTheListRegisters()
    {
        AsGuestUnderHyp(ichHcr: 1, vmcr: Vmcr(0xF0));
        SetReg("ICH_LR0_EL2", Lr(Pending, 27, 0xA0));
        mem.Load(Code, DaifClrI, Nop, Nop, Hvc(0));
        // IRQ handler: acknowledge, read running priority, checkpoint, end of interrupt, checkpoint.
        mem.Load(IrqVector, Mrs("ICC_IAR1_EL1", 1), Mrs("ICC_RPR_EL1", 2), Hvc(1), Msr("ICC_EOIR1_EL1", 1), Mrs("ICC_RPR_EL1", 3), Hvc(2));

        cpu.Run(100);
        Assert.Equal(1u, hyp.LastHvc);
        Assert.Equal(IrqVector + 12, hyp.Traps[^1].Elr);                 // reached through the IRQ vector (current EL, SPx)
        Assert.Equal(Code + 4, cpu.Sys(SysReg.ELR_EL1));                 // taken right after the unmasking MSR
        Assert.Equal(0x345UL, cpu.Sys(SysReg.SPSR_EL1));                 // EL1h with I clear at the time
        Assert.Equal(1u, cpu.S->CurrentEl);
        Assert.Equal(27UL, cpu.S->X[1]);
        Assert.Equal(0xA0UL, cpu.S->X[2]);
        Assert.Equal(Active, Reg("ICH_LR0_EL2") & (3UL << 62));
        Assert.Equal(1UL << (0xA0 >> 3), Reg("ICH_AP1R0_EL2"));
        Assert.Equal(0UL, Reg("ICH_ELRSR_EL2") & 1);                     // LR0 in use

        cpu.Run(100);
        Assert.Equal(2u, hyp.LastHvc);
        Assert.Equal(0UL, Reg("ICH_LR0_EL2") >> 62);                     // inactive
        Assert.Equal(0UL, Reg("ICH_AP1R0_EL2"));
        Assert.Equal(0xFFUL, cpu.S->X[3]);                               // idle running priority
        Assert.Equal(0xFUL, Reg("ICH_ELRSR_EL2"));                       // every LR free again
        Assert.Equal(0UL, Reg("ICH_EISR_EL2"));                          // no EOI maintenance was asked for
    }

    [Fact]
    public void PriorityMaskEnableAndPstateDecideWhetherTheVirtualIrqIsTaken()
    {
        AsGuestUnderHyp(ichHcr: 1, vmcr: Vmcr(0x80));                    // VPMR 0x80 masks priority 0xA0
        SetReg("ICH_LR0_EL2", Lr(Pending, 40, 0xA0));
        cpu.S->X[9] = 0xF0;
        mem.Load(Code, DaifClrI, Nop, Mrs("ICC_IAR1_EL1", 1), Mrs("ICC_HPPIR1_EL1", 2), Hvc(0),
            Msr("ICC_PMR_EL1", 9), Nop, Hvc(3));
        mem.Load(IrqVector, Mrs("ICC_IAR1_EL1", 4), Hvc(1));

        cpu.Run(100);
        Assert.Equal(0u, hyp.LastHvc);                                   // masked by the priority mask: no IRQ
        Assert.Equal(1023UL, cpu.S->X[1]);                               // and nothing to acknowledge
        Assert.Equal(40UL, cpu.S->X[2]);                                 // though it is the highest pending
        Assert.Equal(Pending, Reg("ICH_LR0_EL2") & (3UL << 62));

        cpu.Run(100);                                                    // the guest raises its PMR: taken at once
        Assert.Equal(1u, hyp.LastHvc);
        Assert.Equal(Code + 24, cpu.Sys(SysReg.ELR_EL1));                // right after MSR ICC_PMR_EL1
        Assert.Equal(0xF0UL << 24, Reg("ICH_VMCR_EL2") & (0xFFUL << 24)); // ICV_PMR is VMCR.VPMR
        Assert.Equal(40UL, cpu.S->X[4]);

        // Same priority as the active one: does not preempt; DAIF.I and a disabled group also hold it off.
        SetReg("ICH_LR1_EL2", Lr(Pending, 41, 0xA0));
        cpu.S->PC = Code + 28; // hvc #3 after unmasking again
        mem.Load(Code + 28, DaifClrI, Nop, Hvc(3));
        cpu.Run(100);
        Assert.Equal(3u, hyp.LastHvc);
        // A higher priority preempts.
        SetReg("ICH_LR2_EL2", Lr(Pending, 42, 0x40));
        mem.Load(Code + 40, DaifSetI, Nop, Hvc(4), DaifClrI, Nop, Hvc(5));
        cpu.S->PC = Code + 40;
        cpu.S->Daif = 0x3C0; // as the hyp's ERET would leave it had the guest masked IRQs
        cpu.Run(100);
        Assert.Equal(4u, hyp.LastHvc);                                   // masked by PSTATE.I
        cpu.Run(100);
        Assert.Equal(1u, hyp.LastHvc);                                   // unmasked: preempted
        Assert.Equal(42UL, cpu.S->X[4]);
        Assert.Equal(Active, Reg("ICH_LR2_EL2") & (3UL << 62));

        // Group 1 disabled in VMCR: nothing is signalled, IAR1 reads spurious.
        SetReg("ICH_VMCR_EL2", Vmcr(0xF0, eng1: false));
        SetReg("ICH_LR3_EL2", Lr(Pending, 43, 0x00));
        mem.Load(Code + 64, DaifClrI, Mrs("ICC_IAR1_EL1", 5), Hvc(6));
        cpu.S->PC = Code + 64;
        cpu.Run(100);
        Assert.Equal(6u, hyp.LastHvc);
        Assert.Equal(1023UL, cpu.S->X[5]);
    }

    [Fact]
    public void MaintenanceStatusFollowsTheListRegisters()
    {
        AsGuestUnderHyp(ichHcr: 1 | 2 /* UIE */, vmcr: Vmcr(0xF0) | 1UL << 9 /* VEOIM: DIR deactivates */);
        var gic = new FakeDistributor();
        cpu.GicBackend = gic;
        SetReg("ICH_LR0_EL2", Lr(Pending, 33, 0x50, Group1 | Eoi));               // software, wants EOI maintenance
        SetReg("ICH_LR1_EL2", Lr(Pending, 34, 0x60, Group1 | Hw | 30UL << 32));  // hardware-backed, pINTID 30
        Assert.Equal(0b1100UL, Reg("ICH_ELRSR_EL2"));
        Assert.Equal(0UL, Reg("ICH_EISR_EL2"));
        Assert.Equal(0UL, Reg("ICH_MISR_EL2"));                                  // two valid LRs: no underflow
        Assert.Equal(4u << 29 | 4u << 26 | 3u, (uint)Reg("ICH_VTR_EL2"));

        mem.Load(Code, Mrs("ICC_IAR1_EL1", 1), Mrs("ICC_IAR1_EL1", 2), Msr("ICC_EOIR1_EL1", 1), Msr("ICC_DIR_EL1", 1), Hvc(0),
            Msr("ICC_EOIR1_EL1", 2), Hvc(1), Msr("ICC_DIR_EL1", 2), Hvc(2));
        cpu.Run(100);
        Assert.Equal(0u, hyp.LastHvc);
        Assert.Equal(33UL, cpu.S->X[1]);
        Assert.Equal(1023UL, cpu.S->X[2]);                     // 34 (0x60) cannot preempt the active 0x50
        Assert.Equal(1UL, Reg("ICH_EISR_EL2"));                // LR0 done and owes its EOI maintenance
        Assert.Equal(0b1100UL, Reg("ICH_ELRSR_EL2"));
        Assert.Equal(1UL | 2UL, Reg("ICH_MISR_EL2"));           // EOI, and underflow (one valid LR left)
        Assert.True(cpu.GicMaintenanceInterrupt);

        // The hyp reclaims LR0; the guest then takes 34.
        SetReg("ICH_LR0_EL2", 0);
        mem.Load(Code + 20, Mrs("ICC_IAR1_EL1", 2), Msr("ICC_EOIR1_EL1", 2), Hvc(1), Msr("ICC_DIR_EL1", 2), Hvc(2));
        cpu.S->PC = Code + 20;
        cpu.Run(100);
        Assert.Equal(34UL, cpu.S->X[2]);
        Assert.Empty(gic.Deactivated);                         // VEOIM: EOIR only dropped the priority
        Assert.Equal(Active, Reg("ICH_LR1_EL2") & (3UL << 62));
        cpu.Run(100);
        Assert.Equal(2u, hyp.LastHvc);
        Assert.Equal(new uint[] { 30 }, gic.Deactivated);      // DIR of a HW LR deactivates the physical interrupt
        Assert.Equal(0xFUL, Reg("ICH_ELRSR_EL2"));

        // EOI of an INTID in no LR: counted in ICH_HCR_EL2.EOIcount (and LRENP with LRENPIE).
        SetReg("ICH_HCR_EL2", 1 | 4);
        SetReg("ICH_VMCR_EL2", Vmcr(0xF0));
        cpu.S->X[3] = 99;
        mem.Load(Code + 40, Msr("ICC_EOIR1_EL1", 3), Hvc(3));
        cpu.S->PC = Code + 40;
        cpu.Run(100);
        Assert.Equal(1UL, Reg("ICH_HCR_EL2") >> 27);
        Assert.Equal(4UL, Reg("ICH_MISR_EL2") & 4);
    }

    [Fact]
    public void Tall1TrapsGroup1AccessesToEl2WithTheSysregSyndrome()
    {
        AsGuestUnderHyp(ichHcr: 1 | 1 << 12 /* TALL1 */, vmcr: Vmcr(0xF0));
        SetReg("ICH_LR0_EL2", Lr(Pending, 27, 0xA0));
        cpu.S->X[5] = 0x1234;
        mem.Load(Code, Mrs("ICC_IAR1_EL1", 5), Mrs("ICC_PMR_EL1", 6), Msr("ICC_SGI1R_EL1", 7), Hvc(0));
        cpu.Run(100);
        Assert.Equal(0u, hyp.LastHvc);
        Assert.Equal(3, hyp.Traps.Count);
        // MRS ICC_IAR1_EL1 (3,0,12,12,0), Rt=5, read.
        uint iss = 3u << 20 | 0u << 17 | 0u << 14 | 12u << 10 | 5u << 5 | 12u << 1 | 1;
        Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.SysRegTrap, iss), hyp.Traps[0].Esr);
        Assert.Equal(Code, hyp.Traps[0].Elr);
        Assert.Equal(0x1234UL, cpu.S->X[5]);                   // not written: the hyp emulates it
        Assert.Equal(Pending, Reg("ICH_LR0_EL2") & (3UL << 62));
        Assert.Equal(0xF0UL, cpu.S->X[6]);                     // PMR is common: not trapped by TALL1
        // SGI writes under IMO are the hyp's: MSR ICC_SGI1R_EL1 (3,0,12,11,5), Rt=7, write.
        uint sgiIss = 3u << 20 | 5u << 17 | 12u << 10 | 7u << 5 | 11u << 1;
        Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.SysRegTrap, sgiIss), hyp.Traps[1].Esr);
    }

    [Fact]
    public void PhysicalInterfaceTalksToTheDistributorWithoutImo()
    {
        var gic = new FakeDistributor();
        gic.PendingList.Add((42, 0x60, 1));
        cpu.GicBackend = gic;
        cpu.S->X[0] = 1; cpu.S->X[8] = 0xF0; cpu.S->X[7] = 0x0001_0000_0000_0003UL;
        mem.Load(Code, Mrs("ICC_IAR1_EL1", 10), Msr("ICC_IGRPEN1_EL1", 0), Mrs("ICC_IAR1_EL1", 11), Msr("ICC_PMR_EL1", 8),
            Mrs("ICC_IAR1_EL1", 1), Mrs("ICC_RPR_EL1", 2), Msr("ICC_EOIR1_EL1", 1), Mrs("ICC_RPR_EL1", 3),
            Mrs("ICC_IAR1_EL1", 4), Msr("ICC_SGI1R_EL1", 7), Mrs("ICC_SRE_EL1", 5), Mrs("ICC_CTLR_EL1", 6));
        cpu.Run(12);
        Assert.Equal(Code + 48, cpu.S->PC);
        Assert.Equal(1023UL, cpu.S->X[10]);                    // group 1 disabled
        Assert.Equal(1023UL, cpu.S->X[11]);                    // PMR 0 masks everything
        Assert.Equal(42UL, cpu.S->X[1]);
        Assert.Equal(0x60UL, cpu.S->X[2]);
        Assert.Equal(0xFFUL, cpu.S->X[3]);
        Assert.Equal(1023UL, cpu.S->X[4]);
        Assert.Equal(new uint[] { 42 }, gic.Acked);
        Assert.Equal(new uint[] { 42 }, gic.Deactivated);      // EOImode 0: EOIR deactivates
        Assert.Equal((0x0001_0000_0000_0003UL, SgiKind.Group1), Assert.Single(gic.Sgis));
        Assert.Equal(1UL, cpu.S->X[5] & 1);                    // SRE RAO
        Assert.Equal(4UL, (cpu.S->X[6] >> 8) & 7);             // PRIbits: 5 bits
    }

    [Fact]
    public void WithoutABackendNothingIsPending()
    {
        cpu.S->X[0] = 1; cpu.S->X[8] = 0xFF;
        mem.Load(Code, Msr("ICC_IGRPEN1_EL1", 0), Msr("ICC_PMR_EL1", 8), Mrs("ICC_IAR1_EL1", 1), Mrs("ICC_HPPIR1_EL1", 2),
            Mrs("ICC_PMR_EL1", 3), Msr("ICC_EOIR1_EL1", 1));
        cpu.Run(6);
        Assert.Equal(Code + 24, cpu.S->PC);
        Assert.Equal(1023UL, cpu.S->X[1]);
        Assert.Equal(1023UL, cpu.S->X[2]);
        Assert.Equal(0xF8UL, cpu.S->X[3]);                     // 5 priority bits implemented
    }

    [Fact]
    public void El0AccessesAndEl1AccessesToIchAreUndefined()
    {
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        cpu.SetPstate(0); // EL0t
        mem.Load(Code, Mrs("ICC_IAR1_EL1", 1));
        cpu.Run(10);
        Assert.Equal(0u, Assert.Single(sup.Exceptions).Esr >> 26);

        cpu.Supervisor = null;
        cpu.SetPstate(0x3C5); // EL1h
        cpu.S->PC = Code + 4;
        mem.Load(Code + 4, Mrs("ICH_LR0_EL2", 1));
        mem.Load(Vbar + 0x200, Hvc(9)); // no hyp: HVC is UNDEFINED at EL1 too; stop on instruction count instead
        cpu.Run(1);
        Assert.Equal(Vbar + 0x200, cpu.S->PC);
        Assert.Equal(0u, (uint)cpu.Sys(SysReg.ESR_EL1) >> 26);
        Assert.Equal(Code + 4, cpu.Sys(SysReg.ELR_EL1));
    }

    [Fact]
    public void Group0ListRegisterIsAVirtualFiqAndTcTrapsCommonRegisters()
    {
        const uint DaifClrIF = 0xD50343FF;
        AsGuestUnderHyp(ichHcr: 1, vmcr: Vmcr(0xF0, eng1: false) | 1 /* VENG0 */);
        SetReg("ICH_LR0_EL2", Lr(Pending, 5, 0x30, extra: 0));           // group 0
        mem.Load(Code, DaifClrIF, Hvc(0));
        mem.Load(Vbar + 0x300, Mrs("ICC_IAR1_EL1", 1), Mrs("ICC_IAR0_EL1", 2), Hvc(1)); // FIQ, current EL with SPx
        cpu.Run(100);
        Assert.Equal(1u, hyp.LastHvc);
        Assert.Equal(1023UL, cpu.S->X[1]);                               // not a group 1 interrupt
        Assert.Equal(5UL, cpu.S->X[2]);
        Assert.Equal(1UL << (0x30 >> 3), Reg("ICH_AP0R0_EL2"));

        // The hyp takes the LR back (a world switch): nothing is signalled any more.
        SetReg("ICH_LR0_EL2", 0);
        SetReg("ICH_AP0R0_EL2", 0);
        SetReg("ICH_HCR_EL2", 1 | 1 << 10);                               // TC
        mem.Load(Code + 0x100, DaifClrIF, Mrs("ICC_PMR_EL1", 3), Mrs("ICC_IAR0_EL1", 4), Hvc(2));
        cpu.S->PC = Code + 0x100;
        cpu.S->X[3] = 77;
        int before = hyp.Traps.Count;
        cpu.Run(100);
        Assert.Equal(2u, hyp.LastHvc);
        Assert.Equal(before + 2, hyp.Traps.Count);                       // the PMR trap, then the HVC
        Assert.Equal(ExceptionClass.SysRegTrap, hyp.Traps[before].Esr >> 26);
        Assert.Equal(Code + 0x104, hyp.Traps[before].Elr);
        Assert.Equal(77UL, cpu.S->X[3]);
        Assert.Equal(1023UL, cpu.S->X[4]);
    }

    [Fact]
    public void IdRegisterAdvertisesTheGicSystemRegisters()
    {
        mem.Load(Code, Mrs("ID_AA64PFR0_EL1", 1));
        cpu.Run(1);
        Assert.Equal(1UL, (cpu.S->X[1] >> 24) & 0xF);
    }
}
