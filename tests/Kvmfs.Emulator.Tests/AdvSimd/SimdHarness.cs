using System.Runtime.InteropServices;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Cpu.AdvSimd;
using Kvmfs.Emulator.Tests.Cpu;

namespace Kvmfs.Emulator.Tests.AdvSimd;

/// <summary>
/// Runs one FP/AdvSIMD instruction on our implementation: the register state of a record is copied
/// into a <see cref="CpuState"/>, the word goes through the same encoding-class lines the CPU's
/// decode table uses (<see cref="FpSimdTable.Execute"/>), and the state is copied back.
/// </summary>
public static unsafe class SimdHarness
{
    public static void Execute(ref SimdRecord r)
    {
        var st = (CpuState*)NativeMemory.AllocZeroed((nuint)sizeof(CpuState));
        try
        {
            LoadState(st, ref r);
            if (!FpSimdTable.Execute(st, r.Insn))
            {
                r.Undef = 1;
                r.Fpsr = 0;
                return;
            }
            StoreResult(st, ref r);
        }
        finally
        {
            NativeMemory.Free(st);
        }
    }

    /// <summary>A record's inputs into the CPU state (FPSR starts clear: the record's result collects the flags).</summary>
    static void LoadState(CpuState* st, ref SimdRecord r)
    {
        for (int k = 0; k < 64; k++) st->V[k] = r.V[k];
        for (int k = 0; k < 8; k++) st->X[k] = r.X[k];
        st->Fpcr = r.Fpcr;
        st->Fpsr = 0;
        st->Nzcv = r.Nzcv;
    }

    /// <summary>The state after a defined instruction back into the record.</summary>
    static void StoreResult(CpuState* st, ref SimdRecord r)
    {
        r.Undef = 0;
        for (int k = 0; k < 64; k++) r.V[k] = st->V[k];
        for (int k = 0; k < 8; k++) r.X[k] = st->X[k];
        r.Fpsr = st->Fpsr;
        r.Nzcv = st->Nzcv;
    }

    /// <summary>Whether our implementation accepts the word (from an all-zero state).</summary>
    public static bool IsDefined(uint insn)
    {
        var r = new SimdRecord { Insn = insn };
        Execute(ref r);
        return r.Undef == 0;
    }

    /// <summary>
    /// Runs one record on a real <see cref="ArmCpu"/> at EL0 (decode table, FP access check, Undefined
    /// exception to the supervisor included): the word is stored in flat memory and executed with Step().
    /// </summary>
    public sealed class OnArmCpu : IDisposable
    {
        readonly FlatMemory memory = new();
        readonly RecordingSupervisor supervisor = new();
        readonly ArmCpu cpu;

        public OnArmCpu()
        {
            cpu = new ArmCpu(memory) { Supervisor = supervisor };
        }

        public void Execute(ref SimdRecord r)
        {
            CpuState* st = cpu.S;
            cpu.SetElAndSpSel(0, 0);
            cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20;          // FPEN: FP/SIMD enabled at EL0 and EL1
            memory.Load(FlatMemory.Base, r.Insn);
            st->PC = FlatMemory.Base;
            LoadState(st, ref r);
            supervisor.Exceptions.Clear();
            cpu.Step();
            if (supervisor.Exceptions.Count > 0)
            {
                if ((supervisor.Exceptions[0].Esr >> 26) != ExceptionClass.Unknown)
                    throw new InvalidOperationException($"insn {r.Insn:x8}: unexpected exception, ESR {supervisor.Exceptions[0].Esr:x8}");
                r.Undef = 1;
                r.Fpsr = 0;
                return;
            }
            StoreResult(st, ref r);
        }

        public void Dispose()
        {
            cpu.Dispose();
            memory.Dispose();
        }
    }
}
