using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmVgic;

namespace Kvmfs.Kvm.Vgic;

/// <summary>
/// KVM_DEV_TYPE_ARM_VGIC_ITS ("kvm-arm-vgic-its"): a GICv3 Interrupt Translation Service as
/// user space configures and saves it: its base address, the ITS registers (GITS_*), reset and
/// the table save/restore controls. The guest-visible command queue and the LPI translations
/// come with guest execution; until a guest maps a device, every MSI is "blocked" (KVM_SIGNAL_MSI
/// returns 0), which is what KVM answers for an unmapped device too.
/// </summary>
public sealed class VgicItsDevice : KvmFile
{
    private const ulong GitsCtlrEnable = 1, GitsCtlrQuiescent = 1u << 31;
    private const ulong BaserValid = 1ul << 63;
    private const int BaserTypeShift = 56, BaserEntrySizeShift = 48;
    private const ulong BaserRoMask = (7ul << BaserTypeShift) | (0x1ful << BaserEntrySizeShift);
    private const ulong BaserTypeDevice = 1, BaserTypeCollection = 4;
    /// <summary>Inner RaWb cacheability, inner shareable, 64K pages: the reset attributes KVM gives both tables.</summary>
    private const ulong InitialBaser = (7ul << 59) | (1ul << 10) | (2ul << 8);
    /// <summary>ABI 0: device and collection table entries are 8 bytes.</summary>
    private const ulong EntrySize = 8;
    /// <summary>Offset of GITS_TRANSLATER, the MSI doorbell, from the ITS base.</summary>
    public const ulong TranslaterOffset = 0x10040;

    public VgicItsDevice(Vm vm, int id)
    {
        Vm = vm;
        Id = id;
        DeviceBaser = InitialBaser | (BaserTypeDevice << BaserTypeShift) | ((EntrySize - 1) << BaserEntrySizeShift);
        CollectionBaser = InitialBaser | (BaserTypeCollection << BaserTypeShift) | ((EntrySize - 1) << BaserEntrySizeShift);
    }

    public Vm Vm { get; }
    public override string Kind => "device";
    public override int Id { get; }
    protected override KvmFd FdKind => KvmFd.Device;

    public ulong Base = VgicState.AddrUndef;
    public bool Enabled;
    public ulong Cbaser, Creadr, Cwriter;
    public ulong DeviceBaser, CollectionBaser;

    public override void Release() => Vm.Put();

    public override IoctlResult Ioctl(IoctlCall call)
    {
        var attr = Read<KvmDeviceAttr>(call);
        int r = call.Command switch
        {
            KvmIoctls.KVM_SET_DEVICE_ATTR => Access(call, attr, true),
            KvmIoctls.KVM_GET_DEVICE_ATTR => Access(call, attr, false),
            KvmIoctls.KVM_HAS_DEVICE_ATTR => HasAttr(attr),
            _ => -Errno.ENOTTY,
        };
        return r < 0 ? Fail(call, -r, $"ITS group {attr.group} attr 0x{attr.attr:x}") : IoctlResult.Ok(r);
    }

    private static int HasAttr(in KvmDeviceAttr attr)
    {
        switch (attr.group)
        {
            case KVM_DEV_ARM_VGIC_GRP_ADDR:
                return attr.attr == KVM_VGIC_ITS_ADDR_TYPE ? 0 : -Errno.ENXIO;
            case KVM_DEV_ARM_VGIC_GRP_CTRL:
                return attr.attr is KVM_DEV_ARM_VGIC_CTRL_INIT or KVM_DEV_ARM_ITS_CTRL_RESET or KVM_DEV_ARM_ITS_SAVE_TABLES
                    or KVM_DEV_ARM_ITS_RESTORE_TABLES ? 0 : -Errno.ENXIO;
            case KVM_DEV_ARM_VGIC_GRP_ITS_REGS:
            {
                int r = CheckRegOffset(attr.attr);
                return r < 0 ? r : RegisterAt(attr.attr) is null ? -Errno.ENXIO : 0;
            }
            default:
                return -Errno.ENXIO;
        }
    }

