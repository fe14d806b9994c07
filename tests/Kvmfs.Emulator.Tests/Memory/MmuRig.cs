using System.Runtime.InteropServices;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Tests.Memory;

/// <summary>A64 encodings used by the MMU tests (hand-assembled; checked against the Arm ARM).</summary>
public static class A64
{
    public static uint Sys(uint op1, uint crn, uint crm, uint op2, uint rt) => 0xD508_0000u | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | rt;
    public static uint Msr(string reg, uint rt) { SysRegTable.TryGet(reg, out var i); return 0xD500_0000u | i.Encoding << 5 | rt; }
    public static uint Mrs(string reg, uint rt) { SysRegTable.TryGet(reg, out var i); return 0xD520_0000u | i.Encoding << 5 | rt; }
    public static uint LdrLiteralX(uint rt, int wordOffset) => 0x5800_0000u | ((uint)wordOffset & 0x7FFFF) << 5 | rt;
    public static uint Movz(uint rd, uint imm16, uint shift = 0) => 0xD280_0000u | shift / 16 << 21 | imm16 << 5 | rd;
    public const uint Isb = 0xD503_3FDF, Nop = 0xD503_201F, Brk0 = 0xD420_0000, Eret = 0xD69F_03E0;
    /// <summary>LDR/STR (unsigned immediate) base opcodes, imm12 = 0.</summary>
    public const uint LdrX = 0xF940_0000, LdrW = 0xB940_0000, LdrH = 0x7940_0000, LdrB = 0x3940_0000,
        LdrsbX = 0x3980_0000, LdrsbW = 0x39C0_0000, LdrshX = 0x7980_0000, LdrshW = 0x79C0_0000, LdrswX = 0xB980_0000,
        StrX = 0xF900_0000, StrW = 0xB900_0000, StrH = 0x7900_0000, StrB = 0x3900_0000,
        LdarX = 0xC8DF_FC00, StlrW = 0x889F_FC00, LdrXPre = 0xF840_0C00, LdrQ = 0x3DC0_0000;
    public static uint Mem(uint opcode, uint rt, uint rn) => opcode | rn << 5 | rt;
}

/// <summary>
/// Guest physical RAM (8 MiB at 1 GiB) with a bump allocator for translation tables, a SystemMemory and a CPU.
/// Data lives in the low 4 MiB, tables in the high 4 MiB.
/// </summary>
public sealed unsafe class MmuRig : IDisposable
{
    public const ulong RamBase = 0x4000_0000, RamSize = 8 << 20, TableArea = RamBase + (4 << 20);
    public readonly PhysicalMemory Phys = new();
    public readonly SystemMemory Mem;
    public readonly ArmCpu Cpu;
    public readonly byte* Host;
    ulong nextTable = TableArea;

    public MmuRig()
    {
        Host = (byte*)NativeMemory.AlignedAlloc((nuint)RamSize, 1 << 16);
        NativeMemory.Clear(Host, (nuint)RamSize);
        Assert.True(Phys.AddRam(RamBase, RamSize, Host));
        Mem = new SystemMemory(Phys);
        Cpu = new ArmCpu(Mem);
    }

    public void Dispose()
    {
        Cpu.Dispose();
        NativeMemory.AlignedFree(Host);
    }

    public ulong AllocTable(ulong bytes)
    {
        ulong a = (nextTable + bytes - 1) & ~(bytes - 1);
        nextTable = a + bytes;
        Assert.True(nextTable <= RamBase + RamSize, "table area exhausted");
        return a;
    }

    public ref ulong U64(ulong pa) { Assert.InRange(pa, RamBase, RamBase + RamSize - 8); return ref *(ulong*)(Host + (pa - RamBase)); }
    public ref uint U32(ulong pa) => ref *(uint*)(Host + (pa - RamBase));

    public void Code(ulong pa, params uint[] words) { for (int i = 0; i < words.Length; i++) U32(pa + (ulong)i * 4) = words[i]; }

    public static int TgField0(int g) => g switch { 12 => 0, 16 => 1, _ => 2 };
    public static int TgField1(int g) => g switch { 12 => 2, 16 => 3, _ => 1 };

    /// <summary>Stage-1 EL1&amp;0 setup: both halves use granule <paramref name="g"/> with 48-bit VAs (or
    /// <paramref name="inputBits"/>), IPS 48 bits, MAIR attr0 = Normal WB (0xFF), attr1 = Device-nGnRE (0x04).
    /// Sets registers through TrySetSysReg (which flushes the TLB as MSR does), MMU on.</summary>
    public (PageTables Lo, PageTables Hi) Stage1(int g, int inputBits = 48, bool enable = true)
    {
        var lo = new PageTables(this, g, inputBits, stage2: false);
        var hi = new PageTables(this, g, inputBits, stage2: false);
        ulong tsz = (ulong)(64 - inputBits);
        ulong tcr = tsz | (ulong)TgField0(g) << 14 | tsz << 16 | (ulong)TgField1(g) << 30 | 5UL << 32 | 1UL << 36;
        Set("TCR_EL1", tcr);
        Set("MAIR_EL1", 0x04FF);
        Set("TTBR0_EL1", lo.Root | 0x12UL << 48);
        Set("TTBR1_EL1", hi.Root);
        if (enable) Set("SCTLR_EL1", Cpu.Sys(SysReg.SCTLR_EL1) | 1);
        return (lo, hi);
    }

