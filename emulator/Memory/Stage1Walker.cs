using Kvmfs.Emulator.Cpu;

namespace Kvmfs.Emulator.Memory;

/// <summary>
/// A stage-1 translation regime, decoded from its registers: EL1&amp;0 (SCTLR_EL1, TCR_EL1, TTBR0/1_EL1; two VA
/// ranges, two privilege levels) or EL2 (SCTLR_EL2, TCR_EL2, TTBR0_EL2; one range, one privilege level).
/// </summary>
public readonly struct Stage1Regime
{
    public readonly bool Enabled;       // SCTLR_ELx.M
    public readonly bool El2;           // the EL2 regime (no TTBR1, no EL0, AP[1]/PXN not used)
    public readonly bool Wxn;
    public readonly ulong Tcr, Ttbr0, Ttbr1, Mair;

    public Stage1Regime(bool el2, ulong sctlr, ulong tcr, ulong ttbr0, ulong ttbr1, ulong mair)
    {
        El2 = el2; Enabled = (sctlr & 1) != 0; Wxn = (sctlr & (1UL << 19)) != 0;
        Tcr = tcr; Ttbr0 = ttbr0; Ttbr1 = ttbr1; Mair = mair;
    }

    public static Stage1Regime El1(ArmCpu cpu) => new(false, cpu.Sys(SysReg.SCTLR_EL1), cpu.Sys(SysReg.TCR_EL1),
        cpu.Sys(SysReg.TTBR0_EL1), cpu.Sys(SysReg.TTBR1_EL1), cpu.Sys(SysReg.MAIR_EL1));

    public static Stage1Regime OfEl2(ArmCpu cpu) => new(true, cpu.Sys(SysReg.SCTLR_EL2), cpu.Sys(SysReg.TCR_EL2),
        cpu.Sys(SysReg.TTBR0_EL2), 0, cpu.Sys(SysReg.MAIR_EL2));

    /// <summary>Output (intermediate physical) address size from TCR_EL1.IPS / TCR_EL2.PS.</summary>
    public int PaBits => Granule.PaBitsFromPs(El2 ? (Tcr >> 16) & 7 : (Tcr >> 32) & 7);

    /// <summary>The ASID a TTBR's walk is tagged with: TCR_EL1.A1 selects TTBR1's ASID, AS=0 keeps 8 bits.</summary>
    public ushort Asid
    {
        get
        {
            if (El2) return 0;
            ulong ttbr = (Tcr & (1UL << 22)) != 0 ? Ttbr1 : Ttbr0;
            ulong asid = ttbr >> 48;
            return (ushort)((Tcr & (1UL << 36)) != 0 ? asid : asid & 0xFF);
        }
    }
}

/// <summary>What a successful stage-1 walk found.</summary>
public struct Stage1Result
{
    /// <summary>Output address (IPA, or PA without stage 2) of the translated byte.</summary>
    public ulong OutputAddress;
    public int Level;
    /// <summary>Rights of the page at the privilege the walk was made for.</summary>
    public PagePerms Perms;
    /// <summary>The MAIR_ELx attribute byte of the mapping and its shareability (for PAR_EL1).</summary>
    public byte Attributes;
    public byte Shareability;
    /// <summary>nG: the entry is tagged with the current ASID (non-global).</summary>
    public bool NotGlobal;
}