    private int Access(IoctlCall call, in KvmDeviceAttr attr, bool write)
    {
        switch (attr.group)
        {
            case KVM_DEV_ARM_VGIC_GRP_ADDR:
            {
                if (attr.attr != KVM_VGIC_ITS_ADDR_TYPE) return -Errno.ENXIO;
                if (!write) return CopyU64ToUser(call, attr.addr, Base);
                if (CopyU64FromUser(call, attr.addr, out ulong addr) < 0) return -Errno.EFAULT;
                lock (Vm.Lock)
                {
                    int r = CheckIoRange(addr);
                    if (r == 0) Base = addr;
                    return r;
                }
            }
            case KVM_DEV_ARM_VGIC_GRP_CTRL:
                if (!write) return -Errno.ENXIO;
                if (attr.attr == KVM_DEV_ARM_VGIC_CTRL_INIT) return 0; // nothing left to do
                if (attr.attr is not (KVM_DEV_ARM_ITS_CTRL_RESET or KVM_DEV_ARM_ITS_SAVE_TABLES or KVM_DEV_ARM_ITS_RESTORE_TABLES)) return -Errno.ENXIO;
                ulong what = attr.attr;
                return Vm.WithAllVcpusLocked(() => Control(what));
            case KVM_DEV_ARM_VGIC_GRP_ITS_REGS:
            {
                if (Base == VgicState.AddrUndef) return -Errno.ENXIO;
                int r = CheckRegOffset(attr.attr);
                if (r < 0) return r;
                ulong value = 0;
                if (write && CopyU64FromUser(call, attr.addr, out value) < 0) return -Errno.EFAULT;
                ulong offset = attr.attr;
                r = Vm.WithAllVcpusLocked(() => AccessRegister(offset, write, ref value));
                return r == 0 && !write ? CopyU64ToUser(call, attr.addr, value) : r;
            }
            default:
                return -Errno.ENXIO;
        }
    }

    private int CheckIoRange(ulong addr)
    {
        if (Base != VgicState.AddrUndef) return -Errno.EEXIST;
        if ((addr & 0xffff) != 0) return -Errno.EINVAL;
        ulong ipa = 1ul << Vm.IpaBits;
        if (addr >= ipa || addr + KVM_VGIC_V3_ITS_SIZE > ipa) return -Errno.E2BIG;
        return 0;
    }

    /// <summary>64-bit registers take 64-bit aligned accesses only; CTLR, IIDR and the ID registers 32-bit ones.</summary>
    private static int CheckRegOffset(ulong offset)
    {
        ulong align = offset < 0x8 || offset >= 0xFFD0 ? 3ul : 7ul;
        return (offset & align) != 0 ? -Errno.EINVAL : 0;
    }

    private enum Gits { Ctlr, Iidr, Typer, Cbaser, Cwriter, Creadr, Baser, IdRegs, Translater }

    private static Gits? RegisterAt(ulong offset) => offset switch
    {
        0x0000 => Gits.Ctlr,
        0x0004 => Gits.Iidr,
        0x0008 => Gits.Typer,
        0x0080 => Gits.Cbaser,
        0x0088 => Gits.Cwriter,
        0x0090 => Gits.Creadr,
        >= 0x0100 and < 0x0140 => Gits.Baser,
        >= 0xFFD0 and < 0x10000 => Gits.IdRegs,
        TranslaterOffset => Gits.Translater,
        _ => null,
    };

    /// <summary>GITS_TYPER: physical LPIs, 16 device id bits, 16 event id bits, 8-byte ITT entries.</summary>
    public const ulong Typer = 1 | (15ul << 13) | (15ul << 8) | ((EntrySize - 1) << 4);
    private static ulong CmdQueueSize(ulong cbaser) => ((cbaser & 0xff) + 1) << 12;

