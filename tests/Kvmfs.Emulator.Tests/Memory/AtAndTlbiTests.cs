using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;
using static Kvmfs.Emulator.Tests.Memory.PageTables;

namespace Kvmfs.Emulator.Tests.Memory;

/// <summary>AT instructions (PAR_EL1) and TLB maintenance, executed as real instructions on the CPU.</summary>
public unsafe class AtAndTlbiTests
{
    const ulong Va = 0x0000_0040_0000_0000, Code = MmuRig.RamBase + 0x1000, CodeVa = 0xFFFF_0000_0000_1000;

    /// <summary>EL1 with the MMU on: code at CodeVa (TTBR1), test data through TTBR0.</summary>
    static (MmuRig Rig, PageTables Lo, PageTables Hi) Setup(int g = 12)
    {
        var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(g);
        hi.Map(CodeVa, Code, 3, AF | SH_Inner);
        rig.Cpu.Sys(SysReg.VBAR_EL1) = CodeVa + 0x800;  // exception vectors on the code page
        return (rig, lo, hi);
    }

    static void Exec(MmuRig rig, params uint[] insns)
    {
        rig.Code(Code, insns);
        rig.Cpu.FlushDecodedBlocks();
        rig.Cpu.S->PC = rig.Cpu.S->CurrentEl == 2 ? Code : CodeVa;
        for (int i = 0; i < insns.Length; i++) rig.Cpu.Step();
    }

    static uint AtInsn(uint op1, uint op2, uint rt) => A64.Sys(op1, 7, 8, op2, rt);

