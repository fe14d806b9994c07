namespace Kvmfs.Kvm.Vgic;

/// <summary>What a GIC MMIO register does, for the declarative register maps below.</summary>
public enum GicReg
{
    RazWi, Ctlr, Typer, Iidr, Group, SetEnable, ClearEnable, SetPending, ClearPending,
    SetActive, ClearActive, Priority, Targets, Config, Router, IdRegs, ClearPendingSgi, SetPendingSgi,
    RdCtlr, RdTyper, PropBaser, PendBaser,
    CpuCtlr, CpuPmr, CpuBpr, CpuAbpr, CpuApr, CpuIidr,
}

/// <summary>One register region: offset, length in bytes, bits per interrupt (0 for plain registers).</summary>
public readonly record struct GicRegion(uint Offset, uint Length, int BitsPerIrq, GicReg Kind);

/// <summary>
/// The GIC register maps KVM exposes to user space through the vGIC device attributes
/// (DIST_REGS, CPU_REGS, REDIST_REGS), and the 32-bit user access to them. Interrupt-indexed
/// registers cover all 1024 interrupt ids; ids beyond the configured ones read as zero and
/// ignore writes, as on KVM.
/// </summary>
public static class VgicRegisters
{
    private const int MaxIrqs = 1024;
    private static uint Bpi(int bits) => (uint)(bits * MaxIrqs / 8);
    private const uint Sgi = 0x10000; // GICv3 redistributor SGI_base frame

    /// <summary>GICv2 distributor (vgic-mmio-v2.c).</summary>
    public static readonly GicRegion[] V2Dist =
    [
        new(0x000, 4, 0, GicReg.Ctlr), new(0x004, 4, 0, GicReg.Typer), new(0x008, 4, 0, GicReg.Iidr),
        new(0x080, Bpi(1), 1, GicReg.Group),
        new(0x100, Bpi(1), 1, GicReg.SetEnable), new(0x180, Bpi(1), 1, GicReg.ClearEnable),
        new(0x200, Bpi(1), 1, GicReg.SetPending), new(0x280, Bpi(1), 1, GicReg.ClearPending),
        new(0x300, Bpi(1), 1, GicReg.SetActive), new(0x380, Bpi(1), 1, GicReg.ClearActive),
        new(0x400, Bpi(8), 8, GicReg.Priority), new(0x800, Bpi(8), 8, GicReg.Targets),
        new(0xC00, Bpi(2), 2, GicReg.Config),
        new(0xF00, 4, 0, GicReg.RazWi), // GICD_SGIR: write-only, generating SGIs is the guest's business
        new(0xF10, 16, 0, GicReg.ClearPendingSgi), new(0xF20, 16, 0, GicReg.SetPendingSgi),
    ];

    /// <summary>GICv2 CPU interface (the GICC_* registers user space saves).</summary>
    public static readonly GicRegion[] V2Cpu =
    [
        new(0x00, 4, 0, GicReg.CpuCtlr), new(0x04, 4, 0, GicReg.CpuPmr), new(0x08, 4, 0, GicReg.CpuBpr),
        new(0x1C, 4, 0, GicReg.CpuAbpr), new(0xD0, 16, 0, GicReg.CpuApr), new(0xFC, 4, 0, GicReg.CpuIidr),
    ];

    /// <summary>GICv3 distributor (vgic-mmio-v3.c); private interrupts are RAZ/WI here.</summary>
    public static readonly GicRegion[] V3Dist =
    [
        new(0x0000, 16, 0, GicReg.Ctlr), // CTLR, TYPER, IIDR, TYPER2 share one region
        new(0x0010, 4, 0, GicReg.RazWi), // STATUSR
        new(0x0080, Bpi(1), 1, GicReg.Group),
        new(0x0100, Bpi(1), 1, GicReg.SetEnable), new(0x0180, Bpi(1), 1, GicReg.ClearEnable),
        new(0x0200, Bpi(1), 1, GicReg.SetPending), new(0x0280, Bpi(1), 1, GicReg.ClearPending),
        new(0x0300, Bpi(1), 1, GicReg.SetActive), new(0x0380, Bpi(1), 1, GicReg.ClearActive),
        new(0x0400, Bpi(8), 8, GicReg.Priority), new(0x0800, Bpi(8), 8, GicReg.RazWi),
        new(0x0C00, Bpi(2), 2, GicReg.Config), new(0x0D00, Bpi(1), 1, GicReg.RazWi),
        new(0x6000, Bpi(64), 64, GicReg.Router), new(0xFFD0, 48, 0, GicReg.IdRegs),
    ];