    private int AccessRegister(ulong offset, bool write, ref ulong value)
    {
        switch (RegisterAt(offset))
        {
            case Gits.Ctlr:
                if (!write) { value = (Enabled ? GitsCtlrEnable : 0) | GitsCtlrQuiescent; return 0; }
                // The ITS can only be enabled once its tables and command queue are valid.
                bool enable = (value & GitsCtlrEnable) != 0;
                if (enable && !Enabled && ((DeviceBaser & BaserValid) == 0 || (CollectionBaser & BaserValid) == 0 || (Cbaser & BaserValid) == 0))
                    return 0;
                Enabled = enable;
                return 0;
            case Gits.Iidr:
                if (!write) { value = (0x4bul << 24) | 0x43b; return 0; } // KVM product, ABI revision 0, Arm
                return ((value >> 12) & 0xf) == 0 ? 0 : -Errno.EINVAL;   // only ABI 0 exists
            case Gits.Typer:
                if (!write) value = Typer;
                return 0;
            case Gits.Cbaser:
                if (!write) { value = Cbaser; return 0; }
                if (Enabled) return 0;
                Cbaser = value;
                Creadr = 0;
                return 0;
            case Gits.Cwriter:
                if (!write) { value = Cwriter; return 0; }
                if ((value & 0xFFFE0) >= CmdQueueSize(Cbaser)) return -Errno.EINVAL;
                Cwriter = value & 0xFFFE0;
                return 0;
            case Gits.Creadr:
                if (!write) { value = Creadr; return 0; }
                if (Enabled) return -Errno.EBUSY;
                if ((value & 0xFFFE0) >= CmdQueueSize(Cbaser)) return -Errno.EINVAL;
                Creadr = value & 0xFFFE0;
                return 0;
            case Gits.Baser:
            {
                int index = (int)((offset - 0x100) / 8);
                if (index > 1) { if (!write) value = 0; return 0; }
                ref ulong reg = ref index == 0 ? ref DeviceBaser : ref CollectionBaser;
                if (!write) { value = reg; return 0; }
                if (Enabled) return 0;
                ulong type = index == 0 ? BaserTypeDevice : BaserTypeCollection;
                ulong v = (value & ~BaserRoMask) | ((EntrySize - 1) << BaserEntrySizeShift) | (type << BaserTypeShift);
                if (((v >> 10) & 3) == 2) v = (v & ~(3ul << 10)) | (1ul << 10); // outer shareable is treated as inner
                reg = v;
                return 0;
            }
            case Gits.IdRegs:
                if (!write) value = offset == 0xFFE8 ? 0x3bul : 0; // PIDR2: GICv3 architecture
                return 0;
            case Gits.Translater:
                if (!write) value = 0;
                return 0;
            default:
                return -Errno.ENXIO;
        }
    }

    private int Control(ulong what)
    {
        switch (what)
        {
            case KVM_DEV_ARM_ITS_CTRL_RESET:
                Enabled = false;
                Creadr = Cwriter = Cbaser = 0;
                DeviceBaser &= ~BaserValid;
                CollectionBaser &= ~BaserValid;
                return 0;
            case KVM_DEV_ARM_ITS_SAVE_TABLES:
            case KVM_DEV_ARM_ITS_RESTORE_TABLES:
                // No device or collection has been mapped (mappings come from guest ITS
                // commands), so there is nothing to write or to read back.
                return 0;
            default:
                return -Errno.ENXIO;
        }
    }

    /// <summary>vgic_its_inject_msi for KVM_SIGNAL_MSI: 1 delivered, 0 blocked, or -errno.</summary>
    public int InjectMsi(in KvmMsi msi)
    {
        if (!Enabled) return -Errno.EBUSY;
        // No device is mapped before the guest issues MAPD/MAPTI: the MSI is blocked.
        return 0;
    }
}
