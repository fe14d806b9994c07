using Kvmfs.Emulator.Memory;
using static Kvmfs.Emulator.Tests.Memory.PageTables;

namespace Kvmfs.Emulator.Tests.Memory;

/// <summary>Stage-1 access permissions for EL0/EL1 reads, writes and instruction fetches (Arm ARM D5.4).</summary>
public unsafe class PermissionTests
{
    const ulong Va = 0x0000_0040_0000_0000;

    /// <summary>Which of R/W/X the page allows at EL0 and at EL1, as the architecture's tables say.</summary>
    static (string El0, string El1) Expected(uint ap, bool uxn, bool pxn, bool wxn)
    {
        bool el0R = (ap & 1) != 0, el0W = ap == 1, el1W = (ap & 2) == 0;
        bool el0X = !uxn && !(wxn && el0W);
        bool el1X = !pxn && !el0W && !(wxn && el1W);   // EL0-writable memory is never executable at EL1
        static string S(bool r, bool w, bool x) => (r ? "r" : "-") + (w ? "w" : "-") + (x ? "x" : "-");
        return (S(el0R, el0W, el0X), S(true, el1W, el1X));
    }

    public static TheoryData<uint, bool, bool, bool> Cases()
    {
        var d = new TheoryData<uint, bool, bool, bool>();
        for (uint ap = 0; ap < 4; ap++)
            foreach (bool uxn in new[] { false, true })
                foreach (bool pxn in new[] { false, true })
                    foreach (bool wxn in new[] { false, true })
                        d.Add(ap, uxn, pxn, wxn);
        return d;
    }

    static string Probe(MmuRig rig, uint el, out List<Fault> faults)
    {
        rig.Cpu.SetElAndSpSel(el, el == 0 ? 0u : 1u);
        faults = new();
        string s = "";
        foreach (var (t, c) in new[] { (AccessType.Read, 'r'), (AccessType.Write, 'w'), (AccessType.Execute, 'x') })
        {
            bool ok = rig.Mem.Translate(rig.Cpu, Va, t, out _, out var f);
            if (!ok) faults.Add(f);
            s += ok ? c : '-';
        }
        rig.Cpu.SetElAndSpSel(1, 1);
        return s;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ApUxnPxnWxnGiveTheArchitecturalRights(uint ap, bool uxn, bool pxn, bool wxn)
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(12);
        lo.Map(Va, MmuRig.RamBase, 3, AF | (ulong)ap << 6 | (uxn ? UXN : 0) | (pxn ? PXN : 0));
        if (wxn) rig.Set("SCTLR_EL1", rig.Cpu.Sys(Kvmfs.Emulator.Cpu.SysReg.SCTLR_EL1) | 1UL << 19);
        var (el0, el1) = Expected(ap, uxn, pxn, wxn);
        Assert.Equal(el0, Probe(rig, 0, out var f0));
        Assert.Equal(el1, Probe(rig, 1, out var f1));
        foreach (var f in f0.Concat(f1)) Assert.Equal((FaultKind.Permission, 3, 0x0Fu), (f.Kind, f.Level, f.StatusCode));
    }

    [Theory]
    [InlineData(APTable0, "--x", "rwx")]   // no EL0 data access below this table (EL0 execute is UXN's business)
    [InlineData(APTable1, "r-x", "r-x")]   // read-only below this table, at every EL
    [InlineData(UXNTable, "rw-", "rwx")]
    [InlineData(PXNTable, "rwx", "rw-")]
    public void TableAttributesRestrictEverythingBelow(ulong tableBit, string el0, string el1)
    {
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(12);
        lo.Map(Va, MmuRig.RamBase, 3, AF | AP_EL0);        // EL0 RW, EL1 RW, not EL1-executable
        lo.SetTableBits(Va, 1, tableBit);
        string e0 = Probe(rig, 0, out _), e1 = Probe(rig, 1, out _);
        Assert.Equal(el0, e0);
        Assert.Equal(el1[..2], e1[..2]);

        // X at EL1 on an EL1-only page under the same table attribute.
        ulong va2 = Va + 0x1000;
        lo.Map(va2, MmuRig.RamBase + 0x1000, 3, AF);
        rig.Cpu.TranslationChanged();
        rig.Cpu.SetElAndSpSel(1, 1);
        bool x1 = rig.Mem.Translate(rig.Cpu, va2, AccessType.Execute, out _, out _);
        Assert.Equal(el1[2] == 'x', x1);
    }

    [Fact]
    public void CpuRefusesAccessesThroughTheTlbAfterAFill()
    {
        // The TLB caches rights per access type: a read fill must not let a later write through a read-only page.
        using var rig = new MmuRig();
        var (lo, _) = rig.Stage1(12);
        lo.Map(Va, MmuRig.RamBase, 3, AF | AP_RO);
        rig.Cpu.Sys(Kvmfs.Emulator.Cpu.SysReg.VBAR_EL1) = MmuRig.RamBase + 0x30_0000;
        Assert.True(rig.Cpu.Read64(Va, out _));
        Assert.False(rig.Cpu.Write64(Va, 1));
        ulong esr = rig.Cpu.Sys(Kvmfs.Emulator.Cpu.SysReg.ESR_EL1);
        Assert.Equal(0x25UL, esr >> 26);
        Assert.Equal(0x0FUL, esr & 0x3F);
        Assert.Equal(1UL, (esr >> 6) & 1);       // WnR
        Assert.Equal(Va, rig.Cpu.Sys(Kvmfs.Emulator.Cpu.SysReg.FAR_EL1));
    }
}
