using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Tests.Cpu;

/// <summary>The base-ISA corners added after the first CPU drop: exclusive pairs, LDTR/STTR, single-structure
/// loads/stores, SMC/HLT, WFI waiting, feature-gated PSTATE registers, and the advertised ID registers.</summary>
public unsafe class IsaCompletionTests
{
    const ulong Code = FlatMemory.Base;
    const ulong Data = FlatMemory.Base + 0x8000;
    const uint Svc0 = 0xD4000001;

    static (ArmCpu, FlatMemory, RecordingSupervisor) El0Machine(params uint[] program)
    {
        var mem = new FlatMemory();
        mem.Load(Code, program);
        var cpu = new ArmCpu(mem);
        var sup = new RecordingSupervisor();
        cpu.Supervisor = sup;
        cpu.Sys(SysReg.CPACR_EL1) = 3UL << 20;
        cpu.SetPstate(Pstate.EL0t);
        cpu.S->PC = Code;
        cpu.S->X[31] = Data;
        return (cpu, mem, sup);
    }

    [Fact]
    public void ExclusivePairsLoadStoreAndFailWithoutReservation()
    {
        // ldxp x0,x1,[x2]; stxp w3,x4,x5,[x2]; stxp w6,x4,x5,[x2] (no reservation: fails);
        // ldaxp w6,w7,[x2]; stlxp w8,w9,w10,[x2]; svc #0
        var (cpu, mem, sup) = El0Machine(0xC87F0440, 0xC8231444, 0xC8261444, 0x887F9C46, 0x8828A849, Svc0);
        using (mem) using (cpu)
        {
            ulong* d = (ulong*)(mem.Host + 0x8000);
            d[0] = 0x1111_2222_3333_4444; d[1] = 0x5555_6666_7777_8888;
            cpu.S->X[2] = Data;
            cpu.S->X[4] = 0xAAAA; cpu.S->X[5] = 0xBBBB;
            cpu.S->X[9] = 0x1234_0000_0000_0009; cpu.S->X[10] = 0xFFFF_0000_0000_000A;
            cpu.Run(100);
            Assert.Equal(ExceptionClass.Svc64, sup.Exceptions.Single().Esr >> 26);
            Assert.Equal(0x1111_2222_3333_4444UL, cpu.S->X[0]);
            Assert.Equal(0x5555_6666_7777_8888UL, cpu.S->X[1]);
            Assert.Equal(0UL, cpu.S->X[3]);                 // first STXP succeeded
            Assert.Equal(0xAAAAUL, cpu.S->X[6]);            // LDAXP low word (the failed STXP's status was overwritten)
            Assert.Equal(0UL, cpu.S->X[7]);
            Assert.Equal(0UL, cpu.S->X[8]);                 // STLXP succeeded
            Assert.Equal(0x0000_000A_0000_0009UL, d[0]);    // W pair: Wt at the lower address
            Assert.Equal(0xBBBBUL, d[1]);
        }
    }

    [Fact]
    public void StoreExclusivePairFailsWhenTheLocationChanged()
    {
        // ldxp x0,x1,[x2]; str xzr,[x2,#8]... done from C# between steps; stxp w3,x4,x5,[x2]; svc #0
        var (cpu, mem, sup) = El0Machine(0xC87F0440, 0xC8231444, Svc0);
        using (mem) using (cpu)
        {
            ulong* d = (ulong*)(mem.Host + 0x8000);
            d[0] = 1; d[1] = 2;
            cpu.S->X[2] = Data;
            cpu.Step();
            d[1] = 3;                                       // another agent writes the reserved granule
            cpu.Run(10);
            Assert.Equal(1UL, cpu.S->X[3]);
            Assert.Equal(3UL, d[1]);
            Assert.Equal(1UL, d[0]);
        }
    }

    [Fact]
    public void ExclusivePairMisalignedIsAlignmentFault()
    {
        var (cpu, mem, sup) = El0Machine(0xC87F0440, Svc0);
        using (mem) using (cpu)
        {
            cpu.S->X[2] = Data + 8;
            cpu.Run(10);
            uint esr = sup.Exceptions.Single().Esr;
            Assert.Equal(ExceptionClass.DataAbortLower, esr >> 26);
            Assert.Equal(0x21u, esr & 0x3F);
        }
    }

