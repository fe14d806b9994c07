using System.Runtime.InteropServices;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;
using static Kvmfs.Emulator.Tests.Memory.PageTables;

namespace Kvmfs.Emulator.Tests.Memory;

/// <summary>PhysicalMemory (RAM, MMIO, "nothing there"), region changes between runs, and whole instruction
/// sequences that turn the MMU on and take aborts from EL0 and EL1.</summary>
public unsafe class SystemMemoryTests
{
    sealed class Device : IMmioHandler
    {
        public readonly List<(bool Write, ulong Offset, int Size, ulong Value)> Log = new();
        public bool Read(ulong offset, int size, out ulong value)
        {
            value = 0x1000 + offset;
            Log.Add((false, offset, size, value));
            return offset < 0x100;
        }
        public bool Write(ulong offset, int size, ulong value) { Log.Add((true, offset, size, value)); return offset < 0x100; }
    }

    [Fact]
    public void RegionsAreSortedAndNeverOverlap()
    {
        var phys = new PhysicalMemory();
        byte* a = (byte*)NativeMemory.AlignedAlloc(0x4000, 4096);
        try
        {
            Assert.True(phys.AddRam(0x10_0000, 0x2000, a));
            Assert.True(phys.AddMmio(0x8000, 0x1000, new Device()));
            Assert.False(phys.AddRam(0x10_1000, 0x2000, a + 0x2000));   // overlaps
            Assert.False(phys.AddMmio(0x7000, 0x2000, new Device()));   // overlaps
            Assert.False(phys.AddRam(0x20_0800, 0x1000, a));            // unaligned
            Assert.False(phys.AddRam(1UL << 48, 0x1000, a));            // beyond the PA size
            long gen = phys.Generation;
            Assert.True(phys.AddRam(0x10_2000, 0x1000, a + 0x2000));    // adjacent is fine
            Assert.Equal(gen + 1, phys.Generation);
            Assert.Equal(new ulong[] { 0x8000, 0x10_0000, 0x10_2000 }, phys.Regions.Select(r => r.Base));
            Assert.True(phys.HostPointer(0x10_1FF8, 8) == a + 0x1FF8);
            Assert.True(phys.HostPointer(0x10_1FFC, 8) == null);       // crosses into another region
            Assert.Null(phys.Find(0x9000));
            Assert.True(phys.Remove(0x10_0000));
            Assert.Null(phys.Find(0x10_0000));
            Assert.False(phys.Remove(0x10_0000));
        }
        finally { NativeMemory.AlignedFree(a); }
    }

    [Fact]
    public void MmioAndNothingThereThroughLoadsAndStores()
    {
        using var rig = new MmuRig();
        var dev = new Device();
        Assert.True(rig.Phys.AddMmio(0x0900_0000, 0x1000, dev, "uart"));
        ulong code = MmuRig.RamBase + 0x1000;
        rig.Cpu.Sys(SysReg.VBAR_EL1) = MmuRig.RamBase + 0x2000;
        // ldr w3,[x1]; strh w2,[x1]; ldr x4,[x5]  (x5: a device offset the device rejects)
        rig.Code(code, A64.Mem(A64.LdrW, 3, 1), A64.Mem(A64.StrH, 2, 1), A64.Mem(A64.LdrX, 4, 5));
        rig.Cpu.S->X[1] = 0x0900_0010;
        rig.Cpu.S->X[2] = 0xBEEF;
        rig.Cpu.S->X[5] = 0x0900_0800;
        rig.Cpu.S->PC = code;
        rig.Cpu.Step(); rig.Cpu.Step();
        Assert.Equal(0x1010UL, rig.Cpu.S->X[3]);
        Assert.Equal((true, 0x10UL, 2, 0xBEEFUL), dev.Log[1]);
        rig.Cpu.Step();                                    // the device refuses: synchronous external abort
        ulong esr = rig.Cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(0x25UL, esr >> 26);
        Assert.Equal(0x10UL, esr & 0x3F);
        Assert.Equal(0x0900_0800UL, rig.Cpu.Sys(SysReg.FAR_EL1));

        // Nothing there at all: external abort for data, and for an instruction fetch.
        rig.Cpu.S->X[5] = 0x3000_0000;
        rig.Cpu.S->PC = code + 8;
        rig.Cpu.Step();
        Assert.Equal(0x10UL, rig.Cpu.Sys(SysReg.ESR_EL1) & 0x3F);
        rig.Cpu.S->PC = 0x3000_0000;
        rig.Cpu.Step();
        esr = rig.Cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(0x21UL, esr >> 26);
        Assert.Equal(0x10UL, esr & 0x3F);
        Assert.Equal(0x3000_0000UL, rig.Cpu.Sys(SysReg.FAR_EL1));
    }

