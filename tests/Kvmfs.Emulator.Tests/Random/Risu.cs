using System.Runtime.InteropServices;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;
using Kvmfs.Emulator.Tests.AdvSimd;
using Kvmfs.Emulator.Tests.Cpu;

namespace Kvmfs.Emulator.Tests.RandomInstructions;

/// <summary>The record risurun.c reads and writes: the whole EL0 register state, the sequence and the scratch memory.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct RisuRecord
{
    public const int MaxInstructions = 16;
    public const ulong ScratchBase = 0x4000_0000;
    public const int ScratchSize = 0x4000;

    public fixed ulong X[31];
    public ulong Sp;
    public fixed ulong V[64];
    public uint Nzcv, Fpcr, Fpsr;
    public uint Count, Signal, Pad;
    public fixed uint Insn[MaxInstructions];
    public fixed byte Mem[ScratchSize];
}

/// <summary>
/// One encoding class of the random differential test: the decode-table lines its words are drawn from,
/// and a fix-up that turns a random word inside a line's pattern into one with sane operands (base
/// registers that point into the scratch buffer, distinct registers where the architecture says
/// UNPREDICTABLE otherwise, small immediates).
/// </summary>
public sealed class RisuClass
{
    public required string Name;
    public required string[] Lines { get; set; }
    /// <summary>Adjusts a random word drawn from a line's pattern.</summary>
    public Func<System.Random, uint, uint> Fix = (_, w) => w;
    /// <summary>When set, builds the whole sequence (exclusives need load/store pairing).</summary>
    public Func<System.Random, Func<string, System.Random, uint>, uint[]>? Sequence;
}

/// <summary>
/// The generator, the emulator side and the comparison of the risu-style test. Register conventions of the
/// load/store classes: X20-X27 are base registers (pointing into the scratch buffer, 16-byte aligned),
/// X28/X29 are small index registers (0..127), all other GPRs (and XZR) are data registers. Loads never
/// write a base or index register, so every address stays inside the 16 KiB buffer.
/// </summary>
public static unsafe class Risu
{
    public const ulong CodeBase = 0x10000;
    const uint Svc0 = 0xD4000001;

