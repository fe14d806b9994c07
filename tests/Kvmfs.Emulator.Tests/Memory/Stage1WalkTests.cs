using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;
using static Kvmfs.Emulator.Tests.Memory.PageTables;

namespace Kvmfs.Emulator.Tests.Memory;

/// <summary>Stage-1 walks (EL1&amp;0 and EL2 regimes): every granule, every legal leaf level, faults and their levels.</summary>
public unsafe class Stage1WalkTests
{
    const ulong LoVa = 0x0000_7F80_0000_0000, HiVa = 0xFFFF_8000_4000_0000;

    public static TheoryData<int, int, bool> Leaves()
    {
        var d = new TheoryData<int, int, bool>();
        foreach (bool hi in new[] { false, true })
        {
            foreach (int l in new[] { 1, 2, 3 }) d.Add(12, l, hi);
            foreach (int l in new[] { 2, 3 }) { d.Add(14, l, hi); d.Add(16, l, hi); }
        }
        return d;
    }

    [Theory, MemberData(nameof(Leaves))]
    public void WalkReachesPageOrBlockAtEveryLegalLevel(int g, int level, bool upper)
    {
        using var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(g);
        var t = upper ? hi : lo;
        ulong baseVa = upper ? HiVa : LoVa;
        ulong va, expectPa;
        if (level == 3)
        {
            va = baseVa + (7UL << g) + 0x238;                 // the 8th page of the region, some offset into it
            t.Map(va, MmuRig.RamBase + 0x10_0000, 3);
            expectPa = MmuRig.RamBase + 0x10_0000 + (va & ((1UL << g) - 1));
        }
        else
        {
            va = baseVa + 0x12_3458;                          // inside the first 4 MiB of the block (RAM)
            t.Map(va, MmuRig.RamBase, level);
            expectPa = MmuRig.RamBase + (va & (t.BlockSize(level) - 1));
        }
        rig.U64(expectPa) = 0xC0FFEE00UL + (ulong)level;

        Assert.True(rig.Mem.TryTranslate(rig.Cpu, va, AccessType.Read, out ulong pa, out var f), f.Kind.ToString());
        Assert.Equal(expectPa, pa);
        Assert.True(rig.Cpu.Read64(va, out ulong v));
        Assert.Equal(0xC0FFEE00UL + (ulong)level, v);
        // A write through the same mapping lands in the same host byte.
        Assert.True(rig.Cpu.Write32(va + 4, 0x5555AAAA));
        Assert.Equal(0x5555AAAAu, rig.U32(expectPa + 4));
    }

    public static TheoryData<int, int> GranuleLevels()
    {
        var d = new TheoryData<int, int>();
        foreach (int l in new[] { 0, 1, 2, 3 }) d.Add(12, l);
        foreach (int l in new[] { 0, 1, 2, 3 }) d.Add(14, l);
        foreach (int l in new[] { 1, 2, 3 }) d.Add(16, l);
        return d;
    }