    /// <summary>GICv3 redistributor: RD_base frame then SGI_base frame.</summary>
    public static readonly GicRegion[] V3Redist =
    [
        new(0x0000, 4, 0, GicReg.RdCtlr),
        new(0x0004, 4, 0, GicReg.Iidr), new(0x0008, 8, 0, GicReg.RdTyper),
        new(0x0010, 4, 0, GicReg.RazWi), new(0x0014, 4, 0, GicReg.RazWi), // STATUSR, WAKER
        new(0x0070, 8, 0, GicReg.PropBaser), new(0x0078, 8, 0, GicReg.PendBaser),
        new(0x00A0, 8, 0, GicReg.RazWi), new(0x00B0, 8, 0, GicReg.RazWi), new(0x00C0, 4, 0, GicReg.RazWi),
        new(0xFFD0, 48, 0, GicReg.IdRegs),
        new(Sgi + 0x080, 4, 1, GicReg.Group),
        new(Sgi + 0x100, 4, 1, GicReg.SetEnable), new(Sgi + 0x180, 4, 1, GicReg.ClearEnable),
        new(Sgi + 0x200, 4, 1, GicReg.SetPending), new(Sgi + 0x280, 4, 1, GicReg.ClearPending),
        new(Sgi + 0x300, 4, 1, GicReg.SetActive), new(Sgi + 0x380, 4, 1, GicReg.ClearActive),
        new(Sgi + 0x400, 32, 8, GicReg.Priority), new(Sgi + 0xC00, 8, 2, GicReg.Config),
        new(Sgi + 0xD00, 4, 1, GicReg.RazWi), new(Sgi + 0xE00, 4, 1, GicReg.RazWi),
    ];

    public static GicRegion? Find(GicRegion[] map, ulong offset)
    {
        if ((offset & 3) != 0) return null; // only aligned 32-bit accesses
        foreach (var r in map)
            if (offset >= r.Offset && offset < r.Offset + r.Length) return r;
        return null;
    }

    /// <summary>Who answers a register access: the VM's distributor, the vCPU the access is for, the GIC model.</summary>
    public readonly record struct Context(VgicState Gic, Vcpu Vcpu, bool PrivateInDist);

    private const uint ProductIdKvm = 0x4b;
    private const uint ImplementerArm = 0x43b;
    private const uint PriorityMask = 0xF8; // five implemented priority bits, as KVM's vGIC

    /// <summary>One 32-bit user access. Returns 0, -ENXIO (no register there) or -EINVAL.</summary>
    public static int Access(GicRegion[] map, in Context c, ulong offset, bool write, ref uint value)
    {
        var found = Find(map, offset);
        if (found is not { } r) return -Errno.ENXIO;
        uint regOff = (uint)offset - r.Offset;
        if (r.BitsPerIrq != 0)
        {
            int firstIntid = (int)(regOff * 8 / (uint)r.BitsPerIrq);
            if (r.Kind == GicReg.Router) return AccessRouter(c, r, regOff, write, ref value);
            int count = 32 / Math.Min(r.BitsPerIrq, 32);
            uint result = 0;
            for (int i = 0; i < count; i++)
            {
                var irq = IrqFor(c, map, firstIntid + i);
                int shift = i * r.BitsPerIrq;
                uint field = (value >> shift) & (uint)((1ul << r.BitsPerIrq) - 1);
                if (irq is null) continue;
                if (write) WriteIrqField(c, r.Kind, irq, field);
                else result |= ReadIrqField(c, r.Kind, irq) << shift;
            }
            if (!write) value = result;
            return 0;
        }
        return AccessPlain(c, r, regOff, write, ref value, map == V3Redist);
    }

    private static VgicIrq? IrqFor(in Context c, GicRegion[] map, int intid)
    {
        if (map == V3Redist) return intid < Distributor.NrPrivateIrqs ? c.Vcpu.Gic.Private[intid] : null;
        if (intid < Distributor.NrPrivateIrqs) return c.PrivateInDist ? c.Vcpu.Gic.Private[intid] : null;
        return c.Gic.Distributor!.Spi(intid);
    }