    static readonly uint[] DataRegs = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 30, 31 };

    static uint Field(uint w, int lsb, int width, uint value) => (w & ~(((1u << width) - 1) << lsb)) | ((value & ((1u << width) - 1)) << lsb);
    static uint Pick(System.Random r, uint[] set) => set[r.Next(set.Length)];
    static uint Base(System.Random r) => 20u + (uint)r.Next(8);
    static uint Index(System.Random r) => 28u + (uint)r.Next(2);

    /// <summary>Operand constraints for every load/store line (GPR and SIMD&amp;FP, pairs, structures).</summary>
    static uint FixLoadStore(System.Random r, uint w)
    {
        // SP is a base register too, one time in eight (it points into the scratch buffer as well).
        w = Field(w, 5, 5, r.Next(8) == 0 ? 31u : Base(r));
        bool vector = ((w >> 26) & 1) != 0;
        uint op = (w >> 24) & 0x3F;  // bits 29:24
        bool structure = (w & 0xBE00_0000) == 0x0C00_0000;
        if (structure)
        {
            // Post-index by register: X28/X29 or #imm (Rm = 31).
            if (((w >> 23) & 1) != 0) w = Field(w, 16, 5, r.Next(3) == 0 ? Index(r) : 31);
            return w;
        }
        bool pair = ((w >> 27) & 7) == 0b101;
        if (!vector) w = Field(w, 0, 5, Pick(r, DataRegs));
        if (pair)
        {
            uint rt = w & 31;
            uint rt2 = vector ? (uint)r.Next(32) : Pick(r, DataRegs);
            if (rt2 == rt) rt2 = (rt + 1) & (vector ? 31u : 15u);   // a load to the same register twice is UNPREDICTABLE
            w = Field(w, 10, 5, rt2);
            return w;
        }
        if ((op & 0x3B) == 0x39) w = Field(w, 10, 12, (uint)r.Next(32));          // unsigned offset: keep it small
        else if (((w >> 21) & 1) != 0 && ((w >> 10) & 3) == 2) w = Field(w, 16, 5, Index(r)); // register offset
        return w;
    }

    /// <summary>Exclusive sequences: CLREX; optional LDAR/STLR; a load-exclusive and the matching store-exclusive
    /// to the same base and size (or, one time in four, a store-exclusive with no reservation, which fails).</summary>
    static uint[] ExclusiveSequence(System.Random r, Func<string, System.Random, uint> draw)
    {
        var seq = new List<uint> { 0xD503305F };  // clrex
        if (r.Next(2) == 0)
        {
            // LDAR/STLR: size, L random; Rs and Rt2 must be ones.
            uint w = 0x0880_FC00 | (uint)r.Next(4) << 30 | (uint)r.Next(2) << 22 | 1u << 23 | 31u << 16;
            seq.Add(w | Base(r) << 5 | Pick(r, DataRegs));
        }
        bool pair = r.Next(3) == 0;
        uint size = pair ? 2u + (uint)r.Next(2) : (uint)r.Next(4);
        uint b = Base(r);
        uint rt = Pick(r, DataRegs), rt2 = Pick(r, DataRegs);
        if (rt2 == rt) rt2 = (rt + 1) & 15;
        uint o1 = pair ? 1u << 21 : 0;
        uint load = 0x0840_0000 | size << 30 | o1 | 31u << 16 | (uint)r.Next(2) << 15 | (pair ? rt2 : 31u) << 10 | b << 5 | rt;
        bool withReservation = r.Next(4) != 0;
        if (withReservation) seq.Add(load);
        uint rs = Pick(r, DataRegs);
        uint st = Pick(r, DataRegs), st2 = Pick(r, DataRegs);
        while (rs == st || (pair && rs == st2) || rs == 31) rs = (rs + 1) % 20;
        uint store = 0x0800_0000 | size << 30 | o1 | rs << 16 | (uint)r.Next(2) << 15 | (pair ? st2 : 31u) << 10 | b << 5 | st;
        seq.Add(store);
        return seq.ToArray();
    }

    static uint RandomWord(System.Random r)
    {
        while (true)
        {
            uint w = (uint)r.NextInt64();
            uint op0 = (w >> 25) & 0xF;
            if ((op0 & 0b1110) == 0b1010) continue;                          // branches, exceptions, system
            if (op0 == 0b0010) continue;                                      // SVE
            if ((w & 0x1F00_0000) == 0x1000_0000) continue;                   // ADR/ADRP
            if ((w & 0x3B00_0000) == 0x1800_0000) continue;                   // LDR (literal), PRFM (literal)
            if ((op0 & 0b0101) == 0b0100) w = FixLoadStore(r, w);             // loads/stores: addresses in the scratch buffer
            return w;
        }
    }

    public static readonly RisuClass[] Classes =
    {
        new() { Name = "integer data processing (immediate)", Lines = new[] { "ADD/ADDS/SUB/SUBS (immediate)", "MOVN/MOVZ/MOVK", "AND/ORR/EOR/ANDS (immediate)" } },
        new() { Name = "integer data processing (register)", Lines = new[] { "AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register)", "ADD/SUB (shifted register)",
            "ADD/SUB (extended register)", "ADC/ADCS/SBC/SBCS", "data processing (1 source)", "EXTR" } },
        new() { Name = "bitfield", Lines = new[] { "SBFM/BFM/UBFM", "EXTR" } },
        new() { Name = "conditional select/compare", Lines = new[] { "CSEL/CSINC/CSINV/CSNEG", "CCMN/CCMP" } },
        new() { Name = "multiply/divide, CRC32, shifts", Lines = new[] { "data processing (3 source)", "data processing (2 source)" } },
        new() { Name = "load/store GPR", Lines = new[] { "LDR/STR (unsigned immediate, GPR)", "LDUR/STUR, LDR/STR (pre/post-index, GPR)", "LDR/STR (register offset, GPR)",
            "LDP/STP/LDPSW (GPR)", "LDP/STP/LDPSW (GPR, pre-index)", "LDP/STP (GPR, signed offset)", "LDNP/STNP (GPR)" }, Fix = FixLoadStore },
        new() { Name = "load/store SIMD&FP", Lines = new[] { "LDR/STR (unsigned immediate, SIMD&FP)", "LDUR/STUR, LDR/STR (pre/post-index, register offset, SIMD&FP)",
            "LDP/STP/LDNP/STNP (SIMD&FP)" }, Fix = FixLoadStore },
        new() { Name = "load/store structures", Lines = new[] { "LD1-LD4/ST1-ST4 (multiple structures)", "LD1-LD4/ST1-ST4 (multiple structures, post-index)",
            "LD1-LD4/ST1-ST4 (single structure), LD1R-LD4R", "LD1-LD4/ST1-ST4 (single structure, post-index), LD1R-LD4R" }, Fix = FixLoadStore },
        new() { Name = "exclusives, acquire/release", Lines = new[] { "load/store exclusive, LDAR/STLR", "CLREX" }, Sequence = ExclusiveSequence },
        new() { Name = "scalar FP", Lines = new[] { "FP<->fixed", "FP<->int", "FP 1-source", "FP compare", "FP immediate", "FP cond compare", "FP 2-source",
            "FP cond select", "FP 3-source" } },
        new() { Name = "AdvSIMD integer", Lines = new[] { "SIMD three same", "SIMD three different", "SIMD two-reg misc", "SIMD across lanes", "SIMD modified immediate",
            "SIMD shift by immediate", "SIMD scalar three same", "SIMD scalar three different", "SIMD scalar two-reg misc", "SIMD scalar shift by immediate" },
            // Integer opcodes only: three-same opcodes 11xxx and two-reg-misc opcodes >= 01100 with size<1>/U patterns are FP.
            Fix = (r, w) => ((w >> 10) & 1) == 1 && ((w >> 14) & 3) == 3 && ((w >> 21) & 1) == 1 ? w & ~(1u << 14) : w },
        new() { Name = "AdvSIMD FP", Lines = new[] { "SIMD three same", "SIMD two-reg misc", "SIMD by element", "SIMD scalar three same", "SIMD scalar two-reg misc",
            "SIMD scalar pairwise", "SIMD scalar by element", "SIMD across lanes" },
            Fix = (r, w) => ((w >> 10) & 1) == 1 ? w | 3u << 14 : (((w >> 10) & 3) == 2 ? w | 1u << 16 | 1u << 15 : w) },
        new() { Name = "permutes", Lines = new[] { "SIMD permute", "SIMD EXT", "SIMD TBL/TBX", "SIMD copy", "SIMD scalar copy" } },
        new() { Name = "crypto", Lines = new[] { "Crypto AES", "Crypto SHA three-reg", "Crypto SHA two-reg" } },
        // Uniformly random words from the whole A64 space, one per sequence: allocated-or-not must agree with qemu
        // (Undefined = SIGILL). Left out: branches/exception generation/system (op0 = x101) because they leave the
        // sequence, SVE (op0 = 0010) and SME (op0 = 0000 with bit 31 set) which qemu's cortex-a57 lacks too but
        // whose space is large, and PC-relative ADR/ADRP/LDR (literal) whose results depend on the address.
        new() { Name = "whole encoding space (allocated vs UNDEFINED)", Lines = Array.Empty<string>(), Sequence = (r, _) => new[] { RandomWord(r) } },
        // Every line above in one sequence: flags, FPSR and registers flow between classes.
        new() { Name = "mixed (all lines above)", Lines = Array.Empty<string>(), Fix = (r, w) => ((w >> 25) & 5) == 4 ? FixLoadStore(r, w) : w },
    };

    static Risu()
    {
        var all = new List<string>();
        foreach (var c in Classes)
            if (c.Sequence == null)
                foreach (var l in c.Lines)
                    if (!all.Contains(l)) all.Add(l);
        Classes[^1].Lines = all.ToArray();
    }

    static Encoding Line(string name)
    {
        foreach (var e in A64Table.Default.Encodings)
            if (e.Name == name) return e;
        throw new InvalidOperationException($"decode table has no line \"{name}\"");
    }

    /// <summary>A random word inside the named line's pattern.</summary>
    public static uint Draw(string line, System.Random r)
    {
        var e = Line(line);
        return e.Value | ((uint)r.NextInt64() & ~e.Mask);
    }

    public static RisuRecord RandomState(System.Random r, uint[] sequence, bool randomFpcr)
    {
        var rec = new RisuRecord { Count = (uint)sequence.Length };
        for (int k = 0; k < sequence.Length; k++) rec.Insn[k] = sequence[k];
        for (int k = 0; k < 31; k++) rec.X[k] = SimdDiff.RandomLane64(r);
        // Base registers: 16-byte aligned, within 1 KiB of the middle of the buffer; index registers: 0..127.
        for (int k = 20; k < 28; k++) rec.X[k] = RisuRecord.ScratchBase + RisuRecord.ScratchSize / 2 + (ulong)((r.Next(129) - 64) * 16);
        rec.X[28] = (ulong)r.Next(128);
        rec.X[29] = (ulong)r.Next(128);
        rec.Sp = RisuRecord.ScratchBase + RisuRecord.ScratchSize / 2;
        for (int k = 0; k < 64; k++) rec.V[k] = SimdDiff.RandomLane64(r);
        rec.Nzcv = (uint)r.Next(16) << 28;
        rec.Fpcr = randomFpcr ? SimdDiff.Fpcrs[r.Next(SimdDiff.Fpcrs.Length)] : 0;
        rec.Fpsr = 0;
        for (int k = 0; k < RisuRecord.ScratchSize; k += 8)
            *(ulong*)(rec.Mem + k) = r.Next(4) == 0 ? SimdDiff.RandomLane64(r) : (ulong)r.NextInt64();
        return rec;
    }

    /// <summary>The emulator side: a code page at <see cref="CodeBase"/> and the scratch buffer at the harness's address.</summary>
    public sealed class Machine : IMemorySystem, IDisposable
    {
        readonly byte* code = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
        readonly byte* scratch = (byte*)NativeMemory.AlignedAlloc(RisuRecord.ScratchSize, 4096);
        readonly RecordingSupervisor supervisor = new();
        public readonly ArmCpu Cpu;

        public Machine()
        {
            Cpu = new ArmCpu(this) { Supervisor = supervisor };
            Cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20;
            // SCTLR_EL1 as Linux runs EL0 (qemu-aarch64 user mode behaves so): CTR_EL0, DC ZVA, WFI/WFE, cache maintenance.
            Cpu.Sys(SysReg.SCTLR_EL1) |= 1UL << 14 | 1UL << 15 | 1UL << 16 | 1UL << 18 | 1UL << 26;
            Cpu.SetElAndSpSel(0, 0);
        }

        public bool Translate(ArmCpu cpu, ulong va, AccessType type, out PageTranslation page, out Fault fault)
        {
            page = default; fault = default;
            if (va >> 12 == CodeBase >> 12) { page.HostPage = code; page.PhysicalPage = CodeBase; page.Perms = PagePerms.Read | PagePerms.Execute; return true; }
            if (va - RisuRecord.ScratchBase < RisuRecord.ScratchSize)
            {
                ulong off = (va - RisuRecord.ScratchBase) & ~0xFFFUL;
                page.HostPage = scratch + off; page.PhysicalPage = RisuRecord.ScratchBase + off; page.Perms = PagePerms.Read | PagePerms.Write;
                return true;
            }
            fault = new Fault(FaultKind.Translation, 3);
            return false;
        }

        public bool MmioRead(ArmCpu cpu, ulong pa, int size, out ulong value) { value = 0; return false; }
        public bool MmioWrite(ArmCpu cpu, ulong pa, int size, ulong value) => false;

        /// <summary>Whether our decoder and handlers accept the word (run once from a neutral state, Undefined = no).</summary>
        public bool IsDefined(uint word)
        {
            var rec = new RisuRecord { Count = 1 };
            rec.Insn[0] = word;
            for (int k = 20; k < 28; k++) rec.X[k] = RisuRecord.ScratchBase + RisuRecord.ScratchSize / 2;
            rec.Sp = RisuRecord.ScratchBase + RisuRecord.ScratchSize / 2;
            Execute(ref rec);
            return rec.Signal != 4;
        }

        /// <summary>Runs the record's sequence from its state and writes the resulting state back, as risurun does.</summary>
        public void Execute(ref RisuRecord rec)
        {
            CpuState* s = Cpu.S;
            uint n = Math.Min(rec.Count, RisuRecord.MaxInstructions);
            for (int k = 0; k < n; k++) ((uint*)code)[k] = rec.Insn[k];
            ((uint*)code)[n] = Svc0;
            Cpu.FlushDecodedBlocks();
            fixed (byte* m = rec.Mem) Buffer.MemoryCopy(m, scratch, RisuRecord.ScratchSize, RisuRecord.ScratchSize);
            Cpu.SetElAndSpSel(0, 0);
            for (int k = 0; k < 31; k++) s->X[k] = rec.X[k];
            s->X[31] = rec.Sp;
            for (int k = 0; k < 64; k++) s->V[k] = rec.V[k];
            s->Nzcv = rec.Nzcv; s->Fpcr = rec.Fpcr; s->Fpsr = rec.Fpsr;
            s->ExclusiveSize = 0;
            s->PC = CodeBase;
            supervisor.Exceptions.Clear();
            Cpu.Run(1000);
            rec.Signal = 0;
            if (supervisor.Exceptions.Count == 0) throw new InvalidOperationException("sequence did not reach its SVC");
            uint esr = supervisor.Exceptions[0].Esr;
            uint ec = esr >> 26;
            if (ec != ExceptionClass.Svc64)
            {
                rec.Signal = ec switch
                {
                    ExceptionClass.Unknown => 4u,                                                    // SIGILL
                    ExceptionClass.SpAlignment or ExceptionClass.PcAlignment => 7u,                  // SIGBUS
                    ExceptionClass.DataAbortLower or ExceptionClass.DataAbortSame => (esr & 0x3F) == 0x21 ? 7u : 11u,
                    _ => 100 + ec,
                };
            }
            else
            {
                for (int k = 0; k < 31; k++) rec.X[k] = s->X[k];
                rec.Sp = s->X[31];
                for (int k = 0; k < 64; k++) rec.V[k] = s->V[k];
                rec.Nzcv = s->Nzcv; rec.Fpsr = s->Fpsr;
            }
            fixed (byte* m = rec.Mem) Buffer.MemoryCopy(scratch, m, RisuRecord.ScratchSize, RisuRecord.ScratchSize);
        }

        public void Dispose()
        {
            Cpu.Dispose();
            NativeMemory.AlignedFree(code);
            NativeMemory.AlignedFree(scratch);
        }
    }

    /// <summary>Runs the records through risurun under qemu-aarch64-static (-cpu cortex-a57).</summary>
    public static RisuRecord[] RunQemu(RisuRecord[] input, string sourceDir)
    {
        string exe = Path.Combine(Path.GetTempPath(), $"kvmfs-risurun-{Environment.ProcessId}");
        string inFile = exe + ".in";
        try
        {
            SimdDiff.Run("aarch64-linux-gnu-gcc", $"-O1 -static -o {exe} {Path.Combine(sourceDir, "risurun.c")}", null);
            var bytes = MemoryMarshal.AsBytes(input.AsSpan()).ToArray();
            File.WriteAllBytes(inFile, bytes);
            var output = SimdDiff.Run("/bin/sh", $"-c \"qemu-aarch64-static -cpu cortex-a57 {exe} < {inFile}\"", null);
            if (output.Length != bytes.Length) throw new InvalidOperationException($"risurun returned {output.Length} bytes, expected {bytes.Length}");
            return MemoryMarshal.Cast<byte, RisuRecord>(output).ToArray();
        }
        finally
        {
            File.Delete(exe);
            File.Delete(inFile);
        }
    }

    static string Disassemble(in RisuRecord r)
    {
        var sb = new System.Text.StringBuilder();
        for (int k = 0; k < r.Count; k++) sb.Append(k == 0 ? "" : " ").Append(r.Insn[k].ToString("x8"));
        return sb.ToString();
    }

    /// <summary>Null when equal, else the differences (qemu/ours).</summary>
    public static string? Compare(in RisuRecord expected, in RisuRecord actual)
    {
        string seq = Disassemble(expected);
        if (expected.Signal != actual.Signal)
            return $"[{seq}] fpcr {expected.Fpcr:x}: qemu signal {expected.Signal}, ours {actual.Signal}";
        var sb = new System.Text.StringBuilder();
        if (expected.Signal == 0)
        {
            for (int k = 0; k < 31; k++)
                if (expected.X[k] != actual.X[k]) sb.Append($" X{k} {expected.X[k]:x16}/{actual.X[k]:x16}");
            if (expected.Sp != actual.Sp) sb.Append($" SP {expected.Sp:x16}/{actual.Sp:x16}");
            for (int k = 0; k < 64; k++)
                if (expected.V[k] != actual.V[k]) sb.Append($" V{k / 2}.{(k & 1) switch { 0 => "lo", _ => "hi" }} {expected.V[k]:x16}/{actual.V[k]:x16}");
            if (expected.Nzcv != actual.Nzcv) sb.Append($" NZCV {expected.Nzcv:x}/{actual.Nzcv:x}");
            if (expected.Fpsr != actual.Fpsr) sb.Append($" FPSR {expected.Fpsr:x}/{actual.Fpsr:x}");
        }
        fixed (byte* e = expected.Mem)
        fixed (byte* a = actual.Mem)
        {
            int diffs = 0;
            for (int k = 0; k < RisuRecord.ScratchSize; k++)
                if (e[k] != a[k] && diffs++ < 4) sb.Append($" mem[{RisuRecord.ScratchBase + (ulong)k:x}] {e[k]:x2}/{a[k]:x2}");
            if (diffs > 4) sb.Append($" (+{diffs - 4} more bytes)");
        }
        return sb.Length == 0 ? null : $"[{seq}] fpcr {expected.Fpcr:x}: (qemu/ours){sb}";
    }
}
