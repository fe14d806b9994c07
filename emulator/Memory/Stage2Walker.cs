using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Memory;

/// <summary>Granule arithmetic shared by both stages (VMSAv8-64, 4K/16K/64K translation granules).</summary>
public static class Granule
{
    /// <summary>log2 of the granule size from a TCR TGx field that uses the TG0 encoding (0=4K, 1=64K, 2=16K).</summary>
    public static int FromTg0(ulong tg) => tg switch { 1 => 16, 2 => 14, _ => 12 };  // reserved (3) behaves as 4K
    /// <summary>TG1 uses a different encoding (1=16K, 2=4K, 3=64K).</summary>
    public static int FromTg1(ulong tg) => tg switch { 1 => 14, 3 => 16, _ => 12 };  // reserved (0) behaves as 4K

    /// <summary>PA size in bits from an IPS/PS field, limited to what the CPU implements.</summary>
    public static int PaBitsFromPs(ulong ps)
    {
        int bits = ps switch { 0 => 32, 1 => 36, 2 => 40, 3 => 42, 4 => 44, _ => 48 };
        return Math.Min(bits, PhysicalMemory.PaBits);
    }

    /// <summary>Bit position of the lowest VA bit resolved at <paramref name="level"/>.</summary>
    public static int LevelShift(int granuleShift, int level) => granuleShift + (granuleShift - 3) * (3 - level);

    /// <summary>Whether a block descriptor is allowed at this level (ARMv8.0, 48-bit OA: no 52-bit LPA blocks).</summary>
    public static bool BlockAllowed(int granuleShift, int level) =>
        granuleShift == 12 ? level is 1 or 2 : level == 2;

    /// <summary>Output-address bits [47:shift] of a descriptor.</summary>
    public static ulong OutputAddress(ulong descriptor, int shift) => descriptor & 0x0000_FFFF_FFFF_FFFFUL & ~((1UL << shift) - 1);

    /// <summary>True if the descriptor's output address has bits set at or above <paramref name="paBits"/>.</summary>
    public static bool AddressTooLarge(ulong descriptor, int paBits) =>
        ((descriptor & 0x0000_FFFF_FFFF_F000UL) >> paBits) != 0;
}

/// <summary>The stage-2 controls of the current VM: VTTBR_EL2 and VTCR_EL2, decoded.</summary>
public readonly struct Stage2Regime
{
    public readonly ulong TableBase;
    public readonly ushort Vmid;
    public readonly int InputBits;      // 64 - VTCR_EL2.T0SZ
    public readonly int GranuleShift;
    public readonly int StartLevel;     // from SL0; -1 when SL0 is reserved for the granule
    public readonly int PaBits;

    public Stage2Regime(ulong vttbr, ulong vtcr)
    {
        Vmid = (ushort)((vttbr >> 48) & 0xFF);
        GranuleShift = Granule.FromTg0((vtcr >> 14) & 3);
        InputBits = 64 - (int)Math.Clamp(vtcr & 0x3F, 16, 39);
        PaBits = Granule.PaBitsFromPs((vtcr >> 16) & 7);
        int sl0 = (int)((vtcr >> 6) & 3);
        StartLevel = sl0 == 3 ? -1 : (GranuleShift == 12 ? 2 - sl0 : 3 - sl0);
        TableBase = vttbr & 0x0000_FFFF_FFFF_FFFEUL;
    }

    public static Stage2Regime Of(ArmCpu cpu) => new(cpu.Sys(SysReg.VTTBR_EL2), cpu.Sys(SysReg.VTCR_EL2));
}

/// <summary>
/// Stage-2 translation (IPA → PA) for the EL1&amp;0 regime when HCR_EL2.VM is set, walked from the real
/// descriptors in physical memory (the tables the daemon builds from memslots). ARMv8.0 format: S2AP[7:6]
/// (bit 6 read, bit 7 write), one XN bit (54), AF (10); no table attributes at stage 2.
/// </summary>
public static unsafe class Stage2Walker
{
    /// <summary>Translates <paramref name="ipa"/> for an access of <paramref name="type"/>. On success
    /// <paramref name="pa"/> is the PA of that byte and <paramref name="perms"/> the stage-2 rights of its page.
    /// A failure returns a stage-2 fault (Stage2 set, Ipa = <paramref name="ipa"/>, S1Walk = <paramref name="s1Walk"/>).</summary>
    public static bool Walk(PhysicalMemory phys, in Stage2Regime r, ulong ipa, AccessType type, bool s1Walk,
        out ulong pa, out PagePerms perms, out int level, out Fault fault)
    {
        pa = 0; perms = PagePerms.None; level = 0;
        int g = r.GranuleShift, stride = g - 3;
        // IPA beyond VTCR_EL2.T0SZ, or an SL0 inconsistent with T0SZ: translation fault at level 0.
        if (r.StartLevel < 0 || (ipa >> r.InputBits) != 0) return Fail(FaultKind.Translation, 0, ipa, s1Walk, out fault);
        int startWidth = r.InputBits - Granule.LevelShift(g, r.StartLevel);
        if (startWidth < 1 || startWidth > stride + 4) return Fail(FaultKind.Translation, 0, ipa, s1Walk, out fault);
        if ((r.TableBase >> r.PaBits) != 0) return Fail(FaultKind.AddressSize, 0, ipa, s1Walk, out fault);

        // The start level may use up to 16 concatenated tables; align the base to the whole set.
        ulong table = r.TableBase & ~((8UL << startWidth) - 1);
        for (level = r.StartLevel; ; level++)
        {
            int shift = Granule.LevelShift(g, level);
            int width = level == r.StartLevel ? startWidth : stride;
            ulong index = (ipa >> shift) & ((1UL << width) - 1);
            if (!phys.ReadDescriptor(table + index * 8, out ulong d))
                return Fail(FaultKind.SyncExternalOnWalk, level, ipa, s1Walk, out fault);
            if ((d & 1) == 0) return Fail(FaultKind.Translation, level, ipa, s1Walk, out fault);
            if (Granule.AddressTooLarge(d, r.PaBits)) return Fail(FaultKind.AddressSize, level, ipa, s1Walk, out fault);
            if ((d & 2) != 0 && level < 3)
            {
                table = Granule.OutputAddress(d, g);
                continue;
            }
            if (level == 3 ? (d & 2) == 0 : !Granule.BlockAllowed(g, level))
                return Fail(FaultKind.Translation, level, ipa, s1Walk, out fault);
            if ((d & (1UL << 10)) == 0) return Fail(FaultKind.AccessFlag, level, ipa, s1Walk, out fault);
            if ((d & (1UL << 6)) != 0) perms |= PagePerms.Read;
            if ((d & (1UL << 7)) != 0) perms |= PagePerms.Write;
            if ((d & (1UL << 54)) == 0) perms |= PagePerms.Execute;
            pa = Granule.OutputAddress(d, shift) | (ipa & ((1UL << shift) - 1));
            // A stage-1 table walk only reads (no hardware AF/DBM updates are advertised).
            AccessType need = s1Walk ? AccessType.Read : type;
            if (!SystemMemory.Allows(perms, need)) return Fail(FaultKind.Permission, level, ipa, s1Walk, out fault);
            fault = default;
            return true;
        }
    }

    static bool Fail(FaultKind kind, int level, ulong ipa, bool s1Walk, out Fault fault)
    {
        fault = new Fault(kind, level) { Stage2 = true, Ipa = ipa, S1Walk = s1Walk };
        return false;
    }
}