    [Fact]
    public void AtS1E1RReportsPhysicalAddressAndAttributes()
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        lo.Map(Va, MmuRig.RamBase + 0x5000, 3, AF | 1UL << 2 | 2UL << 8);   // AttrIndx 1 (Device-nGnRE), outer shareable
        rig.Cpu.S->X[1] = Va + 0x123;
        Exec(rig, AtInsn(0, 0, 1), A64.Mrs("PAR_EL1", 2));
        ulong par = rig.Cpu.S->X[2];
        Assert.Equal(0UL, par & 1);
        Assert.Equal(MmuRig.RamBase + 0x5000, par & 0x0000_FFFF_FFFF_F000UL);
        Assert.Equal(0x04UL, par >> 56);            // MAIR_EL1 attr1
        Assert.Equal(2UL, (par >> 7) & 3);          // SH
    }

    [Theory]
    [InlineData(2u, 0x0Fu)]    // AT S1E0R on an EL1-only page: permission fault, level 3
    [InlineData(1u, 0x0Fu)]    // AT S1E1W on a read-only page
    public void AtReportsFaultsInPar(uint op2, uint fst)
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        lo.Map(Va, MmuRig.RamBase + 0x5000, 3, AF | AP_RO);
        rig.Cpu.S->X[1] = Va;
        Exec(rig, AtInsn(0, op2, 1));
        ulong par = rig.Cpu.Sys(SysReg.PAR_EL1);
        Assert.Equal(1UL, par & 1);
        Assert.Equal(fst, (uint)(par >> 1) & 0x3F);
        Assert.Equal(0UL, (par >> 9) & 1);          // S: stage 1
        Assert.Equal(1u, rig.Cpu.S->CurrentEl);     // no exception was taken
    }

    [Fact]
    public void AtTranslationFaultLevelAndUnallocatedOp()
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        rig.Cpu.S->X[1] = Va;                        // nothing mapped: level 0 descriptor invalid
        Exec(rig, AtInsn(0, 0, 1));
        Assert.Equal(1UL | 0x04UL << 1 | 1UL << 11, rig.Cpu.Sys(SysReg.PAR_EL1));
        Exec(rig, AtInsn(0, 4, 1));                  // op1=0 op2=4 is unallocated: UNDEFINED
        Assert.Equal(0UL, rig.Cpu.Sys(SysReg.ESR_EL1) >> 26);
        Assert.Equal(CodeVa + 0x800 + 0x200, rig.Cpu.S->PC);
    }

    [Fact]
    public void AtS12E1AtEl2WalksBothStagesAndReportsStage2FaultsInPar()
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp();
        var s2 = rig.Stage2(12, hyp);
        s2.Map(MmuRig.RamBase, MmuRig.RamBase, 1);
        var (lo, _) = rig.Stage1(12);
        const ulong ipa = 0x77_0000_0000;
        lo.Map(Va, ipa, 3);
        s2.Map(ipa, MmuRig.RamBase + 0x6000, 3);
        rig.Cpu.SetElAndSpSel(2, 1);                 // the EL2 regime: MMU off, code at its PA
        rig.Cpu.S->X[1] = Va + 8;
        Exec(rig, AtInsn(4, 4, 1), A64.Mrs("PAR_EL1", 2), AtInsn(0, 0, 1), A64.Mrs("PAR_EL1", 3));
        Assert.Equal(MmuRig.RamBase + 0x6000, rig.Cpu.S->X[2] & 0x0000_FFFF_FFFF_F000UL);   // S12E1R: PA
        Assert.Equal(ipa, rig.Cpu.S->X[3] & 0x0000_FFFF_FFFF_F000UL);                     // S1E1R: IPA
        // Stage 2 loses the data page: S12E1R reports a stage-2 fault (S=1) in PAR, no exception.
        rig.U64(s2.Slot(ipa, 3)) = 0;
        Exec(rig, AtInsn(4, 4, 1));
        ulong par = rig.Cpu.Sys(SysReg.PAR_EL1);
        Assert.Equal(1UL, par & 1);
        Assert.Equal(0x07UL, (par >> 1) & 0x3F);
        Assert.Equal(1UL, (par >> 9) & 1);
        Assert.Equal(0UL, (par >> 8) & 1);
        Assert.Empty(hyp.Traps);
        // The stage-1 root unreachable at stage 2: PTW=1 too.
        rig.Set("TTBR0_EL1", 0x66_0000_0000);
        Exec(rig, AtInsn(4, 4, 1));
        par = rig.Cpu.Sys(SysReg.PAR_EL1);
        Assert.Equal(1UL | 1UL << 8 | 1UL << 9, par & (1UL | 1UL << 8 | 1UL << 9));
    }

    [Fact]
    public void AtS1E1AtEl1WithStage2FaultOnTheWalkTrapsToEl2WithS1ptwAndCm()
    {
        var (rig, lo, hi) = Setup();
        using var _r = rig;
        var hyp = new MmioHyp();
        hyp.OnOther = (cpu, t) => cpu.Sys(SysReg.ELR_EL2) += 4;
        var s2 = rig.Stage2(12, hyp);
        s2.Map(MmuRig.RamBase, MmuRig.RamBase, 1);
        rig.Set("TTBR0_EL1", 0x66_0000_0000);
        rig.Cpu.S->X[1] = Va;
        Exec(rig, AtInsn(0, 1, 1));
        var t = Assert.Single(hyp.Traps);
        Assert.Equal(ExceptionClass.DataAbortLower, t.Esr >> 26);
        Assert.Equal(1u, t.Esr >> 7 & 1);           // S1PTW
        Assert.Equal(1u, t.Esr >> 8 & 1);           // CM: from an AT instruction
        Assert.Equal(0x66_0000_0000UL >> 12 << 4, t.Hpfar);
        Assert.Equal(Va, t.Far);
    }

    public static TheoryData<string, uint, uint, uint, bool> Tlbis() => new()
    {
        // name, op1, CRm, op2, executed at EL2
        { "VMALLE1IS", 0, 3, 0, false }, { "VAE1IS", 0, 3, 1, false }, { "ASIDE1IS", 0, 3, 2, false },
        { "VAAE1IS", 0, 3, 3, false }, { "VALE1IS", 0, 3, 5, false }, { "VAALE1IS", 0, 3, 7, false },
        { "VMALLE1", 0, 7, 0, false }, { "VAE1", 0, 7, 1, false }, { "ASIDE1", 0, 7, 2, false },
        { "VAAE1", 0, 7, 3, false }, { "VALE1", 0, 7, 5, false }, { "VAALE1", 0, 7, 7, false },
        { "ALLE1IS", 4, 3, 4, true }, { "VMALLS12E1IS", 4, 3, 6, true }, { "ALLE1", 4, 7, 4, true },
        { "VMALLS12E1", 4, 7, 6, true }, { "ALLE2", 4, 7, 0, true }, { "ALLE2IS", 4, 3, 0, true },
    };

    [Theory, MemberData(nameof(Tlbis))]
    public void TlbiMakesAChangedDescriptorVisible(string name, uint op1, uint crm, uint op2, bool atEl2)
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        rig.Cpu.Hypervisor = new MmioHyp();
        ulong pageA = MmuRig.RamBase + 0x7000, pageB = MmuRig.RamBase + 0x8000;
        rig.U64(pageA) = 0xAAAA; rig.U64(pageB) = 0xBBBB;
        ulong slot = lo.Map(Va, pageA, 3, AF | nG);
        Assert.True(rig.Cpu.Read64(Va, out ulong v));
        Assert.Equal(0xAAAAUL, v);
        rig.U64(slot) = pageB | AF | nG | Valid | TableOrPage;
        Assert.True(rig.Cpu.Read64(Va, out v));
        Assert.Equal(0xAAAAUL, v);                     // stale until TLB maintenance: architecturally allowed
        // Xt: VA[55:12] in bits [43:0], ASID (TTBR0's: 0x12) in [63:48].
        rig.Cpu.S->X[4] = (Va >> 12) | 0x12UL << 48;
        if (atEl2) rig.Cpu.SetElAndSpSel(2, 1);
        Exec(rig, A64.Sys(op1, 8, crm, op2, 4));
        if (atEl2) rig.Cpu.SetElAndSpSel(1, 1);
        Assert.True(rig.Cpu.Read64(Va, out v), name);
        Assert.Equal(0xBBBBUL, v);
    }

    [Fact]
    public void TtbrAndAsidChangeSwitchesAddressSpace()
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        ulong pageA = MmuRig.RamBase + 0x7000, pageB = MmuRig.RamBase + 0x8000;
        rig.U64(pageA) = 1; rig.U64(pageB) = 2;
        lo.Map(Va, pageA, 3, AF | nG);
        var other = new PageTables(rig, 12, 48, false);
        other.Map(Va, pageB, 3, AF | nG);
        // ldr x0,[x1]; msr ttbr0_el1,x2; isb; ldr x3,[x1]
        rig.Cpu.S->X[1] = Va;
        rig.Cpu.S->X[2] = other.Root | 0x34UL << 48;
        Exec(rig, A64.Mem(A64.LdrX, 0, 1), A64.Msr("TTBR0_EL1", 2), A64.Isb, A64.Mem(A64.LdrX, 3, 1));
        Assert.Equal(1UL, rig.Cpu.S->X[0]);
        Assert.Equal(2UL, rig.Cpu.S->X[3]);
    }

    [Fact]
    public void Stage2ChangeIsSeenAfterIpas2e1AndVmalle1()
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp();
        var s2 = rig.Stage2(12, hyp);
        s2.Map(MmuRig.RamBase, MmuRig.RamBase, 1);
        const ulong ipa = 0x77_0000_0000;
        ulong slot = s2.Map(ipa, MmuRig.RamBase + 0x7000, 3);
        rig.U64(MmuRig.RamBase + 0x7000) = 7; rig.U64(MmuRig.RamBase + 0x8000) = 8;
        Assert.True(rig.Cpu.Read64(ipa, out ulong v));
        Assert.Equal(7UL, v);
        rig.U64(slot) = (MmuRig.RamBase + 0x8000) | S2_R | S2_W | AF | S2_Normal | Valid | TableOrPage;
        rig.Cpu.SetElAndSpSel(2, 1);
        rig.Cpu.S->X[4] = ipa >> 12;
        Exec(rig, A64.Sys(4, 8, 4, 1, 4), A64.Sys(0, 8, 7, 0, 31));   // TLBI IPAS2E1, x4; TLBI VMALLE1
        rig.Cpu.SetElAndSpSel(1, 1);
        Assert.True(rig.Cpu.Read64(ipa, out v));
        Assert.Equal(8UL, v);
    }
}
