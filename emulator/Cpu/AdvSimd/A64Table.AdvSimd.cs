using Kvmfs.Emulator.Cpu.AdvSimd;

namespace Kvmfs.Emulator.Cpu;

public static unsafe partial class A64Table
{
    /// <summary>
    /// All SIMD&amp;FP data-processing classes, scalar FP included (<see cref="FpSimdTable"/>): emulator/Fpu
    /// is a pure library without CPU types, so AddFloatingPoint stays empty on purpose.
    /// </summary>
    static partial void AddAdvSimd(DecodeTable table) => FpSimdTable.Register(table);
}