/// <summary>
/// VMSAv8-64 stage-1 translation: 48-bit VAs, TTBR0/TTBR1 by VA bit 55, TxSZ, TBI, EPDn, 4K/16K/64K granules,
/// start level from TxSZ and granule, table/block/page descriptors at every legal level, APTable/UXNTable/
/// PXNTable, AP[2:1], UXN/PXN, implied PXN for EL0-writable memory, SCTLR.WXN, AF (no hardware update: HA/HD
/// and DBM are not advertised, so AF=0 is an Access flag fault). PAN is not advertised (ARMv8.0).
/// Descriptor reads are made at IPA and go through stage 2 when it is enabled.
/// </summary>
public static unsafe class Stage1Walker
{
    /// <summary>Translates <paramref name="va"/> for an access of <paramref name="type"/> at EL0 when
    /// <paramref name="unprivileged"/> (EL1&amp;0 regime only). Permission is checked for that access type.</summary>
    public static bool Walk(PhysicalMemory phys, in Stage1Regime r, bool stage2, in Stage2Regime s2, ulong va,
        AccessType type, bool unprivileged, out Stage1Result result, out Fault fault)
    {
        result = default;
        int paBits = r.PaBits;
        if (!r.Enabled)
        {
            // MMU off: flat, Device-nGnRnE data and Normal instructions; addresses beyond the PA size fault.
            if ((va >> PhysicalMemory.PaBits) != 0) return Fail(FaultKind.AddressSize, 0, out fault);
            result.OutputAddress = va;
            result.Perms = PagePerms.All;
            result.Attributes = type == AccessType.Execute ? (byte)0x44 : (byte)0x00;
            result.Shareability = 2;
            fault = default;
            return true;
        }

        // Select the VA range: TTBR1 when bit 55 is set (EL1&0 only), then check the unused top bits.
        bool upper = !r.El2 && (va & (1UL << 55)) != 0;
        ulong tcr = r.Tcr;
        int txsz, g;
        bool tbi, epd;
        ulong ttbr;
        if (r.El2) { txsz = (int)(tcr & 0x3F); g = Granule.FromTg0((tcr >> 14) & 3); tbi = (tcr & (1UL << 20)) != 0; epd = false; ttbr = r.Ttbr0; }
        else if (!upper) { txsz = (int)(tcr & 0x3F); g = Granule.FromTg0((tcr >> 14) & 3); tbi = (tcr & (1UL << 37)) != 0; epd = (tcr & (1UL << 7)) != 0; ttbr = r.Ttbr0; }
        else { txsz = (int)((tcr >> 16) & 0x3F); g = Granule.FromTg1((tcr >> 30) & 3); tbi = (tcr & (1UL << 38)) != 0; epd = (tcr & (1UL << 23)) != 0; ttbr = r.Ttbr1; }
        int inputBits = 64 - Math.Clamp(txsz, 16, 39);   // out-of-range TxSZ behaves as the nearest legal value
        int top = tbi ? 55 : 63;
        ulong topBits = (va >> inputBits) & ((2UL << (top - inputBits)) - 1);
        ulong expect = upper ? (2UL << (top - inputBits)) - 1 : 0;
        if (topBits != expect || epd) return Fail(FaultKind.Translation, 0, out fault);

        int stride = g - 3;
        int startLevel = 4 - (inputBits - g + stride - 1) / stride;
        int startWidth = inputBits - Granule.LevelShift(g, startLevel);
        ulong baseAddress = ttbr & 0x0000_FFFF_FFFF_FFFEUL;
        if ((baseAddress >> paBits) != 0) return Fail(FaultKind.AddressSize, 0, out fault);
        ulong table = baseAddress & ~((8UL << startWidth) - 1);

        // Hierarchical attributes collected from table descriptors on the way down.
        bool noEl0 = false, noWrite = false, xnUser = false, xnPriv = false;
        for (int level = startLevel; ; level++)
        {
            int shift = Granule.LevelShift(g, level);
            int width = level == startLevel ? startWidth : stride;
            ulong descAddress = table + ((va >> shift) & ((1UL << width) - 1)) * 8;
            ulong descPa = descAddress;
            if (stage2 && !Stage2Walker.Walk(phys, s2, descAddress, AccessType.Read, true, out descPa, out _, out _, out fault))
                return false; // stage-2 fault on the walk: reported to EL2 with S1PTW
            if (!phys.ReadDescriptor(descPa, out ulong d)) return Fail(FaultKind.SyncExternalOnWalk, level, out fault);
            if ((d & 1) == 0) return Fail(FaultKind.Translation, level, out fault);
            if (Granule.AddressTooLarge(d, paBits)) return Fail(FaultKind.AddressSize, level, out fault);
            if ((d & 2) != 0 && level < 3)
            {
                if (r.El2)
                {
                    noWrite |= (d & (1UL << 62)) != 0;
                    xnPriv |= (d & (1UL << 60)) != 0;
                }
                else
                {
                    xnPriv |= (d & (1UL << 59)) != 0;      // PXNTable
                    xnUser |= (d & (1UL << 60)) != 0;      // UXNTable
                    noEl0 |= (d & (1UL << 61)) != 0;       // APTable[0]: no EL0 access below
                    noWrite |= (d & (1UL << 62)) != 0;     // APTable[1]: read-only below
                }
                table = Granule.OutputAddress(d, g);
                continue;
            }
            if (level == 3 ? (d & 2) == 0 : !Granule.BlockAllowed(g, level))
                return Fail(FaultKind.Translation, level, out fault);
            // Access flag before permissions (the architecture's priority order).
            if ((d & (1UL << 10)) == 0) return Fail(FaultKind.AccessFlag, level, out fault);

            PagePerms perms;
            bool ap2 = (d & (1UL << 7)) != 0, ap1 = (d & (1UL << 6)) != 0;
            if (r.El2)
            {
                bool w = !ap2 && !noWrite;
                bool x = (d & (1UL << 54)) == 0 && !xnPriv && !(r.Wxn && w);
                perms = PagePerms.Read | (w ? PagePerms.Write : 0) | (x ? PagePerms.Execute : 0);
            }
            else
            {
                bool userR = ap1 && !noEl0;
                bool userW = ap1 && !ap2 && !noEl0 && !noWrite;
                bool privW = !ap2 && !noWrite;
                bool userX = (d & (1UL << 54)) == 0 && !xnUser && !(r.Wxn && userW);
                // Memory writable at EL0 is never executable at EL1.
                bool privX = (d & (1UL << 53)) == 0 && !xnPriv && !(r.Wxn && privW) && !userW;
                perms = unprivileged
                    ? (userR ? PagePerms.Read : 0) | (userW ? PagePerms.Write : 0) | (userX ? PagePerms.Execute : 0)
                    : PagePerms.Read | (privW ? PagePerms.Write : 0) | (privX ? PagePerms.Execute : 0);
            }
            result.OutputAddress = Granule.OutputAddress(d, shift) | (va & ((1UL << shift) - 1));
            result.Level = level;
            result.Perms = perms;
            result.Attributes = (byte)(r.Mair >> (int)(((d >> 2) & 7) * 8));
            result.Shareability = (byte)((d >> 8) & 3);
            result.NotGlobal = (d & (1UL << 11)) != 0;
            if (!SystemMemory.Allows(perms, type)) return Fail(FaultKind.Permission, level, out fault);
            fault = default;
            return true;
        }
    }

    static bool Fail(FaultKind kind, int level, out Fault fault)
    {
        fault = new Fault(kind, level);
        return false;
    }
}
