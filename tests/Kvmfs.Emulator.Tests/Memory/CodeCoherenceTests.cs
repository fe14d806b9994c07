using Kvmfs.Emulator.Cpu;
using static Kvmfs.Emulator.Tests.Memory.PageTables;

namespace Kvmfs.Emulator.Tests.Memory;

/// <summary>Decoded blocks versus changing translations: a block is reused only while its VA still maps to the
/// physical page it was decoded from, and IC IVAU through any alias of that page drops it.</summary>
public unsafe class CodeCoherenceTests
{
    const ulong X = 0x0000_0000_0040_0000, Alias = 0x0000_0000_0080_0000, Kernel = 0xFFFF_0000_0000_0000;
    const ulong PageA = MmuRig.RamBase + 0x1_0000, PageB = MmuRig.RamBase + 0x2_0000, KernelPa = MmuRig.RamBase + 0x3_0000;

    static (MmuRig, PageTables, PageTables) Setup()
    {
        var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(12);
        hi.Map(Kernel, KernelPa, 3, AF);
        rig.Cpu.Sys(SysReg.VBAR_EL1) = Kernel + 0x800;
        rig.Code(PageA, A64.Movz(0, 1), A64.Brk0);
        rig.Code(PageB, A64.Movz(0, 2), A64.Brk0);
        return (rig, lo, hi);
    }

    static ulong RunAt(MmuRig rig, ulong pc)
    {
        rig.Cpu.S->PC = pc;
        rig.Cpu.S->X[0] = 0;
        rig.Cpu.Run(2);   // movz; brk (one block)
        return rig.Cpu.S->X[0];
    }

    static void KernelExec(MmuRig rig, params uint[] insns)
    {
        rig.Code(KernelPa, insns);
        rig.Cpu.S->PC = Kernel;
        for (int i = 0; i < insns.Length; i++) rig.Cpu.Step();
    }

    [Fact]
    public void RemappedCodePageIsDecodedAfreshAfterTlbi()
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        ulong slot = lo.Map(X, PageA, 3, AF);
        Assert.Equal(1UL, RunAt(rig, X));
        rig.U64(slot) = PageB | AF | Valid | TableOrPage;
        KernelExec(rig, A64.Sys(0, 8, 7, 0, 31), A64.Isb);    // TLBI VMALLE1
        Assert.Equal(2UL, RunAt(rig, X));
    }

    [Fact]
    public void AddressSpaceSwitchRunsTheOtherProcessCodeAtTheSameVa()
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        lo.Map(X, PageA, 3, AF | nG);
        var other = new PageTables(rig, 12, 48, false);
        other.Map(X, PageB, 3, AF | nG);
        Assert.Equal(1UL, RunAt(rig, X));
        rig.Cpu.S->X[2] = other.Root | 0x99UL << 48;
        KernelExec(rig, A64.Msr("TTBR0_EL1", 2), A64.Isb);
        Assert.Equal(2UL, RunAt(rig, X));
        rig.Cpu.S->X[2] = lo.Root | 0x12UL << 48;
        KernelExec(rig, A64.Msr("TTBR0_EL1", 2), A64.Isb);
        Assert.Equal(1UL, RunAt(rig, X));
    }

    [Fact]
    public void IcIvauThroughAnotherAliasDropsTheDecodedBlock()
    {
        var (rig, lo, _) = Setup();
        using var _r = rig;
        lo.Map(X, PageA, 3, AF | AP_RO);     // executable view
        lo.Map(Alias, PageA, 3, AF | UXN | PXN);  // writable alias of the same physical page
        Assert.Equal(1UL, RunAt(rig, X));
        Assert.True(rig.Cpu.Write32(Alias, A64.Movz(0, 3)));   // new code written through the alias
        rig.Cpu.S->X[6] = Alias;
        KernelExec(rig, A64.Sys(3, 7, 5, 1, 6), 0xD503_3F9F /* dsb sy */, A64.Isb);   // IC IVAU, x6
        Assert.Equal(3UL, RunAt(rig, X));
    }
}

