using System.Runtime.InteropServices;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Cpu.AdvSimd;

namespace Kvmfs.Emulator.Tests.AdvSimd;

/// <summary>CPACR_EL1.FPEN and CPTR_EL2.TFP decide whether and where FP/SIMD accesses trap.</summary>
public unsafe class FpAccessTests
{
    [Theory]
    [InlineData(0u, 0b11UL, false, 0)]
    [InlineData(0u, 0b01UL, false, 1)]   // FPEN=01 traps EL0 only
    [InlineData(1u, 0b01UL, false, 0)]
    [InlineData(1u, 0b00UL, false, 1)]
    [InlineData(1u, 0b10UL, false, 1)]
    [InlineData(0u, 0b11UL, true, 2)]    // CPTR_EL2.TFP traps to EL2
    [InlineData(1u, 0b00UL, true, 1)]    // CPACR_EL1 has priority
    [InlineData(2u, 0b00UL, false, 0)]   // CPACR_EL1 does not apply at EL2
    [InlineData(2u, 0b00UL, true, 2)]
    public void TrapLevel(uint el, ulong fpen, bool tfp, int expected)
    {
        var s = (CpuState*)NativeMemory.AllocZeroed((nuint)sizeof(CpuState));
        try
        {
            s->CurrentEl = el;
            s->Sys[(int)SysReg.CPACR_EL1] = fpen << 20;
            s->Sys[(int)SysReg.CPTR_EL2] = tfp ? 1UL << 10 : 0;
            Assert.Equal(expected, Guard.FpTrapLevel(s));
        }
        finally
        {
            NativeMemory.Free(s);
        }
    }
}
