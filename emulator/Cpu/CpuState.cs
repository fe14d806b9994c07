using System.Runtime.InteropServices;

namespace Kvmfs.Emulator.Cpu;

/// <summary>
/// The architectural state of one AArch64 PE, laid out as one unmanaged struct so the
/// interpreter (and a later IL translator) reaches every register through a fixed offset
/// from a pointer. It lives in native memory owned by <see cref="ArmCpu"/>.
/// X[31] holds the *current* stack pointer (the one PSTATE.SPSel and the EL select);
/// the banked SP_ELx copies are only up to date for the ones not in use
/// (use <see cref="ArmCpu.GetSp"/>/<see cref="ArmCpu.SetSp"/> for a specific bank).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct CpuState
{
    /// <summary>X0..X30, and at [31] the current SP.</summary>
    public fixed ulong X[32];
    /// <summary>The program counter of the instruction being executed (or the next one between blocks).</summary>
    public ulong PC;
    /// <summary>Banked stack pointers; the one in use is mirrored in X[31].</summary>
    public fixed ulong SpEl[4];

    /// <summary>PSTATE.NZCV in bits 31:28, the same layout as the NZCV system register.</summary>
    public uint Nzcv;
    /// <summary>PSTATE.{D,A,I,F} in bits 9:6, the same layout as the DAIF system register.</summary>
    public uint Daif;
    /// <summary>PSTATE.EL: 0..3 (not shifted).</summary>
    public uint CurrentEl;
    /// <summary>PSTATE.SP: 0 = SP_EL0, 1 = SP_ELx.</summary>
    public uint SpSel;
    /// <summary>Other PSTATE bits in their SPSR positions: PAN(22), UAO(23), SS(21), IL(20), DIT(24), TCO(25), SSBS(12), BTYPE(11:10).</summary>
    public uint PstateOther;

    /// <summary>V0..V31: 128 bits each, V[2n] = low 64 bits of Vn, V[2n+1] = high 64 bits.</summary>
    public fixed ulong V[64];
    public uint Fpcr;
    public uint Fpsr;

    /// <summary>System registers with plain storage, indexed by <see cref="SysReg"/>.</summary>
    public fixed ulong Sys[(int)SysReg.Count];

    /// <summary>Local exclusive monitor: armed flag, address and the values seen by the load-exclusive.</summary>
    public ulong ExclusiveAddress;
    public ulong ExclusiveValue;
    public ulong ExclusiveValueHigh;
    public uint ExclusiveSize;   // 0 = monitor open (no reservation); else bytes reserved
    public uint EventRegister;   // WFE/SEV event flag
}

/// <summary>PSTATE/SPSR bit positions used when packing PSTATE into SPSR_ELx.</summary>
public static class Pstate
{
    public const uint N = 1u << 31, Z = 1u << 30, C = 1u << 29, V = 1u << 28;
    public const uint NzcvMask = 0xF000_0000;
    public const uint D = 1u << 9, A = 1u << 8, I = 1u << 7, F = 1u << 6;
    public const uint DaifMask = 0x3C0;
    public const uint Pan = 1u << 22, Uao = 1u << 23, Ss = 1u << 21, Il = 1u << 20;
    public const uint OtherMask = Pan | Uao | Ss | Il | (1u << 24) | (1u << 25) | (1u << 12) | (3u << 10);
    /// <summary>M[3:0] encodings for AArch64: EL0t, EL1t, EL1h, EL2t, EL2h.</summary>
    public const uint EL0t = 0b0000, EL1t = 0b0100, EL1h = 0b0101, EL2t = 0b1000, EL2h = 0b1001;
}
