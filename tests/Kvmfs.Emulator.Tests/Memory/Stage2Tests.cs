using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;
using static Kvmfs.Emulator.Tests.Memory.PageTables;

namespace Kvmfs.Emulator.Tests.Memory;

/// <summary>A hyp as KVM's guest-abort handling sees things: it records every trap with the EL2 syndrome
/// registers and, for data aborts with a valid instruction syndrome on the MMIO window, emulates the access
/// from ESR_EL2.ISS alone (as KVM_EXIT_MMIO handling does), then skips the instruction.</summary>
public sealed class MmioHyp : IHypervisor
{
    public record Trap(uint Esr, ulong Far, ulong Hpfar, ulong Elr);
    public readonly List<Trap> Traps = new();
    public readonly List<(ulong Ipa, int Size, ulong Value)> Writes = new();
    public ulong MmioBase = 0x90_0000_0000, MmioSize = 0x1000;
    public ulong ReadValue = 0xFEDC_BA98_7654_3210;
    public Action<ArmCpu, Trap>? OnOther;

    public void OnTrap(ArmCpu cpu, ExceptionKind kind, uint esr)
    {
        var t = new Trap(esr, cpu.Sys(SysReg.FAR_EL2), cpu.Sys(SysReg.HPFAR_EL2), cpu.Sys(SysReg.ELR_EL2));
        Traps.Add(t);
        ulong ipa = (t.Hpfar >> 4 << 12) | (t.Far & 0xFFF);
        uint iss = esr & 0x1FF_FFFF;
        if (esr >> 26 == ExceptionClass.DataAbortLower && (iss >> 24 & 1) != 0 && ipa - MmioBase < MmioSize)
        {
            int size = 1 << (int)(iss >> 22 & 3);
            uint srt = iss >> 16 & 31;
            bool sse = (iss >> 21 & 1) != 0, sf = (iss >> 15 & 1) != 0, write = (iss >> 6 & 1) != 0;
            ulong mask = size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
            if (write) Writes.Add((ipa, size, cpu.X(srt) & mask));
            else
            {
                ulong v = ReadValue & mask;
                if (sse && size < 8 && (v >> (8 * size - 1) & 1) != 0) v |= ~mask;
                if (!sf) v &= 0xFFFF_FFFF;
                cpu.SetX(srt, v);
            }
            cpu.Sys(SysReg.ELR_EL2) += 4;
            return;
        }
        OnOther?.Invoke(cpu, t);
    }
}

/// <summary>Stage 2 (VTTBR_EL2/VTCR_EL2): walks at each granule with concatenated start tables, stage-2 faults to
/// EL2 with ESR_EL2/FAR_EL2/HPFAR_EL2 (incl. S1PTW), and the data-abort instruction syndrome KVM uses for MMIO.</summary>
public unsafe class Stage2Tests
{
    const ulong DataIpa = 0x12_3450_0000, RootIpa = 0x80_0000_0000, Va = 0x0000_0040_0000_0000;

    /// <summary>Identity-maps the rig's RAM at stage 2 with one block.</summary>
    static void IdentityRam(PageTables s2)
    {
        int level = Math.Max(s2.G == 12 ? 1 : 2, s2.StartLevel);
        for (ulong a = MmuRig.RamBase; a < MmuRig.RamBase + MmuRig.RamSize; a += s2.BlockSize(level))
            s2.Map(a, a, level);
    }

    [Theory]
    [InlineData(12, 1)]   // start level 1, 2 concatenated tables for a 40-bit IPA
    [InlineData(12, 0)]   // start level 2, 16 concatenated tables for a 34-bit IPA
    [InlineData(14, 1)]   // start level 2, 16 concatenated tables
    [InlineData(16, 1)]   // start level 2, 2 concatenated tables
    [InlineData(16, 0)]   // start level 3, 2 concatenated tables for a 32-bit IPA
    public void TwoStageWalkFoldsIntoOnePageAndStage1TablesAreReadThroughStage2(int g, int sl0)
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp();
        int ipaBits = (g, sl0) switch { (12, 0) => 34, (16, 0) => 32, _ => 40 };
        ulong dataIpa = DataIpa & ((1UL << ipaBits) - 1) & ~0xFFFFUL;
        ulong rootIpa = ipaBits == 40 ? RootIpa : 1UL << (ipaBits - 1);
        var s2 = rig.Stage2(g, hyp, ipaBits, sl0);
        IdentityRam(s2);
        var (lo, _) = rig.Stage1(12);
        // The stage-1 root is reached only through a stage-2 alias at rootIpa (IPA != PA).
        ulong rootPa = lo.Root;
        s2.Map(rootIpa, rootPa, 3);
        ulong ttbrIpa = rootIpa + (rootPa & ((1UL << g) - 1));
        rig.Set("TTBR0_EL1", ttbrIpa);
        lo.Map(Va, dataIpa, 3);
        s2.Map(dataIpa, MmuRig.RamBase + 0x20_0000, 3);
        ulong expectPa = MmuRig.RamBase + 0x20_0000 + (dataIpa & ((1UL << g) - 1));
        rig.U64(expectPa + 0x18) = 0xABCD;