    [Theory, MemberData(nameof(GranuleLevels))]
    public void InvalidDescriptorGivesTranslationFaultAtItsLevel(int g, int level)
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(g);
        ulong va = LoVa + 0x5000_0000 + (3UL << g);
        lo.Map(va, MmuRig.RamBase, 3);
        Assert.True(rig.Mem.TryTranslate(rig.Cpu, va, AccessType.Read, out _, out _));
        rig.U64(lo.Slot(va, level)) &= ~1UL;  // clear Valid at that level
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, va, AccessType.Read, out _, out var f));
        Assert.Equal(FaultKind.Translation, f.Kind);
        Assert.Equal(level, f.Level);
        Assert.False(f.Stage2);
        Assert.Equal(0x04u | (uint)level, f.StatusCode);
    }

    [Theory]
    [InlineData(12, 0)]
    [InlineData(14, 0)]
    [InlineData(14, 1)]
    [InlineData(16, 1)]
    public void BlockAtIllegalLevelIsATranslationFault(int g, int level)
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(g);
        ulong va = LoVa;
        lo.Map(va, 0, level);
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, va, AccessType.Read, out _, out var f));
        Assert.Equal(FaultKind.Translation, f.Kind);
        Assert.Equal(level, f.Level);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(14)]
    [InlineData(16)]
    public void ReservedLevel3DescriptorIsATranslationFault(int g)
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(g);
        ulong slot = lo.Map(LoVa, MmuRig.RamBase, 3);
        rig.U64(slot) &= ~TableOrPage;   // 0b01 at level 3 is reserved
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, LoVa, AccessType.Read, out _, out var f));
        Assert.Equal((FaultKind.Translation, 3), (f.Kind, f.Level));
    }

    [Theory]
    [InlineData(12, 39, 1)]
    [InlineData(12, 30, 2)]   // T0SZ=34: the walk starts at level 2
    [InlineData(14, 47, 1)]
    [InlineData(14, 36, 2)]
    [InlineData(16, 42, 2)]
    [InlineData(16, 48, 1)]
    public void StartLevelFollowsTxSzAndGranule(int g, int inputBits, int expectedStart)
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(g, inputBits);
        Assert.Equal(expectedStart, lo.StartLevel);
        ulong va = (1UL << (inputBits - 1)) + (5UL << g);   // uses the top index bit of the start level
        lo.Map(va, MmuRig.RamBase + 0x8000, 3);
        Assert.True(rig.Mem.TryTranslate(rig.Cpu, va, AccessType.Read, out ulong pa, out var f), f.Kind.ToString());
        Assert.Equal(((MmuRig.RamBase + 0x8000) & ~((1UL << g) - 1)) | (va & ((1UL << g) - 1)), pa);
        // One bit above the input range: translation fault at level 0 (TTBR0 side).
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, 1UL << inputBits, AccessType.Read, out _, out f));
        Assert.Equal((FaultKind.Translation, 0), (f.Kind, f.Level));
    }

    [Fact]
    public void OutputAddressBeyondIpsIsAnAddressSizeFault()
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(12);
        rig.Set("TCR_EL1", rig.Cpu.Sys(SysReg.TCR_EL1) & ~(7UL << 32)); // IPS = 32 bits
        lo.Map(LoVa, 0x1_0000_0000, 3);
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, LoVa, AccessType.Read, out _, out var f));
        Assert.Equal((FaultKind.AddressSize, 3), (f.Kind, f.Level));
        Assert.Equal(3u, f.StatusCode);
        // A table descriptor pointing above the PA size faults at its own level.
        ulong va2 = LoVa + (1UL << 30);
        lo.Map(va2, MmuRig.RamBase, 3);
        rig.U64(lo.Slot(va2, 1)) |= 1UL << 40;
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, va2, AccessType.Read, out _, out f));
        Assert.Equal((FaultKind.AddressSize, 1), (f.Kind, f.Level));
    }

    [Fact]
    public void TopBitsEpdAndTbiSelectOrRejectTheRange()
    {
        using var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(12);
        lo.Map(LoVa, MmuRig.RamBase + 0x1000, 3);
        hi.Map(HiVa, MmuRig.RamBase + 0x2000, 3);
        Assert.True(rig.Mem.TryTranslate(rig.Cpu, HiVa, AccessType.Read, out ulong pa, out _));
        Assert.Equal(MmuRig.RamBase + 0x2000, pa);
        // Bit 55 set but not all top bits: neither range.
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, HiVa & ~(1UL << 60), AccessType.Read, out _, out var f));
        Assert.Equal((FaultKind.Translation, 0), (f.Kind, f.Level));
        // Tagged pointer: faults unless TBI0.
        ulong tagged = LoVa | 0x5AUL << 56;
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, tagged, AccessType.Read, out _, out f));
        Assert.Equal((FaultKind.Translation, 0), (f.Kind, f.Level));
        rig.Set("TCR_EL1", rig.Cpu.Sys(SysReg.TCR_EL1) | 1UL << 37);
        Assert.True(rig.Mem.TryTranslate(rig.Cpu, tagged, AccessType.Read, out pa, out _));
        Assert.Equal(MmuRig.RamBase + 0x1000, pa);
        rig.U64(MmuRig.RamBase + 0x1000) = 77;
        Assert.True(rig.Cpu.Read64(tagged, out ulong v));
        Assert.Equal(77UL, v);
        // EPD0: walks of TTBR0 fault at level 0; TTBR1 still works.
        rig.Set("TCR_EL1", rig.Cpu.Sys(SysReg.TCR_EL1) | 1UL << 7);
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, LoVa, AccessType.Read, out _, out f));
        Assert.Equal((FaultKind.Translation, 0), (f.Kind, f.Level));
        Assert.True(rig.Mem.TryTranslate(rig.Cpu, HiVa, AccessType.Read, out _, out _));
        rig.Set("TCR_EL1", rig.Cpu.Sys(SysReg.TCR_EL1) | 1UL << 23);   // EPD1
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, HiVa, AccessType.Read, out _, out f));
        Assert.Equal((FaultKind.Translation, 0), (f.Kind, f.Level));
    }

    [Theory]
    [InlineData(12, 3)]
    [InlineData(12, 2)]
    [InlineData(12, 1)]
    [InlineData(14, 3)]
    [InlineData(14, 2)]
    [InlineData(16, 3)]
    [InlineData(16, 2)]
    public void AccessFlagZeroFaultsBeforePermissions(int g, int level)
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(g);
        lo.Map(LoVa, MmuRig.RamBase, level, SH_Inner | AP_RO);   // AF = 0, read-only
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, LoVa, AccessType.Write, out _, out var f));
        Assert.Equal((FaultKind.AccessFlag, level), (f.Kind, f.Level));
        Assert.Equal(0x08u | (uint)level, f.StatusCode);
    }

    [Fact]
    public void MmuOffIsFlatAndChecksThePhysicalAddressSize()
    {
        using var rig = new MmuRig();
        rig.U64(MmuRig.RamBase + 0x40) = 0x1234;
        Assert.True(rig.Cpu.Read64(MmuRig.RamBase + 0x40, out ulong v));
        Assert.Equal(0x1234UL, v);
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, 1UL << 48, AccessType.Read, out _, out var f));
        Assert.Equal((FaultKind.AddressSize, 0), (f.Kind, f.Level));
    }

    [Fact]
    public void El2RegimeUsesTtbr0El2AndApReadOnly()
    {
        using var rig = new MmuRig();
        var t = new PageTables(rig, 12, 48, stage2: false);
        rig.Set("TCR_EL2", 16UL | 5UL << 16);           // T0SZ=16, 4K, PS=48 bits
        rig.Set("TTBR0_EL2", t.Root);
        rig.Set("MAIR_EL2", 0xFF);
        rig.Set("SCTLR_EL2", rig.Cpu.Sys(SysReg.SCTLR_EL2) | 1);
        t.Map(0x8000_0000, MmuRig.RamBase + 0x3000, 3, AF | AP_RO);
        rig.Cpu.SetElAndSpSel(2, 1);
        Assert.True(rig.Mem.TryTranslate(rig.Cpu, 0x8000_0123, AccessType.Read, out ulong pa, out _));
        Assert.Equal(MmuRig.RamBase + 0x3123, pa);
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, 0x8000_0123, AccessType.Write, out _, out var f));
        Assert.Equal((FaultKind.Permission, 3), (f.Kind, f.Level));
        // EL2 has only one VA range: the upper half faults.
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, 0xFFFF_0000_8000_0000, AccessType.Read, out _, out f));
        Assert.Equal((FaultKind.Translation, 0), (f.Kind, f.Level));
        // The EL1&0 regime is unaffected by EL2's tables (its MMU is off).
        rig.Cpu.SetElAndSpSel(1, 1);
        Assert.True(rig.Mem.TryTranslate(rig.Cpu, MmuRig.RamBase, AccessType.Write, out pa, out _));
        Assert.Equal(MmuRig.RamBase, pa);
    }

    [Fact]
    public void WalkReadsDescriptorsOutsideRamAsExternalAbortOnWalk()
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(12);
        rig.Set("TTBR0_EL1", 0x2000_0000);   // nothing there
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, LoVa, AccessType.Read, out _, out var f));
        Assert.Equal((FaultKind.SyncExternalOnWalk, 0), (f.Kind, f.Level));
        Assert.Equal(0x14u, f.StatusCode);
    }
}