    [Fact]
    public void RegionChangeIsSeenAfterSynchronizeTlb()
    {
        using var rig = new MmuRig();
        byte* other = (byte*)NativeMemory.AlignedAlloc(0x1000, 4096);
        byte* third = (byte*)NativeMemory.AlignedAlloc(0x1000, 4096);
        try
        {
            *(ulong*)other = 111; *(ulong*)third = 222;
            Assert.True(rig.Phys.AddRam(0x2000_0000, 0x1000, other));
            rig.Mem.SynchronizeTlb(rig.Cpu);
            Assert.True(rig.Cpu.Read64(0x2000_0000, out ulong v));
            Assert.Equal(111UL, v);
            // The VMM swaps the memory behind the PA (e.g. a memslot replaced between runs).
            Assert.True(rig.Phys.Remove(0x2000_0000));
            Assert.True(rig.Phys.AddRam(0x2000_0000, 0x1000, third));
            Assert.True(rig.Mem.SynchronizeTlb(rig.Cpu));
            Assert.False(rig.Mem.SynchronizeTlb(rig.Cpu));   // nothing new
            Assert.True(rig.Cpu.Read64(0x2000_0000, out v));
            Assert.Equal(222UL, v);
        }
        finally { NativeMemory.AlignedFree(other); NativeMemory.AlignedFree(third); }
    }

    [Fact]
    public void El1CodeTurnsTheMmuOnAndLoadsThroughTheMapping()
    {
        using var rig = new MmuRig();
        const ulong code = MmuRig.RamBase + 0x1000, data = MmuRig.RamBase + 0x9000, va = 0xFFFF_8000_1234_5000;
        var lo = new PageTables(rig, 16, 48, false);        // 64K granule for TTBR0, 4K for TTBR1
        var hi = new PageTables(rig, 12, 48, false);
        lo.Map(code, code & ~0xFFFFUL, 3, AF);              // identity map of the code (64K page)
        hi.Map(va, data, 3, AF | AP_RO);
        rig.U64(data + 0x28) = 0x600D_F00D;
        ulong tcr = 16UL | 1UL << 14 | 16UL << 16 | 2UL << 30 | 5UL << 32;   // T0SZ=16 TG0=64K T1SZ=16 TG1=4K IPS=48
        ulong sctlr = rig.Cpu.Sys(SysReg.SCTLR_EL1) | 1 | 1UL << 2 | 1UL << 12;
        // Literal pool after the code: tcr, mair, ttbr0, ttbr1, sctlr, va
        uint[] prog =
        {
            A64.LdrLiteralX(1, 16), A64.Msr("TCR_EL1", 1),
            A64.LdrLiteralX(1, 16), A64.Msr("MAIR_EL1", 1),
            A64.LdrLiteralX(1, 16), A64.Msr("TTBR0_EL1", 1),
            A64.LdrLiteralX(1, 16), A64.Msr("TTBR1_EL1", 1),
            A64.Isb,
            A64.LdrLiteralX(1, 15), A64.Msr("SCTLR_EL1", 1), A64.Isb,
            A64.LdrLiteralX(2, 14), A64.Mem(A64.LdrX | 5u << 10, 0, 2),   // ldr x0, [x2, #0x28]
            A64.Mem(A64.StrX, 0, 2),                                       // str x0, [x2]: read-only → abort
            A64.Brk0,
        };
        rig.Code(code, prog);
        ulong pool = code + (ulong)prog.Length * 4;
        Assert.Equal(code + 16 * 4, pool);
        ulong[] lits = { tcr, 0xFF, lo.Root, hi.Root, sctlr, va };
        // The literal offsets above are relative to each LDR: pool slot k is at pool + 8k.
        for (int k = 0; k < lits.Length; k++) rig.U64(pool + 8 * (ulong)k) = lits[k];
        // Fix each LDR literal's offset to point at its pool slot.
        int[] ldrAt = { 0, 2, 4, 6, 9, 12 };
        for (int k = 0; k < ldrAt.Length; k++)
        {
            ulong at = code + (ulong)ldrAt[k] * 4;
            int words = (int)((pool + 8 * (ulong)k - at) / 4);
            rig.U32(at) = A64.LdrLiteralX(rig.U32(at) & 31, words);
        }
        rig.Cpu.Sys(SysReg.VBAR_EL1) = code & ~0xFFFUL;   // vectors: the code page (offset 0x200 would be data here)
        rig.Cpu.S->PC = code;
        for (int i = 0; i < 15; i++) rig.Cpu.Step();
        Assert.Equal(0x600D_F00DUL, rig.Cpu.S->X[0]);
        ulong esr = rig.Cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(0x25UL, esr >> 26);                    // data abort, same EL
        Assert.Equal(0x0FUL, esr & 0x3F);                   // permission, level 3
        Assert.Equal(1UL, (esr >> 6) & 1);                  // WnR
        Assert.Equal(va, rig.Cpu.Sys(SysReg.FAR_EL1));
        Assert.Equal(code + 14 * 4, rig.Cpu.Sys(SysReg.ELR_EL1));
    }