    private static uint ReadIrqField(in Context c, GicReg kind, VgicIrq irq) => kind switch
    {
        GicReg.Group => irq.Group ? 1u : 0u,
        GicReg.SetEnable or GicReg.ClearEnable => irq.Enabled ? 1u : 0u,
        GicReg.SetPending or GicReg.ClearPending => irq.Pending ? 1u : 0u,
        GicReg.SetActive or GicReg.ClearActive => irq.Active ? 1u : 0u,
        GicReg.Priority => irq.Priority,
        GicReg.Targets => irq.Intid < Distributor.NrPrivateIrqs ? (1u << c.Vcpu.Index) & 0xff : irq.Targets,
        GicReg.Config => irq.Edge ? 2u : 0u,
        _ => 0,
    };

    private static void WriteIrqField(in Context c, GicReg kind, VgicIrq irq, uint field)
    {
        switch (kind)
        {
            case GicReg.Group: irq.Group = field != 0; break;
            case GicReg.SetEnable: if (field != 0) irq.Enabled = true; break;
            case GicReg.ClearEnable: if (field != 0) irq.Enabled = false; break;
            case GicReg.SetPending: if (field != 0) irq.PendingLatch = true; break;
            case GicReg.ClearPending: if (field != 0) irq.PendingLatch = false; break;
            case GicReg.SetActive: if (field != 0) irq.Active = true; break;
            case GicReg.ClearActive: if (field != 0) irq.Active = false; break;
            case GicReg.Priority: irq.Priority = (byte)(field & PriorityMask); break;
            case GicReg.Targets:
                // Private interrupts always target their own CPU; SPIs may target existing vCPUs only.
                if (irq.Intid >= Distributor.NrPrivateIrqs) irq.Targets = (byte)(field & ((1u << c.Gic.VcpuCount) - 1));
                break;
            case GicReg.Config:
                // SGIs are always edge; KVM does not let PPIs change either.
                if (irq.Intid >= Distributor.NrPrivateIrqs) irq.Edge = (field & 2) != 0;
                break;
        }
    }

    private static int AccessRouter(in Context c, GicRegion r, uint regOff, bool write, ref uint value)
    {
        int intid = (int)(regOff / 8);
        bool high = (regOff & 4) != 0;
        var irq = intid >= Distributor.NrPrivateIrqs ? c.Gic.Distributor!.Spi(intid) : null;
        if (irq is null) { if (!write) value = 0; return 0; }
        if (write) { if (!high) irq.Router = value & 0x00ff_ffff; } // Aff2..Aff0; IRM is not supported
        else value = high ? (uint)(irq.Router >> 32) : (uint)irq.Router;
        return 0;
    }