    /// <summary>Stage 2 with granule g, 40-bit IPA, SL0 = 1 (start at level 1 for 4K, level 2 for 16K/64K:
    /// concatenated tables at the start level), PS 48 bits; HCR_EL2.VM on, hypervisor attached.</summary>
    public PageTables Stage2(int g, IHypervisor hyp, int ipaBits = 40, int sl0 = 1)
    {
        Cpu.Hypervisor = hyp;
        var s2 = new PageTables(this, g, ipaBits, stage2: true, startLevel: g == 12 ? 2 - sl0 : 3 - sl0);
        Set("VTCR_EL2", (ulong)(64 - ipaBits) | (ulong)(uint)sl0 << 6 | (ulong)TgField0(g) << 14 | 5UL << 16);
        Set("VTTBR_EL2", s2.Root | 7UL << 48);
        Set("HCR_EL2", Cpu.Sys(SysReg.HCR_EL2) | ArmCpu.Hcr.VM | ArmCpu.Hcr.RW);
        return s2;
    }

    public void Set(string reg, ulong value) => Assert.True(Cpu.TrySetRegister(reg, value), reg);
}

/// <summary>Builds VMSAv8-64 translation tables in the rig's RAM (stage 1 or stage 2 descriptor formats).</summary>
public sealed class PageTables
{
    public const ulong Valid = 1, TableOrPage = 2, AF = 1UL << 10, nG = 1UL << 11, SH_Inner = 3UL << 8;
    public const ulong AP_EL0 = 1UL << 6, AP_RO = 1UL << 7, PXN = 1UL << 53, UXN = 1UL << 54;
    public const ulong PXNTable = 1UL << 59, UXNTable = 1UL << 60, APTable0 = 1UL << 61, APTable1 = 1UL << 62;
    public const ulong S2_R = 1UL << 6, S2_W = 1UL << 7, S2_XN = 1UL << 54, S2_Normal = 0xFUL << 2;
    /// <summary>Default leaf attributes: stage 1 AF, inner shareable, AttrIndx 0; stage 2 AF, RW, Normal memory.</summary>
    public ulong DefaultLeaf => Stage2 ? AF | S2_R | S2_W | S2_Normal | SH_Inner : AF | SH_Inner;

    readonly MmuRig rig;
    public readonly int G, InputBits, StartLevel;
    public readonly bool Stage2;
    public readonly ulong Root;

    public PageTables(MmuRig rig, int g, int inputBits, bool stage2, int startLevel = -1)
    {
        this.rig = rig; G = g; InputBits = inputBits; Stage2 = stage2;
        int stride = g - 3;
        StartLevel = startLevel >= 0 ? startLevel : 4 - (inputBits - g + stride - 1) / stride;
        ulong rootBytes = Math.Max(8UL << (inputBits - Shift(StartLevel)), 64);
        Root = rig.AllocTable(rootBytes);
    }

    public int Shift(int level) => G + (G - 3) * (3 - level);
    public ulong BlockSize(int level) => 1UL << Shift(level);

    int Width(int level) => level == StartLevel ? InputBits - Shift(level) : G - 3;

    /// <summary>PA of the descriptor for <paramref name="va"/> at <paramref name="level"/>, creating the tables above it.</summary>
    public ulong Slot(ulong va, int level)
    {
        ulong table = Root;
        for (int l = StartLevel; ; l++)
        {
            ulong slot = table + ((va >> Shift(l)) & ((1UL << Width(l)) - 1)) * 8;
            if (l == level) return slot;
            ref ulong d = ref rig.U64(slot);
            if ((d & 3) != 3)
            {
                ulong next = rig.AllocTable(1UL << G);
                d = next | Valid | TableOrPage;
            }
            table = d & 0x0000_FFFF_FFFF_F000UL & ~((1UL << G) - 1);
        }
    }

    /// <summary>Maps the page or block holding <paramref name="va"/> at <paramref name="level"/> to <paramref name="pa"/>.</summary>
    public ulong Map(ulong va, ulong pa, int level = 3, ulong? attrs = null)
    {
        ulong slot = Slot(va, level);
        ulong size = BlockSize(level);
        rig.U64(slot) = (pa & ~(size - 1)) | (attrs ?? DefaultLeaf) | Valid | (level == 3 ? TableOrPage : 0);
        return slot;
    }

    /// <summary>ORs bits into the table descriptor at <paramref name="level"/> on the path to va (level &lt; leaf level).</summary>
    public void SetTableBits(ulong va, int level, ulong bits) => rig.U64(Slot(va, level)) |= bits;
}
