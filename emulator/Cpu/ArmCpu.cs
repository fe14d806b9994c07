using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Cpu;

/// <summary>One decoded instruction: the handler found once by the decode table, and the word.</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct DecodedOp
{
    public delegate* managed<ArmCpu, uint, void> Handler;
    public uint Insn;
}

/// <summary>A straight run of decoded instructions ending at a branch/system instruction or a page end.</summary>
public sealed unsafe class Block
{
    public readonly ulong Pc;
    public readonly DecodedOp[] Ops;   // pinned (allocated on the pinned object heap)
    public readonly DecodedOp* OpsPtr;
    public readonly int Count;
    /// <summary>The physical page the instructions were decoded from: a block is reused only while the
    /// current translation of <see cref="Pc"/> still lands there (so TLBI and address-space switches need
    /// not throw decoded code away).</summary>
    public ulong PhysicalPage;

    public Block(ulong pc, DecodedOp[] ops, int count)
    {
        Pc = pc; Ops = ops; Count = count;
        OpsPtr = (DecodedOp*)Unsafe.AsPointer(ref ops[0]);
    }
}

/// <summary>The software TLB entry: one 4 KiB virtual page, one tag per access type; host = va + Addend.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct TlbEntry
{
    public ulong ReadTag, WriteTag, ExecTag, Addend;
    public ulong PhysicalPage;
}

/// <summary>
/// An ARMv8-A AArch64 processing element: state (<see cref="CpuState"/> in native memory), the
/// software TLB, the decoded-block cache and the interpreter loop. Instruction semantics live in
/// <see cref="Handlers"/>; encodings in <see cref="A64Table"/>.
/// </summary>
public sealed unsafe partial class ArmCpu : IDisposable
{
    public const int TlbSize = 1024;
    const ulong InvalidTag = 1; // never equal to a page-aligned address
    const int MaxBlockInstructions = 64;

    /// <summary>The architectural state. Valid until <see cref="Dispose"/>.</summary>
    public readonly CpuState* S;
    public IMemorySystem Memory;
    public ISupervisor? Supervisor;
    public IHypervisor? Hypervisor;
    public readonly DecodeTable Table;

    /// <summary>Set by a handler that changed PC or state the rest of the block depends on.</summary>
    public bool EndBlock;
    /// <summary>Instructions executed (retired or faulted) since creation.</summary>
    public ulong InstructionCount;
    /// <summary>A number the user chooses; CPU index in MPIDR and logs.</summary>
    public readonly int Index;

    readonly TlbEntry* tlbBase;     // [3 regimes][TlbSize]: EL0, EL1, EL2 each have their own permissions
    TlbEntry* tlb;                  // the current regime's slice
    readonly Dictionary<ulong, Block> blocks = new();
    readonly Block?[] blockCache = new Block?[4096];
    volatile bool stopRequested;
    uint pendingInterrupts;         // bit per ExceptionKind (Irq=2, Fiq=4, SError=8)
    bool disposed;