    [Fact]
    public void El0AbortsGoToEl1AsLowerElClasses()
    {
        using var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(12);
        const ulong userCode = 0x40_0000, userData = 0x50_0000, kernelOnly = 0x60_0000, noExec = 0x70_0000;
        lo.Map(userCode, MmuRig.RamBase + 0x1000, 3, AF | AP_EL0 | AP_RO | nG);     // EL0 R+X
        lo.Map(userData, MmuRig.RamBase + 0x2000, 3, AF | AP_EL0 | UXN | nG);       // EL0 RW
        lo.Map(kernelOnly, MmuRig.RamBase + 0x3000, 3, AF);                         // EL1 only
        lo.Map(noExec, MmuRig.RamBase + 0x4000, 3, AF | AP_EL0 | AP_RO | UXN);
        hi.Map(0xFFFF_0000_0000_0000, MmuRig.RamBase + 0x5000, 3, AF);              // vectors
        rig.Cpu.Sys(SysReg.VBAR_EL1) = 0xFFFF_0000_0000_0000;
        rig.U64(MmuRig.RamBase + 0x2000) = 99;
        // ldr x0,[x1]; ldr x2,[x3]; br x4
        rig.Code(MmuRig.RamBase + 0x1000, A64.Mem(A64.LdrX, 0, 1), A64.Mem(A64.LdrX, 2, 3), 0xD61F_0080);
        rig.Cpu.S->X[1] = userData; rig.Cpu.S->X[3] = kernelOnly + 8; rig.Cpu.S->X[4] = noExec;
        rig.Cpu.SetPstate(Pstate.EL0t);
        rig.Cpu.S->PC = userCode;
        rig.Cpu.Step();
        Assert.Equal(99UL, rig.Cpu.S->X[0]);
        rig.Cpu.Step();
        ulong esr = rig.Cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(0x24UL, esr >> 26);
        Assert.Equal(0x0FUL, esr & 0x3F);
        Assert.Equal(kernelOnly + 8, rig.Cpu.Sys(SysReg.FAR_EL1));
        Assert.Equal(userCode + 4, rig.Cpu.Sys(SysReg.ELR_EL1));
        Assert.Equal(0xFFFF_0000_0000_0400UL, rig.Cpu.S->PC);   // lower EL, AArch64, synchronous
        Assert.Equal(1u, rig.Cpu.S->CurrentEl);

        rig.Cpu.SetPstate(Pstate.EL0t);
        rig.Cpu.S->PC = userCode + 8;
        rig.Cpu.Step();                                          // br x4
        rig.Cpu.Step();                                          // fetch from a UXN page
        esr = rig.Cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(0x20UL, esr >> 26);
        Assert.Equal(0x0FUL, esr & 0x3F);
        Assert.Equal(noExec, rig.Cpu.Sys(SysReg.FAR_EL1));
        Assert.Equal(noExec, rig.Cpu.Sys(SysReg.ELR_EL1));

        // EL1 fetching from EL0-writable memory (implied PXN): instruction abort, same EL.
        rig.Cpu.S->PC = userData;
        rig.Cpu.Step();
        esr = rig.Cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(0x21UL, esr >> 26);
        Assert.Equal(0x0FUL, esr & 0x3F);
        // EL1 fetch from an unmapped VA: translation fault (level 3, the table exists).
        rig.Cpu.S->PC = userData + 0x10_0000 * 4;
        rig.Cpu.Step();
        Assert.Equal(0x21UL, rig.Cpu.Sys(SysReg.ESR_EL1) >> 26);
        Assert.Equal(0x04UL, rig.Cpu.Sys(SysReg.ESR_EL1) & 0x3C);
    }