    /// <summary>A flat memory whose page at <see cref="KernelPage"/> is not accessible from EL0.</summary>
    sealed class SplitMemory : IMemorySystem
    {
        public readonly FlatMemory Flat = new();
        public const ulong KernelPage = FlatMemory.Base + 0x9000;
        public bool Translate(ArmCpu cpu, ulong va, AccessType type, out PageTranslation page, out Fault fault)
        {
            if (!Flat.Translate(cpu, va, type, out page, out fault)) return false;
            if ((va & ~0xFFFUL) == KernelPage && cpu.S->CurrentEl == 0) { fault = new Fault(FaultKind.Permission, 3); return false; }
            return true;
        }
        public bool MmioRead(ArmCpu cpu, ulong pa, int size, out ulong value) { value = 0; return false; }
        public bool MmioWrite(ArmCpu cpu, ulong pa, int size, ulong value) => false;
    }

    [Fact]
    public void LdtrSttrUseEl0PermissionsAtEl1()
    {
        // ldtr x11,[x12,#8]; ldtrsw x14,[x12,#4]; sttrb w13,[x12,#-1]; then, with x12 in the EL1-only page:
        // ldtr x11,[x12,#8] faults as a same-EL data abort with a valid syndrome.
        var mem = new SplitMemory();
        using var flat = mem.Flat;
        mem.Flat.Load(Code, 0xF840898B, 0xB880498E, 0x381FF98D, 0xF840898B);
        using var cpu = new ArmCpu(mem);
        cpu.Sys(SysReg.VBAR_EL1) = Code + 0x1000;
        cpu.S->PC = Code;                                   // EL1h after reset
        ulong* d = (ulong*)(mem.Flat.Host + 0x8000);
        d[0] = 0xFFFF_FFFF_8000_0000; d[1] = 0x0123_4567_89AB_CDEF;
        cpu.S->X[12] = Data;
        cpu.S->X[13] = 0x5A;
        cpu.Step(); cpu.Step(); cpu.Step();
        Assert.Equal(0x0123_4567_89AB_CDEFUL, cpu.S->X[11]);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, cpu.S->X[14]);   // sign-extended 0xFFFFFFFF
        Assert.Equal(0x5A, mem.Flat.Host[0x7FFF]);
        Assert.Equal(1u, cpu.S->CurrentEl);
        cpu.S->X[12] = SplitMemory.KernelPage;
        cpu.S->X[11] = 77;
        cpu.Step();
        Assert.Equal(77UL, cpu.S->X[11]);
        Assert.Equal(1u, cpu.S->CurrentEl);
        Assert.Equal(Code + 0x1000 + 0x200, cpu.S->PC);      // current EL with SP_ELx, synchronous
        ulong esr = cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(ExceptionClass.DataAbortSame, (uint)(esr >> 26));
        Assert.Equal(0x0Fu, (uint)esr & 0x3F);                // permission fault, level 3
        Assert.Equal(1u, (uint)(esr >> 24) & 1);              // ISV
        Assert.Equal(11u, (uint)(esr >> 16) & 31);            // SRT
        Assert.Equal(SplitMemory.KernelPage + 8, cpu.Sys(SysReg.FAR_EL1));
        Assert.Equal(Code + 12, cpu.Sys(SysReg.ELR_EL1));
    }

    [Fact]
    public void SingleStructureLaneAndReplicateForms()
    {
        // ld1 {v0.s}[3],[x2]; ld1r {v1.8h},[x2]; ld4r {v2.2s-v5.2s},[x2],#16; st2 {v6.d,v7.d}[1],[x2],x3;
        // ld3 {v8.b-v10.b}[15],[x2],#3; ld1 {v11.d}[1],[x4]; svc #0
        var (cpu, mem, sup) = El0Machine(0x4D409040, 0x4D40C441, 0x0DFFE842, 0x4DA38446, 0x4DDF3C48, 0x4D408480 | 11, Svc0);
        using (mem) using (cpu)
        {
            byte* d = mem.Host + 0x8000;
            for (int k = 0; k < 64; k++) d[k] = (byte)(k + 1);
            cpu.S->X[2] = Data;
            cpu.S->X[3] = 32;
            cpu.S->X[4] = Data + 8;
            for (uint r = 0; r < 12; r++) cpu.SetV(r, new UInt128(0xEEEE_EEEE_EEEE_EEEE, 0xEEEE_EEEE_EEEE_EEEE));
            cpu.SetV(6, new UInt128(0x1111_1111_1111_1111, 0x0606_0606_0606_0606));
            cpu.SetV(7, new UInt128(0x2222_2222_2222_2222, 0x0707_0707_0707_0707));
            cpu.Run(100);
            Assert.Equal(ExceptionClass.Svc64, sup.Exceptions.Single().Esr >> 26);
            Assert.Equal(new UInt128(0x0403_0201_EEEE_EEEE, 0xEEEE_EEEE_EEEE_EEEE), cpu.GetV(0));   // lane 3 only
            Assert.Equal(new UInt128(0x0201_0201_0201_0201, 0x0201_0201_0201_0201), cpu.GetV(1));
            Assert.Equal(new UInt128(0, 0x0403_0201_0403_0201), cpu.GetV(2));                      // 64-bit: upper half zeroed
            Assert.Equal(new UInt128(0, 0x100F_0E0D_100F_0E0D), cpu.GetV(5));
            // st2 lane 1 at Data+16 (after the ld4r post-index), then x2 += 32.
            Assert.Equal(0x1111_1111_1111_1111UL, *(ulong*)(d + 16));
            Assert.Equal(0x2222_2222_2222_2222UL, *(ulong*)(d + 24));
            Assert.Equal(Data + 48 + 3, cpu.S->X[2]);
            Assert.Equal(0x31, cpu.V(8)[15]); Assert.Equal(0x32, cpu.V(9)[15]); Assert.Equal(0x33, cpu.V(10)[15]);
            Assert.Equal(0xEE, cpu.V(8)[14]);
            Assert.Equal(new UInt128(0x100F_0E0D_0C0B_0A09, 0xEEEE_EEEE_EEEE_EEEE), cpu.GetV(11));
        }
    }

    [Fact]
    public void SingleStructureUnallocatedFormsAreUndefined()
    {
        // ld1 {v0.h}[x] with size<0> = 1, and ld1r with S = 1.
        foreach (uint word in new uint[] { 0x4D404440, 0x4D40D441 })
        {
            var (cpu, mem, sup) = El0Machine(word, Svc0);
            using (mem) using (cpu)
            {
                cpu.S->X[2] = Data;
                cpu.Run(10);
                Assert.Equal(ExceptionClass.Unknown, sup.Exceptions.Single().Esr >> 26);
            }
        }
    }

    [Fact]
    public void SmcHltAndPanAreUndefinedOnAnArmV80CoreWithoutEl3()
    {
        foreach (uint word in new uint[] { 0xD4000003, 0xD4400000, 0xD5384260, 0xD500409F /* msr pan,#0 */, 0x48207C82 /* casp */ })
        {
            var mem = new FlatMemory();
            using var memScope = mem;
            mem.Load(Code, word);
            using var cpu = new ArmCpu(mem);
            cpu.Sys(SysReg.VBAR_EL1) = Code + 0x1000;
            cpu.S->PC = Code;
            cpu.Run(1);
            Assert.Equal(ExceptionClass.Unknown, (uint)(cpu.Sys(SysReg.ESR_EL1) >> 26));
            Assert.Equal(Code, cpu.Sys(SysReg.ELR_EL1));
            Assert.Equal(Code + 0x1000 + 0x200, cpu.S->PC);
        }
    }

    sealed class Hyp : IHypervisor
    {
        public readonly List<(uint Esr, ulong Elr)> Traps = new();
        public void OnTrap(ArmCpu cpu, ExceptionKind kind, uint esr)
        {
            Traps.Add((esr, cpu.Sys(SysReg.ELR_EL2)));
            cpu.Sys(SysReg.ELR_EL2) += 4;
        }
    }

    [Fact]
    public void SmcTrapsToEl2WithTsc()
    {
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(Code, 0xD4000003 | 0x34 << 5, 0xD28000A5 /* movz x5,#5 */);
        using var cpu = new ArmCpu(mem);
        var hyp = new Hyp();
        cpu.Hypervisor = hyp;
        cpu.Sys(SysReg.HCR_EL2) = ArmCpu.Hcr.RW | ArmCpu.Hcr.TSC;
        cpu.S->PC = Code;
        cpu.Run(2);
        Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.Smc64, 0x34), hyp.Traps.Single().Esr);
        Assert.Equal(Code, hyp.Traps[0].Elr);                 // the SMC itself
        Assert.Equal(5UL, cpu.S->X[5]);
    }

    [Fact]
    public void WfiWaitsUnlessAnInterruptIsPending()
    {
        // wfi; movz x5,#5; wfi; b .
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(Code, 0xD503207F, 0xD28000A5, 0xD503207F, 0x14000000);
        using var cpu = new ArmCpu(mem);
        cpu.S->PC = Code;
        Assert.Equal(StopReason.WaitForInterrupt, cpu.Run(100));
        Assert.Equal(Code + 4, cpu.S->PC);
        // A pending but masked IRQ wakes WFI without being taken (DAIF is masked after reset).
        cpu.SetInterruptLine(ExceptionKind.Irq, true);
        Assert.Equal(StopReason.InstructionLimit, cpu.Run(3));
        Assert.Equal(5UL, cpu.S->X[5]);
        Assert.Equal(Code + 12, cpu.S->PC);
    }

    [Fact]
    public void WfiAtEl0TrapsToEl1UnlessSctlrNtwi()
    {
        var (cpu, mem, sup) = El0Machine(0xD503207F, Svc0);
        using (mem) using (cpu)
        {
            cpu.Run(10);
            Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.WfiWfe, 1u << 24 | 0xEu << 20), sup.Exceptions[0].Esr);
            Assert.Equal(Code, sup.Exceptions[0].Pc);
        }
    }

    [Fact]
    public void PrefetchFormsAreNops()
    {
        // prfm [x2,#8]; prfum [x2,#-8]; prfm [x2,x3]; prfm literal; svc — x2 points nowhere: prefetches never fault.
        var (cpu, mem, sup) = El0Machine(0xF9800440, 0xF89F8040, 0xF8A36840, 0xD8000020, Svc0);
        using (mem) using (cpu)
        {
            cpu.S->X[2] = 0xDEAD_0000;
            cpu.Run(10);
            Assert.Equal(ExceptionClass.Svc64, sup.Exceptions.Single().Esr >> 26);
        }
    }

    [Fact]
    public void IdRegistersAdvertiseExactlyTheImplementedFeatures()
    {
        using var mem = new FlatMemory();
        using var cpu = new ArmCpu(mem);
        ulong isar0 = cpu.Sys(SysReg.ID_AA64ISAR0_EL1);
        Assert.Equal(2UL, (isar0 >> 4) & 0xF);      // AES + PMULL
        Assert.Equal(1UL, (isar0 >> 8) & 0xF);      // SHA1
        Assert.Equal(1UL, (isar0 >> 12) & 0xF);     // SHA256 (no SHA512)
        Assert.Equal(1UL, (isar0 >> 16) & 0xF);     // CRC32
        Assert.Equal(0UL, (isar0 >> 20) & 0xF);     // no LSE atomics
        Assert.Equal(0UL, cpu.Sys(SysReg.ID_AA64ISAR1_EL1));
        ulong pfr0 = cpu.Sys(SysReg.ID_AA64PFR0_EL1);
        Assert.Equal(0UL, (pfr0 >> 16) & 0xF);      // FP, no half precision
        Assert.Equal(0UL, (pfr0 >> 20) & 0xF);      // AdvSIMD, no half precision
        Assert.Equal(0UL, (pfr0 >> 12) & 0xF);      // no EL3
        Assert.Equal(0UL, (cpu.Sys(SysReg.ID_AA64MMFR1_EL1) >> 20) & 0xF); // no PAN
    }

    [Fact]
    public void IcIvauInvalidatesABlockThatStartsBeforeTheLine()
    {
        // Code: movz x1,#1; movz x2,#2; svc #0. Code+0x100: ic ivau, x3; svc #0.
        var (cpu, mem, sup) = El0Machine(0xD2800021, 0xD2800042, Svc0);
        using (mem) using (cpu)
        {
            cpu.Sys(SysReg.SCTLR_EL1) |= 1UL << 26;            // UCI: EL0 may use IC IVAU
            mem.Load(Code + 0x100, 0xD50B7523, Svc0);
            cpu.Run(10);
            Assert.Equal(2UL, cpu.S->X[2]);
            mem.Load(Code + 4, 0xD28000E2);                    // movz x2,#7, written behind the decoded block's back
            cpu.S->PC = Code;
            cpu.Run(10);
            Assert.Equal(2UL, cpu.S->X[2]);                    // the stale block still runs: no maintenance yet
            cpu.S->X[3] = Code + 4;
            cpu.S->PC = Code + 0x100;
            cpu.Run(10);
            cpu.S->PC = Code;
            cpu.Run(10);
            Assert.Equal(7UL, cpu.S->X[2]);
            Assert.All(sup.Exceptions, e => Assert.Equal(ExceptionClass.Svc64, e.Esr >> 26));
        }
    }

    [Fact]
    public void ExclusiveMonitorWorksAcrossHostThreads()
    {
        // loop: ldxr x1,[x0]; add x1,x1,#1; stxr w2,x1,[x0]; cbnz w2,loop;
        // loop2: ldaxp x5,x6,[x7]; add x5,#1; add x6,#2; stlxp w2,x5,x6,[x7]; cbnz w2,loop2; subs x3,#1; b.ne loop; svc #0
        uint[] program = { 0xc85f7c01, 0x91000421, 0xc8027c01, 0x35ffffa2, 0xc87f98e5, 0x910004a5, 0x910008c6, 0xc82298e5,
            0x35ffff82, 0xf1000463, 0x54fffec1, Svc0 };
        const int Iterations = 50_000, Threads = 2;
        using var mem = new FlatMemory();
        mem.Load(Code, program);
        var threads = new Thread[Threads];
        var failures = new string?[Threads];
        for (int t = 0; t < Threads; t++)
        {
            int id = t;
            threads[t] = new Thread(() =>
            {
                using var cpu = new ArmCpu(mem);
                var sup = new RecordingSupervisor();
                cpu.Supervisor = sup;
                cpu.SetPstate(Pstate.EL0t);
                cpu.S->PC = Code;
                cpu.S->X[0] = Data;
                cpu.S->X[7] = Data + 16;
                cpu.S->X[3] = Iterations;
                cpu.Run(100_000_000);
                if (sup.Exceptions.Count != 1 || sup.Exceptions[0].Esr >> 26 != ExceptionClass.Svc64) failures[id] = "did not finish with SVC";
            });
            threads[t].Start();
        }
        foreach (var th in threads) th.Join();
        Assert.All(failures, f => Assert.Null(f));
        ulong* d = (ulong*)(mem.Host + 0x8000);
        Assert.Equal((ulong)(Iterations * Threads), d[0]);
        Assert.Equal((ulong)(Iterations * Threads), d[2]);
        Assert.Equal((ulong)(2 * Iterations * Threads), d[3]);
    }

    [Fact]
    public void PstateRegistersAndDaifSetClearAtEl1()
    {
        // mrs x0,currentel; mrs x1,daif; msr daifclr,#2; mrs x2,daif; msr daifset,#0xf; mrs x3,spsel; msr nzcv,x5; mrs x6,nzcv
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(Code, 0xd5384240, 0xd53b4221, 0xd50342ff, 0xd53b4222, 0xd5034fdf, 0xd5384203, 0xd51b4205, 0xd53b4206);
        using var cpu = new ArmCpu(mem);
        cpu.S->PC = Code;
        cpu.S->X[5] = 0xF000_0000_6000_0000;   // only NZCV bits 31:28 are kept
        for (int k = 0; k < 8; k++) cpu.Step();
        Assert.Equal(4UL, cpu.S->X[0]);         // EL1 in bits 3:2
        Assert.Equal(0x3C0UL, cpu.S->X[1]);
        Assert.Equal(0x340UL, cpu.S->X[2]);     // I cleared
        Assert.Equal(Pstate.DaifMask, cpu.S->Daif);
        Assert.Equal(1UL, cpu.S->X[3]);
        Assert.Equal(0x6000_0000UL, cpu.S->X[6]);
        Assert.Equal(Code + 32, cpu.S->PC);
    }

    [Fact]
    public void DataCacheMaintenanceFaultsWithCmAndIsGatedAtEl0()
    {
        // dc civac, x4 at EL1 on an unmapped address: data abort with CM = 1, WnR = 1.
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(Code, 0xd50b7e24);
        using var cpu = new ArmCpu(mem);
        cpu.Sys(SysReg.VBAR_EL1) = Code + 0x1000;
        cpu.S->PC = Code;
        cpu.S->X[4] = 0x1234_5000;
        cpu.Step();
        ulong esr = cpu.Sys(SysReg.ESR_EL1);
        Assert.Equal(ExceptionClass.DataAbortSame, (uint)(esr >> 26));
        Assert.Equal(1UL, (esr >> 8) & 1);
        Assert.Equal(1UL, (esr >> 6) & 1);
        Assert.Equal(0x04UL, esr & 0x3F);
        Assert.Equal(0x1234_5000UL, cpu.Sys(SysReg.FAR_EL1));
        // dc cvau at EL0: Undefined unless SCTLR_EL1.UCI; with UCI a NOP on mapped memory.
        var (cpu0, mem0, sup) = El0Machine(0xd50b7b24, Svc0);
        using (mem0) using (cpu0)
        {
            cpu0.S->X[4] = Data;
            cpu0.Run(10);
            Assert.Equal(ExceptionClass.Unknown, sup.Exceptions[0].Esr >> 26);
            sup.Exceptions.Clear();
            cpu0.Sys(SysReg.SCTLR_EL1) |= 1UL << 26;
            cpu0.S->PC = Code;
            cpu0.Run(10);
            Assert.Equal(ExceptionClass.Svc64, sup.Exceptions.Single().Esr >> 26);
        }
    }

    [Fact]
    public void WfeTrapsWithTweAndHvcIsUndefinedWithHcd()
    {
        // wfe (TWE: EC 0x01 with TI = 1 to EL2), then hvc #1 with HCR_EL2.HCD: Undefined at EL1.
        var mem = new FlatMemory();
        using var memScope = mem;
        mem.Load(Code, 0xD503205F, 0xD4000022);
        using var cpu = new ArmCpu(mem);
        var hyp = new Hyp();
        cpu.Hypervisor = hyp;
        cpu.Sys(SysReg.HCR_EL2) = ArmCpu.Hcr.RW | ArmCpu.Hcr.TWE | ArmCpu.Hcr.HCD;
        cpu.Sys(SysReg.VBAR_EL1) = Code + 0x1000;
        cpu.S->PC = Code;
        cpu.Step();
        Assert.Equal(ArmCpu.MakeEsr(ExceptionClass.WfiWfe, 1u << 24 | 0xEu << 20 | 1), hyp.Traps.Single().Esr);
        Assert.Equal(Code + 4, cpu.S->PC);                    // the hyp stepped over it
        cpu.Step();
        Assert.Single(hyp.Traps);
        Assert.Equal(ExceptionClass.Unknown, (uint)(cpu.Sys(SysReg.ESR_EL1) >> 26));
        Assert.Equal(Code + 0x1000 + 0x200, cpu.S->PC);
    }
}
