using System.Runtime.InteropServices;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Protocol.Uapi.KvmReg;

namespace Kvmfs.Kvm.OneReg;

/// <summary>
/// The core registers of a vCPU, kept exactly as struct kvm_regs lays them out: a core ONE_REG
/// id is an offset into that struct in 32-bit words, so get/set are byte copies once the id is
/// validated the way guest.c validates it.
/// </summary>
public sealed class CoreRegisters
{
    public const int Size = 864;
    private const int Words = Size / 4;
    private const int XOff = 0, SpOff = 248, PcOff = 256, PstateOff = 264, SpEl1Off = 272, ElrEl1Off = 280, SpsrOff = 288;
    private const int VregsOff = 336, FpsrOff = 336 + 512, FpcrOff = 336 + 516;

    /// <summary>struct kvm_regs, little endian.</summary>
    public byte[] Bytes { get; } = new byte[Size];

    public ulong X(int n) => BitConverter.ToUInt64(Bytes, XOff + 8 * n);
    public void SetX(int n, ulong v) => BitConverter.TryWriteBytes(Bytes.AsSpan(XOff + 8 * n), v);
    public ulong Sp { get => U64(SpOff); set => Set(SpOff, value); }
    public ulong Pc { get => U64(PcOff); set => Set(PcOff, value); }
    public ulong Pstate { get => U64(PstateOff); set => Set(PstateOff, value); }
    public ulong SpEl1 { get => U64(SpEl1Off); set => Set(SpEl1Off, value); }
    public ulong ElrEl1 { get => U64(ElrEl1Off); set => Set(ElrEl1Off, value); }
    public ulong Spsr(int i) => U64(SpsrOff + 8 * i);
    public uint Fpsr => BitConverter.ToUInt32(Bytes, FpsrOff);
    public uint Fpcr => BitConverter.ToUInt32(Bytes, FpcrOff);

    private ulong U64(int off) => BitConverter.ToUInt64(Bytes, off);
    private void Set(int off, ulong v) => BitConverter.TryWriteBytes(Bytes.AsSpan(off), v);

    public void Reset(ulong pstate)
    {
        Array.Clear(Bytes);
        Pstate = pstate;
    }

    /// <summary>core_reg_size_from_offset: the size of the field at word offset <paramref name="off"/>, or -1.</summary>
    public static int SizeAt(ulong off)
    {
        int size;
        if (off < (ulong)(SpsrOff + 40) / 4) size = 8;            // x0..x30, sp, pc, pstate, sp_el1, elr_el1, spsr[0..4]
        else if (off < (ulong)(VregsOff / 4)) return -1;          // padding before fp_regs
        else if (off < (ulong)(FpsrOff / 4)) size = 16;            // v0..v31
        else if (off == FpsrOff / 4 || off == FpcrOff / 4) size = 4;
        else return -1;
        if (off % (ulong)(size / 4) != 0) return -1;
        return size;
    }

    /// <summary>The core register ids KVM_GET_REG_LIST reports, in offset order.</summary>
    public static IEnumerable<ulong> Ids()
    {
        for (ulong off = 0; off < Words; off++)
        {
            int size = SizeAt(off);
            if (size < 0) continue;
            ulong sizeBits = size switch { 4 => KVM_REG_SIZE_U32, 8 => KVM_REG_SIZE_U64, _ => KVM_REG_SIZE_U128 };
            yield return KVM_REG_ARM64 | KVM_REG_ARM_CORE | sizeBits | off;
        }
    }

    /// <summary>
    /// Validates a core id (get_core_reg/set_core_reg): ENOENT when it points outside kvm_regs,
    /// EINVAL when it does not name a field of that exact size. Returns the byte offset.
    /// </summary>
    public static int Locate(ulong id, out int byteOffset, out int size)
    {
        ulong off = id & ~(KVM_REG_ARCH_MASK | KVM_REG_SIZE_MASK | KVM_REG_ARM_CORE);
        size = OneRegId.SizeBytes(id);
        byteOffset = 0;
        if (off >= Words || off + (ulong)(size / 4) >= Words) return -Errno.ENOENT;
        if (SizeAt(off) != size) return -Errno.EINVAL;
        byteOffset = (int)off * 4;
        return 0;
    }

    /// <summary>set_core_reg's PSTATE rule for an AArch64-only vCPU: EL0t, EL1t or EL1h.</summary>
    public static bool PstateModeValid(ulong pstate)
    {
        ulong mode = pstate & 0x1f;
        return mode is 0x0 or 0x4 or 0x5;
    }

    public static bool IsPstate(int byteOffset) => byteOffset == PstateOff;
}