        Assert.True(rig.Mem.TryTranslate(rig.Cpu, Va + 0x18, AccessType.Read, out ulong pa, out var f), $"{f.Kind} L{f.Level} S2={f.Stage2}");
        Assert.Equal(expectPa + 0x18, pa);
        Assert.True(rig.Cpu.Read64(Va + 0x18, out ulong v));
        Assert.Equal(0xABCDUL, v);
        Assert.Empty(hyp.Traps);

        // Drop the stage-2 alias of the stage-1 root: the walk's first read faults at stage 2 (S1PTW).
        rig.U64(s2.Slot(rootIpa, 3)) = 0;
        rig.Cpu.TranslationChanged();
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, Va, AccessType.Write, out _, out f));
        Assert.True(f.Stage2 && f.S1Walk);
        Assert.Equal((FaultKind.Translation, 3), (f.Kind, f.Level));
        Assert.Equal(ttbrIpa + ((Va >> 39) & 511) * 8, f.Ipa);   // the IPA of the level-0 descriptor
    }

    [Fact]
    public void Stage2FaultOnStage1WalkReachesTheHypWithS1ptwAndDescriptorIpa()
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp();
        var s2 = rig.Stage2(12, hyp);
        IdentityRam(s2);
        var (_, hi) = rig.Stage1(12);
        rig.Set("TTBR0_EL1", RootIpa);            // stage 2 has nothing at RootIpa
        ulong code = MmuRig.RamBase + 0x1000;      // EL1 code reached through TTBR1
        ulong codeVa = 0xFFFF_0000_0000_1000;
        hi.Map(codeVa, code, 3, AF);
        rig.Code(code, A64.Mem(A64.LdrW, 3, 1));
        rig.Cpu.S->X[1] = Va + 0x44;
        rig.Cpu.S->PC = codeVa;
        rig.Cpu.Step();
        var t = Assert.Single(hyp.Traps);
        uint iss = t.Esr & 0x1FF_FFFF;
        Assert.Equal(ExceptionClass.DataAbortLower, t.Esr >> 26);
        Assert.Equal(1u, iss >> 7 & 1);                          // S1PTW
        Assert.Equal(0u, iss >> 24 & 1);                         // no instruction syndrome for walk faults
        Assert.Equal(0x04u | 1, iss & 0x3F);                     // translation fault, stage-2 level 1 (start level)
        Assert.Equal(Va + 0x44, t.Far);                           // FAR_EL2: the VA being translated
        ulong descIpa = RootIpa + ((Va >> 39) & 511) * 8;
        Assert.Equal(descIpa >> 12 << 4, t.Hpfar);               // HPFAR_EL2.FIPA = IPA[47:12] at bits [39:4]
        Assert.Equal(codeVa, t.Elr);
    }

    public static TheoryData<string, uint, int, bool, bool, bool> LoadStores() => new()
    {
        // name, opcode, SAS (log2 size), SSE, SF, write
        { "LDRB", A64.LdrB, 0, false, false, false },
        { "LDRH", A64.LdrH, 1, false, false, false },
        { "LDR W", A64.LdrW, 2, false, false, false },
        { "LDR X", A64.LdrX, 3, false, true, false },
        { "LDRSB W", A64.LdrsbW, 0, true, false, false },
        { "LDRSB X", A64.LdrsbX, 0, true, true, false },
        { "LDRSH W", A64.LdrshW, 1, true, false, false },
        { "LDRSH X", A64.LdrshX, 1, true, true, false },
        { "LDRSW", A64.LdrswX, 2, true, true, false },
        { "STRB", A64.StrB, 0, false, false, true },
        { "STRH", A64.StrH, 1, false, false, true },
        { "STR W", A64.StrW, 2, false, false, true },
        { "STR X", A64.StrX, 3, false, true, true },
    };

    [Theory, MemberData(nameof(LoadStores))]
    public void MmioLoadStoreHasACompleteSyndromeAndIsEmulatedFromItAlone(string name, uint opcode, int sas, bool sse, bool sf, bool write)
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp { ReadValue = 0x8899_AABB_CCDD_EEF0 | 0x80 };
        var s2 = rig.Stage2(12, hyp);
        IdentityRam(s2);
        ulong code = MmuRig.RamBase + 0x1000;
        rig.Code(code, A64.Mem(opcode, 7, 2));
        rig.Cpu.S->X[2] = hyp.MmioBase + 0x40;    // stage 1 is off: VA = IPA; stage 2 has no memslot there
        rig.Cpu.S->X[7] = 0x1122_3344_5566_7788;
        rig.Cpu.S->PC = code;
        rig.Cpu.Step();

        var t = Assert.Single(hyp.Traps);
        uint iss = t.Esr & 0x1FF_FFFF;
        Assert.Equal(ExceptionClass.DataAbortLower, t.Esr >> 26);
        Assert.Equal(1u, t.Esr >> 25 & 1);                      // IL: 32-bit instruction
        Assert.Equal(1u, iss >> 24 & 1);                         // ISV
        Assert.Equal((uint)sas, iss >> 22 & 3);                  // SAS
        Assert.Equal(sse, (iss >> 21 & 1) != 0);                 // SSE
        Assert.Equal(7u, iss >> 16 & 31);                        // SRT
        Assert.Equal(sf, (iss >> 15 & 1) != 0);                  // SF
        Assert.Equal(0u, iss >> 14 & 1);                         // AR
        Assert.Equal(0u, iss >> 10 & 1);                         // FnV: FAR valid
        Assert.Equal(0u, iss >> 7 & 1);                          // S1PTW
        Assert.Equal(write, (iss >> 6 & 1) != 0);                // WnR
        Assert.Equal(0x04u | 1, iss & 0x3F);                     // stage-2 translation fault at the start level
        Assert.Equal(hyp.MmioBase + 0x40, t.Far);
        Assert.Equal((hyp.MmioBase + 0x40) >> 12 << 4, t.Hpfar);
        Assert.Equal(code + 4, rig.Cpu.S->PC);                   // the hyp skipped it; back at EL1
        Assert.Equal(1u, rig.Cpu.S->CurrentEl);
        int size = 1 << sas;
        ulong mask = size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;
        if (write)
            Assert.Equal((hyp.MmioBase + 0x40, size, 0x1122_3344_5566_7788UL & mask), Assert.Single(hyp.Writes));
        else
        {
            // What the load would have put in the register, computed independently of the syndrome.
            ulong raw = hyp.ReadValue & mask;
            long signedRaw = size switch { 1 => (sbyte)raw, 2 => (short)raw, 4 => (int)raw, _ => (long)raw };
            ulong expect = sse ? (ulong)signedRaw : raw;
            if (!sf) expect &= 0xFFFF_FFFF;
            Assert.Equal(expect, rig.Cpu.S->X[7]);
        }
    }

    [Theory]
    [InlineData("LDAR X", A64.LdarX, true, 1u, 3u)]
    [InlineData("STLR W", A64.StlrW, true, 1u, 2u)]
    [InlineData("LDR X pre-index", A64.LdrXPre | 8u << 12, false, 0u, 0u)]   // writeback: no instruction syndrome
    [InlineData("LDR Q", A64.LdrQ, false, 0u, 0u)]                // SIMD&FP register: no instruction syndrome
    public void SyndromeValidOnlyForSingleGprWithoutWriteback(string name, uint opcode, bool ar, uint isv, uint sas)
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp();
        hyp.OnOther = (cpu, t) => cpu.Sys(SysReg.ELR_EL2) += 4;   // unemulatable: skip
        var s2 = rig.Stage2(12, hyp);
        IdentityRam(s2);
        ulong code = MmuRig.RamBase + 0x1000;
        rig.Code(code, A64.Mem(opcode, 5, 2));
        rig.Cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20;
        rig.Cpu.S->X[2] = hyp.MmioBase + 0x80;
        rig.Cpu.S->PC = code;
        rig.Cpu.Step();
        var t = Assert.Single(hyp.Traps);
        uint iss = t.Esr & 0x1FF_FFFF;
        Assert.Equal(isv, iss >> 24 & 1);
        if (isv == 1)
        {
            Assert.Equal(ar, (iss >> 14 & 1) != 0);
            Assert.Equal(sas, iss >> 22 & 3);
            Assert.Equal(5u, iss >> 16 & 31);
        }
        Assert.Equal(hyp.MmioBase + 0x80, rig.Cpu.S->X[2]);      // a faulting pre-index load writes nothing back
    }

    [Fact]
    public void Stage2PermissionAccessFlagAndXnFaults()
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp();
        hyp.OnOther = (cpu, t) => cpu.Sys(SysReg.ELR_EL2) += 4;
        var s2 = rig.Stage2(12, hyp);
        ulong code = MmuRig.RamBase + 0x1000, data = MmuRig.RamBase + 0x2000, noExec = MmuRig.RamBase + 0x3000;
        s2.Map(code, code, 3);
        s2.Map(data, data, 3, AF | S2_R | S2_Normal);                // read-only at stage 2
        s2.Map(noExec, noExec, 3, AF | S2_R | S2_W | S2_XN | S2_Normal);
        rig.U64(data) = 42;
        rig.Code(code, A64.Mem(A64.LdrX, 3, 1), A64.Mem(A64.StrX, 3, 1), 0xD61F_0040 /* br x2 */);
        rig.Cpu.S->X[1] = data;
        rig.Cpu.S->X[2] = noExec;
        rig.Cpu.S->PC = code;
        rig.Cpu.Step();
        Assert.Equal(42UL, rig.Cpu.S->X[3]);
        Assert.Empty(hyp.Traps);
        rig.Cpu.Step();                                              // STR to a read-only IPA
        var t = Assert.Single(hyp.Traps);
        Assert.Equal(ExceptionClass.DataAbortLower, t.Esr >> 26);
        Assert.Equal(0x0Fu, t.Esr & 0x3F);                           // permission, level 3
        Assert.Equal(1u, t.Esr >> 6 & 1);                            // WnR
        Assert.Equal(1u, t.Esr >> 24 & 1);                           // ISV: KVM could emulate it (read-only memslot)
        Assert.Equal(data >> 12 << 4, t.Hpfar);
        rig.Cpu.Step();                                              // br x2
        rig.Cpu.Step();                                              // fetch from an XN IPA
        Assert.Equal(2, hyp.Traps.Count);
        t = hyp.Traps[1];
        Assert.Equal(ExceptionClass.InstructionAbortLower, t.Esr >> 26);
        Assert.Equal(0x0Fu, t.Esr & 0x3F);
        Assert.Equal(noExec, t.Far);
        Assert.Equal(noExec >> 12 << 4, t.Hpfar);

        // AF = 0 at stage 2: access flag fault, stage-2 level.
        rig.U64(s2.Slot(data, 3)) &= ~AF;
        rig.Cpu.TranslationChanged();
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, data, AccessType.Read, out _, out var f));
        Assert.Equal((FaultKind.AccessFlag, 3, true), (f.Kind, f.Level, f.Stage2));
    }

    [Fact]
    public void IpaBeyondVtcrT0szIsATranslationFaultAtLevel0()
    {
        using var rig = new MmuRig();
        var s2 = rig.Stage2(12, new MmioHyp(), ipaBits: 36, sl0: 1);
        IdentityRam(s2);
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, 1UL << 36, AccessType.Read, out _, out var f));
        Assert.Equal((FaultKind.Translation, 0, true), (f.Kind, f.Level, f.Stage2));
        Assert.Equal(1UL << 36, f.Ipa);
    }

    [Fact]
    public void Stage1FaultsAreCheckedBeforeStage2AndGoToEl1()
    {
        using var rig = new MmuRig();
        var hyp = new MmioHyp();
        var s2 = rig.Stage2(12, hyp);
        IdentityRam(s2);
        var (lo, _) = rig.Stage1(12);
        lo.Map(Va, hyp.MmioBase, 3, AF | AP_RO);         // stage-1 read-only page onto an unmapped IPA
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, Va, AccessType.Write, out _, out var f));
        Assert.Equal((FaultKind.Permission, 3, false), (f.Kind, f.Level, f.Stage2));
        Assert.False(rig.Mem.TryTranslate(rig.Cpu, Va, AccessType.Read, out _, out f));
        Assert.Equal((FaultKind.Translation, true), (f.Kind, f.Stage2));
        Assert.Equal(hyp.MmioBase, f.Ipa);
    }
}