    [Fact]
    public void CodeWrittenByTheVmmIsSeenAfterFlushDecodedBlocks()
    {
        using var rig = new MmuRig();
        ulong code = MmuRig.RamBase + 0x1000;
        rig.Code(code, A64.Movz(0, 1), A64.Brk0);
        rig.Cpu.Sys(SysReg.VBAR_EL1) = MmuRig.RamBase + 0x3000;
        rig.Cpu.S->PC = code;
        rig.Cpu.Run(2);
        Assert.Equal(1UL, rig.Cpu.S->X[0]);
        // The VMM rewrites guest memory behind the CPU's back (as when it loads a new image).
        Assert.True(rig.Phys.WriteBytes(code, BitConverter.GetBytes(A64.Movz(0, 2))));
        rig.Cpu.FlushDecodedBlocks();
        rig.Cpu.S->PC = code;
        rig.Cpu.Run(2);
        Assert.Equal(2UL, rig.Cpu.S->X[0]);
    }

    [Fact]
    public void El1HandlerFixesAnAccessFlagFaultAndEl0Retries()
    {
        // As Linux without hardware AF: EL0 touches a page with AF=0, the EL1 abort handler sets AF in the
        // descriptor (through its own mapping of the table) and ERETs; the load is retried and succeeds.
        using var rig = new MmuRig();
        var (lo, hi) = rig.Stage1(12);
        const ulong user = 0x40_0000, data = 0x41_0000, vectors = 0xFFFF_0000_0000_0000, tables = 0xFFFF_0000_0010_0000;
        lo.Map(user, MmuRig.RamBase + 0x1000, 3, AF | AP_EL0 | AP_RO);
        ulong slot = lo.Map(data, MmuRig.RamBase + 0x2000, 3, AP_EL0 | UXN);            // AF = 0
        hi.Map(vectors, MmuRig.RamBase + 0x3000, 3, AF);
        hi.Map(tables, slot & ~0xFFFUL, 3, AF | UXN | PXN);                          // the kernel's view of the table
        rig.U64(MmuRig.RamBase + 0x2008) = 0x5EED;
        rig.Code(MmuRig.RamBase + 0x1000, A64.Mem(A64.LdrX | 1u << 10, 0, 1), 0x1400_0000);   // ldr x0,[x1,#8]; b .
        rig.Code(MmuRig.RamBase + 0x3400,                                              // lower-EL synchronous vector
            A64.Mrs("ESR_EL1", 9),
            A64.Mem(A64.LdrX, 11, 12),          // ldr x11, [x12]
            0xB276_016B,                        // orr x11, x11, #0x400  (AF)
            A64.Mem(A64.StrX, 11, 12),          // str x11, [x12]
            A64.Eret);
        rig.Cpu.Sys(SysReg.VBAR_EL1) = vectors;
        rig.Cpu.S->X[1] = data;
        rig.Cpu.S->X[12] = tables + (slot & 0xFFF);
        rig.Cpu.SetPstate(Pstate.EL0t);
        rig.Cpu.S->PC = user;
        rig.Cpu.Run(20);
        Assert.Equal(0x5EEDUL, rig.Cpu.S->X[0]);
        Assert.Equal(0x24UL, rig.Cpu.S->X[9] >> 26);            // the handler saw a lower-EL data abort
        Assert.Equal(0x0BUL, rig.Cpu.S->X[9] & 0x3F);           // access flag fault, level 3
        Assert.NotEqual(0UL, rig.U64(slot) & AF);
        Assert.Equal(0u, rig.Cpu.S->CurrentEl);
        Assert.Equal(user + 4, rig.Cpu.S->PC);
    }
}