    public ArmCpu(IMemorySystem memory, int index = 0, DecodeTable? table = null)
    {
        Memory = memory;
        Index = index;
        Table = table ?? A64Table.Default;
        S = (CpuState*)NativeMemory.AlignedAlloc((nuint)sizeof(CpuState), 64);
        tlbBase = (TlbEntry*)NativeMemory.AlignedAlloc((nuint)(sizeof(TlbEntry) * TlbSize * 3), 64);
        Reset();
    }

    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        NativeMemory.AlignedFree(S);
        NativeMemory.AlignedFree(tlbBase);
    }

    /// <summary>Architectural reset (as KVM_ARM_VCPU_INIT does): EL1h, DAIF masked, ID registers from <see cref="CpuIdentity"/>.</summary>
    public void Reset()
    {
        NativeMemory.Clear(S, (nuint)sizeof(CpuState));
        S->CurrentEl = 1;
        S->SpSel = 1;
        S->Daif = Pstate.DaifMask;
        Sys(SysReg.MIDR_EL1) = CpuIdentity.Midr;
        Sys(SysReg.MPIDR_EL1) = 0x8000_0000UL | (uint)(Index & 0xFF) | ((ulong)(Index >> 8) & 0xFF) << 8;
        Sys(SysReg.CTR_EL0) = CpuIdentity.Ctr;
        Sys(SysReg.DCZID_EL0) = CpuIdentity.Dczid;
        Sys(SysReg.CLIDR_EL1) = CpuIdentity.Clidr;
        Sys(SysReg.CCSIDR_EL1) = CpuIdentity.Ccsidr[0];
        Sys(SysReg.ID_AA64PFR0_EL1) = CpuIdentity.Aa64Pfr0;
        Sys(SysReg.ID_AA64DFR0_EL1) = CpuIdentity.Aa64Dfr0;
        Sys(SysReg.ID_AA64ISAR0_EL1) = CpuIdentity.Aa64Isar0;
        Sys(SysReg.ID_AA64MMFR0_EL1) = CpuIdentity.Aa64Mmfr0;
        Sys(SysReg.SCTLR_EL1) = 0x30D0_0800;                 // RES1 bits, MMU off
        Sys(SysReg.SCTLR_EL2) = 0x30C5_0830;
        Sys(SysReg.CNTFRQ_EL0) = CounterFrequency;
        Sys(SysReg.OSLSR_EL1) = 0x8;                         // OS lock implemented, unlocked
        Sys(SysReg.VPIDR_EL2) = Sys(SysReg.MIDR_EL1);
        Sys(SysReg.VMPIDR_EL2) = Sys(SysReg.MPIDR_EL1);
        Gic.GicCpuInterface.Reset(this);
        FlushTlb();
        tlb = tlbBase + TlbSize * 1;
        FlushDecodedBlocks();
    }

    public ref ulong Sys(SysReg r) => ref S->Sys[(int)r];

    // ---------------------------------------------------------------- registers

    /// <summary>Xn with register 31 reading as zero (XZR).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong X(uint n) => n == 31 ? 0 : S->X[n];
    /// <summary>Writes Xn; register 31 (XZR) discards.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetX(uint n, ulong value) { if (n != 31) S->X[n] = value; }
    /// <summary>Writes Wn (zero-extends into Xn).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetW(uint n, uint value) { if (n != 31) S->X[n] = value; }
    /// <summary>Xn with register 31 meaning the current SP.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong XSp(uint n) => S->X[n];
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetXSp(uint n, ulong value) => S->X[n] = value;

    /// <summary>Pointer to the 16 bytes of Vn (little-endian: byte 0 is the lowest lane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* V(uint n) => (byte*)(S->V + 2 * n);
    public UInt128 GetV(uint n) => new(S->V[2 * n + 1], S->V[2 * n]);
    public void SetV(uint n, UInt128 value) { S->V[2 * n] = (ulong)value; S->V[2 * n + 1] = (ulong)(value >> 64); }

    int SpBank => S->SpSel == 0 ? 0 : (int)S->CurrentEl;

    /// <summary>Reads a banked stack pointer (SP_EL0..SP_EL2) whether or not it is the current one.</summary>
    public ulong GetSp(int el) => el == SpBank ? S->X[31] : S->SpEl[el];
    public void SetSp(int el, ulong value) { if (el == SpBank) S->X[31] = value; else S->SpEl[el] = value; }

    /// <summary>Changes EL and SPSel, swapping the banked SP and the TLB regime.</summary>
    public void SetElAndSpSel(uint el, uint spSel)
    {
        S->SpEl[SpBank] = S->X[31];
        S->CurrentEl = el;
        S->SpSel = spSel;
        S->X[31] = S->SpEl[SpBank];
        tlb = tlbBase + TlbSize * (el == 0 ? 0 : el == 1 ? 1 : 2);
    }

    bool unprivilegedAccess;

    /// <summary>LDTR/STTR at EL1: the accesses are checked with EL0 permissions. PSTATE.EL reads as 0 and the EL0
    /// TLB slice is used until <see cref="EndUnprivileged"/> (an abort in between restores EL1 before it is taken).
    /// False (access as normal) at EL0 and EL2, or with PSTATE.UAO set.</summary>
    public bool BeginUnprivileged()
    {
        if (S->CurrentEl != 1 || (S->PstateOther & Pstate.Uao) != 0) return false;
        unprivilegedAccess = true;
        S->CurrentEl = 0;
        tlb = tlbBase;
        return true;
    }

    public void EndUnprivileged()
    {
        if (!unprivilegedAccess) return;
        unprivilegedAccess = false;
        S->CurrentEl = 1;
        tlb = tlbBase + TlbSize;
    }

    /// <summary>PSTATE packed in the SPSR_ELx layout.</summary>
    public uint GetPstate() =>
        S->Nzcv | S->Daif | S->PstateOther | (S->CurrentEl << 2) | S->SpSel;

    /// <summary>Sets PSTATE from an SPSR_ELx-format value (AArch64 modes only; an AArch32 mode becomes an illegal return handled by ERET).</summary>
    public void SetPstate(uint spsr)
    {
        S->Nzcv = spsr & Pstate.NzcvMask;
        S->Daif = spsr & Pstate.DaifMask;
        S->PstateOther = spsr & Pstate.OtherMask;
        SetElAndSpSel((spsr >> 2) & 3, spsr & 1);
    }

    // ---------------------------------------------------------------- flags and conditions

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ConditionHolds(uint cond)
    {
        uint f = S->Nzcv;
        bool r = (cond >> 1) switch
        {
            0 => (f & Pstate.Z) != 0,
            1 => (f & Pstate.C) != 0,
            2 => (f & Pstate.N) != 0,
            3 => (f & Pstate.V) != 0,
            4 => (f & Pstate.C) != 0 && (f & Pstate.Z) == 0,
            5 => ((f >> 31) & 1) == ((f >> 28) & 1),
            6 => ((f >> 31) & 1) == ((f >> 28) & 1) && (f & Pstate.Z) == 0,
            _ => true,
        };
        return (cond & 1) != 0 && cond != 15 ? !r : r;
    }

    // ---------------------------------------------------------------- control flow

    /// <summary>Ends the block and continues at <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Branch(ulong target) { S->PC = target; EndBlock = true; }

    /// <summary>WFI with nothing pending: <see cref="Run"/> returns <see cref="StopReason.WaitForInterrupt"/> with PC
    /// after the WFI; the caller sleeps until an interrupt line changes and runs again.</summary>
    public void RequestWaitForInterrupt()
    {
        waitForInterrupt = true;
        S->PC += 4;
        EndBlock = true;
    }
    bool waitForInterrupt;

    /// <summary>Asks <see cref="Run"/> to return after the current instruction. Thread-safe.</summary>
    public void RequestStop() { stopRequested = true; EndBlock = true; }

    /// <summary>Asserts or deasserts an interrupt line (IRQ, FIQ or SError). Thread-safe.</summary>
    public void SetInterruptLine(ExceptionKind kind, bool asserted)
    {
        uint bit = 1u << (int)kind;
        if (asserted) Interlocked.Or(ref pendingInterrupts, bit);
        else Interlocked.And(ref pendingInterrupts, ~bit);
    }

    /// <summary>Runs until stopped, or until at least <paramref name="maxInstructions"/> more instructions executed.</summary>
    public StopReason Run(ulong maxInstructions = ulong.MaxValue)
    {
        stopRequested = false;
        waitForInterrupt = false;
        ulong limit = maxInstructions == ulong.MaxValue ? ulong.MaxValue : InstructionCount + maxInstructions;
        while (true)
        {
            if (stopRequested) { stopRequested = false; return StopReason.StopRequested; }
            if (waitForInterrupt)
            {
                waitForInterrupt = false;
                if (!InterruptPending) return StopReason.WaitForInterrupt;
            }
            if (InstructionCount >= limit) return StopReason.InstructionLimit;
            if (RemoteMaintenancePending) ServiceRemoteMaintenance(); // TLBI/IC broadcast by another PE
            if (Volatile.Read(ref pendingInterrupts) != 0) TakePendingInterrupt();
            if (Hypervisor != null && S->CurrentEl < 2)
            {
                ulong hcr = S->Sys[(int)SysReg.HCR_EL2];
                if ((hcr & (Hcr.VI | Hcr.VF | Hcr.VSE)) != 0 || GicVirtualIrq || GicVirtualFiq) TakeVirtualInterrupt(hcr);
            }
            Block? block = GetBlock(S->PC);
            if (block == null) continue; // instruction abort taken
            ExecuteBlock(block);
        }
    }

    /// <summary>Executes exactly one instruction (decoded afresh; for tests and single-stepping).</summary>
    public void Step()
    {
        EndBlock = false;
        ulong pc = S->PC;
        if (!FetchWord(pc, out uint insn)) return;
        var handler = Table.Lookup(insn);
        handler(this, insn);
        InstructionCount++;
        if (!EndBlock) S->PC = pc + 4;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ExecuteBlock(Block block)
    {
        DecodedOp* op = block.OpsPtr;
        DecodedOp* end = op + block.Count;
        ulong pc = block.Pc;
        EndBlock = false;
        CpuState* s = S;
        for (; op < end; op++)
        {
            s->PC = pc;
            op->Handler(this, op->Insn);
            if (EndBlock) { op++; break; }
            pc += 4;
        }
        if (!EndBlock) s->PC = pc;
        InstructionCount += (ulong)(op - block.OpsPtr);
    }

    Block? GetBlock(ulong pc)
    {
        int slot = (int)((pc >> 2) & 4095);
        Block? b = blockCache[slot];
        TlbEntry* e = tlb + ((pc >> 12) & (TlbSize - 1));
        if (b != null && b.Pc == pc)
        {
            // Fast path: still executable here and still the same physical page (a TLBI or a switch of address
            // space may have remapped the VA; permissions can change without a flush of blocks).
            if (e->ExecTag == (pc & ~0xFFFUL) && e->PhysicalPage == b.PhysicalPage) return b;
        }
        else if (!blocks.TryGetValue(pc, out b)) b = null;
        if (b != null)
        {
            if (!FetchWord(pc, out _)) return null;
            if (e->PhysicalPage != b.PhysicalPage) b = null; // same VA, other physical page: decode afresh
        }
        if (b == null)
        {
            b = DecodeBlock(pc);
            if (b == null) return null;
            blocks[pc] = b;
            codePhysicalPages.Add(b.PhysicalPage);
        }
        blockCache[slot] = b;
        return b;
    }

    Block? DecodeBlock(ulong pc)
    {
        if ((pc & 3) != 0) { RaisePcAlignment(pc); return null; }
        if (!FetchWord(pc, out _)) return null;
        TlbEntry* e = tlb + ((pc >> 12) & (TlbSize - 1));
        byte* host = (byte*)(pc + e->Addend);
        int max = (int)((0x1000 - (pc & 0xFFF)) / 4);
        if (max > MaxBlockInstructions) max = MaxBlockInstructions;
        var ops = GC.AllocateArray<DecodedOp>(max, pinned: true);
        int n = 0;
        while (n < max)
        {
            uint insn = ((uint*)host)[n];
            ops[n].Handler = Table.Lookup(insn);
            ops[n].Insn = insn;
            n++;
            if (EndsBlock(insn)) break;
        }
        return new Block(pc, ops, n) { PhysicalPage = e->PhysicalPage };
    }

    /// <summary>Branches, exception generation and system instructions (op0 = x101) end a block:
    /// they change PC or state that later instructions' translation depends on.</summary>
    static bool EndsBlock(uint insn) => ((insn >> 26) & 7) == 0b101;

    /// <summary>Forget all decoded code (after IC IALLU, code writes, or a change of address space).</summary>
    public void FlushDecodedBlocks()
    {
        blocks.Clear();
        codePhysicalPages.Clear();
        Array.Clear(blockCache);
    }

    /// <summary>Physical pages that hold decoded blocks (so IC IVAU on a page without code costs nothing).</summary>
    readonly HashSet<ulong> codePhysicalPages = new();

    /// <summary>Forget decoded blocks taken from the physical page holding <paramref name="pa"/>, whatever VA
    /// they were decoded at (IC IVAU through another alias of the page, e.g. Linux's linear map).</summary>
    public void FlushDecodedBlocksAtPhysical(ulong pa)
    {
        ulong page = pa & ~0xFFFUL;
        if (!codePhysicalPages.Remove(page)) return;
        List<ulong>? dead = null;
        foreach (var (pc, b) in blocks)
            if (b.PhysicalPage == page) (dead ??= new()).Add(pc);
        if (dead == null) return;
        foreach (var pc in dead) blocks.Remove(pc);
        Array.Clear(blockCache);
    }

    /// <summary>Forget decoded blocks whose start lies in [va, va+length).</summary>
    public void FlushDecodedBlocks(ulong va, ulong length)
    {
        if (blocks.Count == 0) return;
        List<ulong>? dead = null;
        foreach (var pc in blocks.Keys)
            // A block covers up to 64 instructions (256 bytes) from its start: it overlaps [va, va+length) when it
            // starts less than 256 bytes before va and before va+length.
            if (pc + 4 * MaxBlockInstructions - va < length + 4 * MaxBlockInstructions) (dead ??= new()).Add(pc);
        if (dead == null) return;
        foreach (var pc in dead) blocks.Remove(pc);
        Array.Clear(blockCache);
    }

    // ---------------------------------------------------------------- TLB

    public void FlushTlb()
    {
        for (int i = 0; i < TlbSize * 3; i++)
        {
            tlbBase[i].ReadTag = tlbBase[i].WriteTag = tlbBase[i].ExecTag = InvalidTag;
        }
    }

    /// <summary>Invalidate one virtual page in all regimes.</summary>
    public void FlushTlbPage(ulong va)
    {
        ulong page = va & ~0xFFFUL;
        for (int r = 0; r < 3; r++)
        {
            TlbEntry* e = tlbBase + TlbSize * r + ((va >> 12) & (TlbSize - 1));
            if (e->ReadTag == page || e->WriteTag == page || e->ExecTag == page)
                e->ReadTag = e->WriteTag = e->ExecTag = InvalidTag;
        }
    }

    bool Fill(ulong va, AccessType type, out TlbEntry* entry)
    {
        entry = tlb + ((va >> 12) & (TlbSize - 1));
        if (!Memory.Translate(this, va, type, out var page, out var fault))
        {
            RaiseAbort(va, type, fault);
            return false;
        }
        ulong vpage = va & ~0xFFFUL;
        entry->PhysicalPage = page.PhysicalPage;
        if (page.HostPage == null)
        {
            // MMIO: never cached, the slow path calls the device every time.
            entry->ReadTag = entry->WriteTag = entry->ExecTag = InvalidTag;
            mmioPhysical = page.PhysicalPage;
            return true;
        }
        entry->Addend = (ulong)page.HostPage - vpage;
        entry->ReadTag = (page.Perms & PagePerms.Read) != 0 ? vpage : InvalidTag;
        entry->WriteTag = (page.Perms & PagePerms.Write) != 0 ? vpage : InvalidTag;
        entry->ExecTag = (page.Perms & PagePerms.Execute) != 0 ? vpage : InvalidTag;
        mmioPhysical = ulong.MaxValue;
        return true;
    }
    ulong mmioPhysical;

    /// <summary>Fetches the instruction word at pc, raising an instruction abort on failure.</summary>
    public bool FetchWord(ulong pc, out uint insn)
    {
        TlbEntry* e = tlb + ((pc >> 12) & (TlbSize - 1));
        if (e->ExecTag != (pc & ~0xFFFUL))
        {
            if (!Fill(pc, AccessType.Execute, out e)) { insn = 0; return false; }
            if (e->ExecTag != (pc & ~0xFFFUL))
            {
                // Translated, but the result is not executable here (device memory or no X permission).
                RaiseAbort(pc, AccessType.Execute, new Fault(FaultKind.Permission, 3));
                insn = 0;
                return false;
            }
        }
        insn = *(uint*)(pc + e->Addend);
        return true;
    }

    // ---------------------------------------------------------------- memory access (handlers use these)

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read8(ulong va, out byte value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->ReadTag == (va & ~0xFFFUL)) { value = *(byte*)(va + e->Addend); return true; }
        bool ok = ReadSlow(va, 1, out ulong v); value = (byte)v; return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read16(ulong va, out ushort value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->ReadTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFFE) { value = *(ushort*)(va + e->Addend); return true; }
        bool ok = ReadSlow(va, 2, out ulong v); value = (ushort)v; return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read32(ulong va, out uint value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->ReadTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFFC) { value = *(uint*)(va + e->Addend); return true; }
        bool ok = ReadSlow(va, 4, out ulong v); value = (uint)v; return ok;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read64(ulong va, out ulong value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->ReadTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFF8) { value = *(ulong*)(va + e->Addend); return true; }
        return ReadSlow(va, 8, out value);
    }

    /// <summary>Reads 16 bytes into lo/hi (little-endian). Both halves are checked before anything is returned.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Read128(ulong va, out ulong lo, out ulong hi)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->ReadTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFF0)
        {
            ulong* p = (ulong*)(va + e->Addend);
            lo = p[0]; hi = p[1];
            return true;
        }
        hi = 0;
        return ReadSlow(va, 8, out lo) && ReadSlow(va + 8, 8, out hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write8(ulong va, byte value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->WriteTag == (va & ~0xFFFUL)) { *(byte*)(va + e->Addend) = value; return true; }
        return WriteSlow(va, 1, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write16(ulong va, ushort value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->WriteTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFFE) { *(ushort*)(va + e->Addend) = value; return true; }
        return WriteSlow(va, 2, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write32(ulong va, uint value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->WriteTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFFC) { *(uint*)(va + e->Addend) = value; return true; }
        return WriteSlow(va, 4, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write64(ulong va, ulong value)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->WriteTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFF8) { *(ulong*)(va + e->Addend) = value; return true; }
        return WriteSlow(va, 8, value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Write128(ulong va, ulong lo, ulong hi)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        if (e->WriteTag == (va & ~0xFFFUL) && (va & 0xFFF) <= 0xFF0)
        {
            ulong* p = (ulong*)(va + e->Addend);
            p[0] = lo; p[1] = hi;
            return true;
        }
        // Check both pages before writing either, so a fault leaves memory unchanged.
        if (!Probe(va, AccessType.Write) || !Probe(va + 15, AccessType.Write)) return false;
        return WriteSlow(va, 8, lo) && WriteSlow(va + 8, 8, hi);
    }

    /// <summary>Checks that an access would succeed (raising the abort if not), filling the TLB.</summary>
    public bool Probe(ulong va, AccessType type)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        ulong page = va & ~0xFFFUL;
        ulong tag = type == AccessType.Read ? e->ReadTag : type == AccessType.Write ? e->WriteTag : e->ExecTag;
        if (tag == page) return true;
        return Fill(va, type, out _);
    }

    /// <summary>Host pointer for an access of size bytes inside one page, or null after raising the abort
    /// (or for MMIO). For exclusives/atomics, which need a real host location.</summary>
    public byte* HostPointer(ulong va, int size, AccessType type)
    {
        TlbEntry* e = tlb + ((va >> 12) & (TlbSize - 1));
        ulong page = va & ~0xFFFUL;
        ulong tag = type == AccessType.Write ? e->WriteTag : e->ReadTag;
        if (tag != page)
        {
            if (!Fill(va, type, out e)) return null;
            tag = type == AccessType.Write ? e->WriteTag : e->ReadTag;
            if (tag != page)
            {
                if (e->ReadTag == InvalidTag && mmioPhysical != ulong.MaxValue)
                {
                    RaiseAbort(va, type, new Fault(FaultKind.SyncExternal)); // atomics on device memory
                    return null;
                }
                RaiseAbort(va, type, new Fault(FaultKind.Permission, 3));
                return null;
            }
        }
        return (byte*)(va + e->Addend);
    }

    bool ReadSlow(ulong va, int size, out ulong value)
    {
        value = 0;
        if (((va & 0xFFF) + (ulong)size) > 0x1000)
        {
            // Crosses a page: check both pages first, then assemble byte by byte.
            if (!Probe(va, AccessType.Read) || !Probe(va + (ulong)size - 1, AccessType.Read)) return false;
            ulong v = 0;
            for (int i = 0; i < size; i++)
            {
                if (!Read8(va + (ulong)i, out byte b)) return false;
                v |= (ulong)b << (8 * i);
            }
            value = v;
            return true;
        }
        if (!Fill(va, AccessType.Read, out TlbEntry* e)) return false;
        if (e->ReadTag == (va & ~0xFFFUL))
        {
            byte* p = (byte*)(va + e->Addend);
            value = size switch { 1 => *p, 2 => *(ushort*)p, 4 => *(uint*)p, _ => *(ulong*)p };
            return true;
        }
        if (mmioPhysical != ulong.MaxValue)
        {
            if (Memory.MmioRead(this, mmioPhysical | (va & 0xFFF), size, out value)) return true;
            RaiseAbort(va, AccessType.Read, new Fault(FaultKind.SyncExternal));
            return false;
        }
        RaiseAbort(va, AccessType.Read, new Fault(FaultKind.Permission, 3));
        return false;
    }

    bool WriteSlow(ulong va, int size, ulong value)
    {
        if (((va & 0xFFF) + (ulong)size) > 0x1000)
        {
            if (!Probe(va, AccessType.Write) || !Probe(va + (ulong)size - 1, AccessType.Write)) return false;
            for (int i = 0; i < size; i++)
                if (!Write8(va + (ulong)i, (byte)(value >> (8 * i)))) return false;
            return true;
        }
        if (!Fill(va, AccessType.Write, out TlbEntry* e)) return false;
        if (e->WriteTag == (va & ~0xFFFUL))
        {
            byte* p = (byte*)(va + e->Addend);
            switch (size)
            {
                case 1: *p = (byte)value; break;
                case 2: *(ushort*)p = (ushort)value; break;
                case 4: *(uint*)p = (uint)value; break;
                default: *(ulong*)p = value; break;
            }
            return true;
        }
        if (mmioPhysical != ulong.MaxValue)
        {
            if (Memory.MmioWrite(this, mmioPhysical | (va & 0xFFF), size, value)) return true;
            RaiseAbort(va, AccessType.Write, new Fault(FaultKind.SyncExternal));
            return false;
        }
        RaiseAbort(va, AccessType.Write, new Fault(FaultKind.Permission, 3));
        return false;
    }

    // ---------------------------------------------------------------- counters

    /// <summary>The generic timer's counter frequency (CNTFRQ_EL0): 62.5 MHz, as QEMU's virt machine.</summary>
    public const ulong CounterFrequency = 62_500_000;
    static readonly long counterStart = System.Diagnostics.Stopwatch.GetTimestamp();

    /// <summary>The physical count (CNTPCT_EL0) derived from the host's monotonic clock.</summary>
    public static ulong PhysicalCount()
    {
        long ticks = System.Diagnostics.Stopwatch.GetTimestamp() - counterStart;
        return (ulong)((Int128)ticks * (long)CounterFrequency / System.Diagnostics.Stopwatch.Frequency);
    }
}
