namespace Kvmfs.Kvm.Vgic;

/// <summary>
/// The state of one interrupt as the GIC architecture defines it: group, enable, pending latch,
/// active, priority, trigger configuration, routing, and the input line level. Delivery to the
/// guest (list registers) reads these once guests run.
/// </summary>
public sealed class VgicIrq(int intid)
{
    public int Intid { get; } = intid;
    public bool Group;          // 0 or 1
    public bool Enabled;
    public bool PendingLatch;   // edge pending, or a software-set pending bit
    public bool Active;
    public byte Priority;
    public bool Edge;           // ICFGR: true = edge triggered
    public bool LineLevel;      // the device's input line (level interrupts)
    public byte Targets;        // GICv2 ITARGETSR (SPIs), one bit per CPU interface
    public ulong Router;        // GICv3 IROUTER affinity (SPIs)
    public byte SgiSources;     // GICv2 SPENDSGIR: which CPUs made this SGI pending

    /// <summary>Pending as the distributor sees it: latch, or a level interrupt whose line is high.</summary>
    public bool Pending => PendingLatch || (!Edge && LineLevel);
}

/// <summary>
/// The vGIC distributor of one VM: the shared peripheral interrupts (SPIs) and the global
/// control state. Private interrupts (SGIs and PPIs) live in each vCPU's <see cref="VgicCpu"/>.
/// </summary>
public sealed class Distributor
{
    public const int NrSgis = 16;
    public const int NrPrivateIrqs = 32;
    /// <summary>VGIC_NR_IRQS_LEGACY: the interrupt count when the VMM sets none.</summary>
    public const int NrIrqsLegacy = 256;
    /// <summary>VGIC_MAX_RESERVED: the highest interrupt number NR_IRQS may reach.</summary>
    public const int MaxReserved = 1023;

    public Distributor(int nrSpis)
    {
        Spis = new VgicIrq[nrSpis];
        for (int i = 0; i < nrSpis; i++) Spis[i] = new VgicIrq(NrPrivateIrqs + i) { Edge = false };
    }

    public VgicIrq[] Spis { get; }
    public int NrIrqs => NrPrivateIrqs + Spis.Length;
    /// <summary>GICD_CTLR group enable.</summary>
    public bool Enabled;
    /// <summary>GICD_IIDR revision (KVM_VGIC_IMP_REV_*).</summary>
    public int ImplementationRev = 3;

    public VgicIrq? Spi(int intid) => intid >= NrPrivateIrqs && intid < NrIrqs ? Spis[intid - NrPrivateIrqs] : null;
}

/// <summary>One vCPU's side of the vGIC: its SGIs/PPIs, its redistributor (v3) and its CPU interface.</summary>
public sealed class VgicCpu
{
    public VgicCpu()
    {
        for (int i = 0; i < Distributor.NrPrivateIrqs; i++)
            Private[i] = new VgicIrq(i) { Edge = i < Distributor.NrSgis, Enabled = false };
    }

    public VgicIrq[] Private { get; } = new VgicIrq[Distributor.NrPrivateIrqs];

    // GICv2 CPU interface (GICC_*) as user space sees it.
    public uint GiccCtlr;
    public uint GiccPmr;
    // KVM resets the virtual CPU interface control (VMCR) to zero.
    public uint GiccBpr;
    public uint GiccAbpr;
    public uint GiccApr0;

    // GICv3 CPU interface (ICC_*_EL1) as KVM_DEV_ARM_VGIC_GRP_CPU_SYSREGS sees it.
    public ulong IccPmr;
    public ulong IccBpr0;
    public ulong IccBpr1;
    public bool IccCbpr;
    public bool IccEoiMode;
    public bool IccIgrpen0;
    public bool IccIgrpen1;
    public ulong[] IccAp0r { get; } = new ulong[4];
    public ulong[] IccAp1r { get; } = new ulong[4];

    // GICv3 redistributor: where this vCPU's frames are (null: no region has one for it yet).
    public RedistRegion? RdRegion;
    public int RdIndex;
    public ulong RdBase => RdRegion is null ? VgicState.AddrUndef : RdRegion.Base + (ulong)RdIndex * Protocol.Uapi.KvmVgic.KVM_VGIC_V3_REDIST_SIZE;
    /// <summary>GICR_CTLR.EnableLPIs (only with a vITS).</summary>
    public bool LpisEnabled;
    public ulong PropBaser;
    public ulong PendBaser;
}