    private static int AccessPlain(in Context c, GicRegion r, uint regOff, bool write, ref uint value, bool redist)
    {
        var gic = c.Gic;
        var dist = gic.Distributor!;
        var cpu = c.Vcpu.Gic;
        switch (r.Kind)
        {
            case GicReg.RazWi:
                if (!write) value = 0;
                return 0;
            case GicReg.Ctlr when gic.IsV3:
                switch (regOff)
                {
                    case 0x0: // GICD_CTLR: EnableGrp1A, ARE_NS and DS always set
                        if (write) dist.Enabled = (value & 2) != 0; else value = (dist.Enabled ? 2u : 0u) | 0x10 | 0x40;
                        return 0;
                    case 0x4: // GICD_TYPER: ITLinesNumber; IDbits 9 without LPIs, 15 and LPIS with a vITS
                        if (!write) value = (uint)(dist.NrIrqs / 32 - 1) | (gic.HasIts ? (15u << 19) | (1u << 17) : 9u << 19);
                        return 0;
                    case 0x8: return AccessIidr(dist, write, ref value, 2, 3);
                    default: if (!write) value = 0; return 0; // TYPER2
                }
            case GicReg.Ctlr:
                if (write) dist.Enabled = (value & 1) != 0; else value = dist.Enabled ? 1u : 0u;
                return 0;
            case GicReg.Typer:
                if (!write) value = (uint)(dist.NrIrqs / 32 - 1) | (uint)((gic.VcpuCount - 1) << 5);
                return 0;
            case GicReg.Iidr:
                return redist ? ReadOnly(write, ref value, Iidr(dist)) : AccessIidr(dist, write, ref value, 1, 3);
            case GicReg.IdRegs:
                return ReadOnly(write, ref value, regOff == 0x18 ? 0x3bu : 0u); // PIDR2: GICv3 architecture
            case GicReg.RdTyper:
            {
                ulong typer = ((ulong)(c.Vcpu.Mpidr & 0xffffff) << 32) | ((ulong)(c.Vcpu.VcpuId & 0xffff) << 8)
                              | (gic.IsLastRedistributor(c.Vcpu) ? 1ul << 4 : 0) | (gic.HasIts ? 1ul : 0);
                return ReadOnly(write, ref value, regOff == 0 ? (uint)typer : (uint)(typer >> 32));
            }
            case GicReg.RdCtlr:
                // EnableLPIs exists only with a vITS; the RWP/UWP bits never read as busy.
                if (!write) { value = cpu.LpisEnabled ? 1u : 0u; return 0; }
                if (gic.HasIts) cpu.LpisEnabled = (value & 1) != 0;
                return 0;
            // The LPI tables cannot move while LPIs are enabled.
            case GicReg.PropBaser: return cpu.LpisEnabled && write ? 0 : Access64(ref cpu.PropBaser, regOff, write, ref value);
            case GicReg.PendBaser: return cpu.LpisEnabled && write ? 0 : Access64(ref cpu.PendBaser, regOff, write, ref value);
            case GicReg.ClearPendingSgi:
            case GicReg.SetPendingSgi:
            {
                int firstSgi = (int)regOff;
                uint result = 0;
                for (int i = 0; i < 4; i++)
                {
                    var irq = cpu.Private[firstSgi + i];
                    byte bits = (byte)(value >> (8 * i));
                    if (!write) { result |= (uint)irq.SgiSources << (8 * i); continue; }
                    if (r.Kind == GicReg.SetPendingSgi) irq.SgiSources |= bits; else irq.SgiSources &= (byte)~bits;
                    irq.PendingLatch = irq.SgiSources != 0;
                }
                if (!write) value = result;
                return 0;
            }
            case GicReg.CpuCtlr:
                if (write) cpu.GiccCtlr = value & 0x21f; else value = cpu.GiccCtlr; // EnableGrp0/1, AckCtl, FIQEn, CBPR, EOImodeNS
                return 0;
            case GicReg.CpuPmr:
                if (write) cpu.GiccPmr = value & PriorityMask; else value = cpu.GiccPmr;
                return 0;
            case GicReg.CpuBpr:
                if (write) cpu.GiccBpr = value & 7; else value = cpu.GiccBpr;
                return 0;
            case GicReg.CpuAbpr:
                if (write) cpu.GiccAbpr = value & 7; else value = cpu.GiccAbpr;
                return 0;
            case GicReg.CpuApr:
                // Five priority bits need only GICC_APR0; the others are RAZ/WI.
                if (regOff != 0) { if (!write) value = 0; return 0; }
                if (write) cpu.GiccApr0 = value; else value = cpu.GiccApr0;
                return 0;
            case GicReg.CpuIidr:
                return ReadOnly(write, ref value, (ProductIdKvm << 20) | (2u << 16) | ImplementerArm);
            default:
                if (!write) value = 0;
                return 0;
        }
    }

    private static uint Iidr(Distributor d) => (ProductIdKvm << 24) | ((uint)d.ImplementationRev << 12) | ImplementerArm;

    private static int AccessIidr(Distributor d, bool write, ref uint value, int minRev, int maxRev)
    {
        if (!write) { value = Iidr(d); return 0; }
        // Only the revision field may change, to one KVM knows.
        if (((value ^ Iidr(d)) & ~0xF000u) != 0) return -Errno.EINVAL;
        int rev = (int)((value >> 12) & 0xF);
        if (rev < minRev || rev > maxRev) return -Errno.EINVAL;
        d.ImplementationRev = rev;
        return 0;
    }

    private static int ReadOnly(bool write, ref uint value, uint current)
    {
        if (!write) value = current;
        return 0;
    }

    private static int Access64(ref ulong reg, uint regOff, bool write, ref uint value)
    {
        bool high = (regOff & 4) != 0;
        if (!write) { value = high ? (uint)(reg >> 32) : (uint)reg; return 0; }
        reg = high ? (reg & 0xffffffff) | ((ulong)value << 32) : (reg & ~0xfffffffful) | value;
        return 0;
    }
}