/// <summary>Two PEs on one SystemMemory: inner-shareable TLBI and IC IVAU reach the other PE.</summary>
public unsafe class BroadcastMaintenanceTests
{
    // Va and Kernel use different software-TLB slots, so a code fetch cannot evict the data entry.
    const ulong Va = 0x0000_0000_0040_5000, Kernel = 0xFFFF_0000_0000_0000;
    const ulong PageA = MmuRig.RamBase + 0x1_0000, PageB = MmuRig.RamBase + 0x2_0000, KernelPa = MmuRig.RamBase + 0x3_0000;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TlbiIsOnOnePeIsSeenByTheOtherAtItsNextBlock(bool viaHypApi)
    {
        using var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(12);
        using var cpu1 = new ArmCpu(rig.Mem, 1);
        foreach (var reg in new[] { "TCR_EL1", "MAIR_EL1", "TTBR0_EL1", "TTBR1_EL1", "SCTLR_EL1" })
        {
            Assert.True(rig.Cpu.TryGetRegister(reg, out ulong v));
            Assert.True(cpu1.TrySetRegister(reg, v));
        }
        rig.Mem.SynchronizeTlb(rig.Cpu);
        rig.Mem.SynchronizeTlb(cpu1);
        hi.Map(Kernel, KernelPa, 3, AF);
        rig.U64(PageA) = 0xA; rig.U64(PageB) = 0xB;
        ulong slot = lo.Map(Va, PageA, 3, AF);
        // cpu1's program: ldr x0,[x1]; b . (its TLB caches the page on the first run)
        rig.Code(KernelPa + 0x100, A64.Mem(A64.LdrX, 0, 1), 0x1400_0000);
        cpu1.S->X[1] = Va;
        cpu1.S->PC = Kernel + 0x100;
        cpu1.Run(2);
        Assert.Equal(0xAUL, cpu1.S->X[0]);
        rig.U64(slot) = PageB | AF | PageTables.Valid | PageTables.TableOrPage;
        if (viaHypApi) rig.Mem.InvalidateAllTlbs();
        else
        {
            rig.Code(KernelPa, A64.Sys(0, 8, 3, 0, 31));   // TLBI VMALLE1IS on cpu0
            rig.Cpu.S->PC = Kernel;
            rig.Cpu.Step();
        }
        cpu1.S->PC = Kernel + 0x100;
        cpu1.Run(2);
        Assert.Equal(0xBUL, cpu1.S->X[0]);
    }

    [Fact]
    public void IcIvauOnOnePeDropsTheOtherPesDecodedCode()
    {
        using var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(12);
        using var cpu1 = new ArmCpu(rig.Mem, 1);
        foreach (var reg in new[] { "TCR_EL1", "MAIR_EL1", "TTBR0_EL1", "TTBR1_EL1", "SCTLR_EL1", "VBAR_EL1" })
        {
            Assert.True(rig.Cpu.TryGetRegister(reg, out ulong v));
            Assert.True(cpu1.TrySetRegister(reg, v));
        }
        rig.Mem.Attach(rig.Cpu);
        rig.Mem.Attach(cpu1);
        hi.Map(Kernel, KernelPa, 3, AF);
        lo.Map(Va, PageA, 3, AF | PageTables.AP_RO);
        rig.Code(PageA, A64.Movz(0, 1), A64.Brk0);
        cpu1.S->PC = Va;
        cpu1.Run(2);
        Assert.Equal(1UL, cpu1.S->X[0]);
        // cpu0 rewrites the code (through the physical page) and cleans it with IC IVAU by its own VA.
        rig.Code(PageA, A64.Movz(0, 5));
        rig.Cpu.S->X[6] = Va;
        rig.Code(KernelPa, A64.Sys(3, 7, 5, 1, 6));
        rig.Cpu.S->PC = Kernel;
        rig.Cpu.Step();
        cpu1.S->PC = Va;
        cpu1.Run(2);
        Assert.Equal(5UL, cpu1.S->X[0]);
    }
}
