namespace Kvmfs.Emulator.Fpu;

/// <summary>Rounding modes of the Arm pseudo-code (FPRounding). The first four match FPCR.RMode.</summary>
public enum FpRounding : byte { TieEven = 0, PosInf = 1, NegInf = 2, Zero = 3, TieAway = 4, Odd = 5 }

/// <summary>FPCR bits this ARMv8.0 model honours. The trap-enable bits are RES0 (no trapping support).</summary>
public static class Fpcr
{
    public const uint Ahp = 1u << 26, Dn = 1u << 25, Fz = 1u << 24, Fz16 = 1u << 19;
    public const int RModeShift = 22;
    /// <summary>Bits software can set on this model: AHP, DN, FZ, RMode (FZ16 is not advertised, traps not supported).</summary>
    public const uint WritableMask = Ahp | Dn | Fz | (3u << RModeShift);

    public static FpRounding RMode(uint fpcr) => (FpRounding)((fpcr >> RModeShift) & 3);
}

/// <summary>FPSR cumulative exception flags and QC.</summary>
public static class Fpsr
{
    public const uint Ioc = 1u << 0, Dzc = 1u << 1, Ofc = 1u << 2, Ufc = 1u << 3, Ixc = 1u << 4, Idc = 1u << 7;
    public const uint Qc = 1u << 27;
    public const uint WritableMask = Ioc | Dzc | Ofc | Ufc | Ixc | Idc | Qc | 0xF000_0000u;
}

/// <summary>The class of an unpacked operand (FPType). Denormals that survive FZ are <see cref="Finite"/>.</summary>
internal enum FpType : byte { Zero, Finite, Infinity, QNaN, SNaN }
