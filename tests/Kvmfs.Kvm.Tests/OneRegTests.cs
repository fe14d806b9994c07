using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

public class OneRegTests
{
    private readonly FakeUser _u = new();
    private readonly Vm _vm;
    private readonly Vcpu _v;

    public OneRegTests()
    {
        _vm = NewVm(_u);
        _v = InitVcpu(_vm, _u, 0, KvmArm.KVM_ARM_VCPU_PSCI_0_2);
    }

    [Fact]
    public void Core_X0AndPc_RoundTrip()
    {
        Assert.Equal(0, SetReg(_v, _u, CoreId(0), 0x44000000));
        Assert.Equal(0, SetReg(_v, _u, CoreId(256), 0x40080000));
        Assert.Equal(0, GetReg(_v, _u, CoreId(0), out var x0));
        Assert.Equal(0x44000000ul, x0);
        Assert.Equal(0x40080000ul, _v.Core.Pc);
    }

    [Fact] public void Core_WrongSize_Einval() => Assert.Equal(-EINVAL, GetReg(_v, _u, CoreId(0, U32), out _));
    [Fact] public void Core_MisalignedOffset_Einval() => Assert.Equal(-EINVAL, GetReg(_v, _u, CoreId(4), out _));
    [Fact] public void Core_BeyondKvmRegs_Enoent() => Assert.Equal(-ENOENT, GetReg(_v, _u, CoreId(864), out _));
    [Fact] public void NonArm64Id_Einval() => Assert.Equal(-EINVAL, GetReg(_v, _u, 0x4030000000100000, out _));
    [Fact] public void BadUserAddress_Efault() => Assert.Equal(-EFAULT, With(_v, _u, KVM_GET_ONE_REG, new KvmOneReg { id = CoreId(0), addr = 8 }));

    [Fact]
    public void Core_FpcrIsU32_VregIsU128()
    {
        Assert.Equal(0, SetReg(_v, _u, CoreId(852, U32), 0x03000000));
        Assert.Equal(0, GetReg(_v, _u, CoreId(852, U32), out var fpcr, 4));
        Assert.Equal(0x03000000ul, fpcr);
        Assert.Equal(0, GetReg(_v, _u, CoreId(336, U128), out _));
        Assert.Equal(-EINVAL, GetReg(_v, _u, CoreId(336, U64), out _));
    }

    [Theory]
    [InlineData(0x3c5ul, 0L)]
    [InlineData(0x3c4ul, 0L)]
    [InlineData(0x0ul, 0L)]
    [InlineData(0x3c9ul, -22L)] // EL2h
    [InlineData(0x1d3ul, -22L)] // AArch32 SVC: no AArch32 here
    [InlineData(0x10ul, -22L)]  // AArch32 USR
    public void Core_PstateMode(ulong pstate, long expected) => Assert.Equal(expected, SetReg(_v, _u, CoreId(264), pstate));

    [Fact]
    public void IdReg_WriteSame_Ok_Different_Einval()
    {
        ulong pfr0 = Sys(3, 0, 0, 4, 0);
        Assert.Equal(0, GetReg(_v, _u, pfr0, out var v));
        Assert.Equal(1ul, v >> 24 & 0xf); // GIC system registers: a host-wide property in 6.1, even without a vGIC
        Assert.Equal(1ul, v & 0xf);       // EL0 AArch64
        Assert.Equal(0, SetReg(_v, _u, pfr0, v));
        Assert.Equal(-EINVAL, SetReg(_v, _u, pfr0, v ^ 0x10));
        Assert.Equal(0, SetReg(_v, _u, pfr0, v & ~(0xful << 56))); // CSV2 lowered to 0 is allowed
        Assert.Equal(0, GetReg(_v, _u, pfr0, out var after));
        Assert.Equal(0ul, after >> 56 & 0xf);
        Assert.Equal(-EINVAL, SetReg(_v, _u, Sys(3, 0, 0, 7, 0), 0));
    }

    [Fact]
    public void Aa32IdReg_RazAndWritesIgnored()
    {
        Assert.Equal(0, SetReg(_v, _u, Sys(3, 0, 0, 2, 0), 0x1234));
        Assert.Equal(0, GetReg(_v, _u, Sys(3, 0, 0, 2, 0), out var v));
        Assert.Equal(0ul, v);
    }

    [Fact]
    public void Aa32IdRegs_AsAarch32IdRegsSelftest()
    {
        const ulong bad = 0xdeadbeefdeadbeef;
        var rawWi = new List<(int Crm, int Op2)>();
        for (int op2 = 0; op2 < 8; op2++) if (op2 != 3) rawWi.Add((1, op2));
        for (int op2 = 0; op2 < 8; op2++) rawWi.Add((2, op2));
        foreach (var op2 in new[] { 0, 1, 2, 4, 6 }) rawWi.Add((3, op2));
        foreach (var (crm, op2) in rawWi)
        {
            Assert.Equal(0, SetReg(_v, _u, Sys(3, 0, 0, crm, op2), bad));
            Assert.Equal(0, GetReg(_v, _u, Sys(3, 0, 0, crm, op2), out var v));
            Assert.Equal(0ul, v);
        }
        foreach (var (crm, op2) in new[] { (1, 3), (3, 3), (3, 5), (3, 7) }) // ID_AFR0, unallocated, ID_DFR1, unallocated
        {
            Assert.Equal(-EINVAL, SetReg(_v, _u, Sys(3, 0, 0, crm, op2), bad));
            Assert.Equal(0, GetReg(_v, _u, Sys(3, 0, 0, crm, op2), out var v));
            Assert.Equal(0ul, v);
        }
    }

    [Fact]
    public void Invariant_Midr_MustMatch()
    {
        Assert.Equal(0, GetReg(_v, _u, Sys(3, 0, 0, 0, 0), out var midr));
        Assert.Equal(0x411FD070ul, midr);
        Assert.Equal(0, SetReg(_v, _u, Sys(3, 0, 0, 0, 0), midr));
        Assert.Equal(-EINVAL, SetReg(_v, _u, Sys(3, 0, 0, 0, 0), midr + 1));
    }

    [Fact] public void UnknownSysreg_Enoent() => Assert.Equal(-ENOENT, GetReg(_v, _u, Sys(3, 0, 15, 15, 7), out _));
    [Fact] public void PmuRegister_Hidden_Enoent() => Assert.Equal(-ENOENT, GetReg(_v, _u, Sys(3, 3, 9, 12, 0), out _));

    [Fact]
    public void StoredSysreg_ResetAndWrite()
    {
        Assert.Equal(0, GetReg(_v, _u, Sys(3, 0, 1, 0, 0), out var sctlr));
        Assert.Equal(0x00C50078ul, sctlr);
        Assert.Equal(0, SetReg(_v, _u, Sys(3, 0, 12, 0, 0), 0xffff000010000000));
        Assert.Equal(0, GetReg(_v, _u, Sys(3, 0, 12, 0, 0), out var vbar));
        Assert.Equal(0xffff000010000000ul, vbar);
    }

    [Fact]
    public void Oslsr_OnlyOslkWritable()
    {
        ulong id = Sys(2, 0, 1, 1, 4);
        Assert.Equal(0, GetReg(_v, _u, id, out var v));
        Assert.Equal(8ul, v);
        Assert.Equal(0, SetReg(_v, _u, id, 8 | 2));
        Assert.Equal(-EINVAL, SetReg(_v, _u, id, 0));
    }

    [Fact]
    public void Timer_CntSetsVmOffset_CtlIstatusComputed()
    {
        ulong cnt = Sys(3, 3, 14, 3, 2), cval = Sys(3, 3, 14, 0, 2), ctl = Sys(3, 3, 14, 3, 1);
        Assert.Equal(0, SetReg(_v, _u, cnt, 1000));
        Assert.Equal(0, GetReg(_v, _u, cnt, out var now));
        Assert.InRange(now, 1000ul, 1000ul + 62_500_000ul * 10);
        Assert.Equal(0, SetReg(_v, _u, cval, 0));
        Assert.Equal(0, SetReg(_v, _u, ctl, 1 | 4));
        Assert.Equal(0, GetReg(_v, _u, ctl, out var c));
        Assert.Equal(5ul, c); // enabled, condition met (ISTATUS computed, not stored)
    }

    [Fact]
    public void Firmware_PsciVersionRules()
    {
        Assert.Equal(0, GetReg(_v, _u, Fw(0), out var ver));
        Assert.Equal(0x10001ul, ver);
        Assert.Equal(0, SetReg(_v, _u, Fw(0), 0x2));
        Assert.Equal(-EINVAL, SetReg(_v, _u, Fw(0), 0)); // v0.1 with the PSCI_0_2 feature
        Assert.Equal(-EINVAL, SetReg(_v, _u, Fw(0), 0x30000));
        var v01 = InitVcpu(NewVm(_u), _u, 0);
        Assert.Equal(0, GetReg(v01, _u, Fw(0), out var ver01));
        Assert.Equal(0ul, ver01);
    }

    [Fact]
    public void Firmware_WorkaroundLevels()
    {
        Assert.Equal(0, GetReg(_v, _u, Fw(1), out var wa1));
        Assert.Equal(2ul, wa1);
        Assert.Equal(0, SetReg(_v, _u, Fw(1), 0));
        Assert.Equal(-EINVAL, SetReg(_v, _u, Fw(1), 3));
        Assert.Equal(0, SetReg(_v, _u, Fw(2), 3));
        Assert.Equal(-EINVAL, SetReg(_v, _u, Fw(2), 0x10 | 3));
    }

    [Fact]
    public void Firmware_Bitmaps()
    {
        Assert.Equal(0, GetReg(_v, _u, FwBmap(2), out var vendor));
        Assert.Equal(3ul, vendor);
        Assert.Equal(0, SetReg(_v, _u, FwBmap(2), 1));
        Assert.Equal(-EINVAL, SetReg(_v, _u, FwBmap(0), 2));
        Assert.Equal(-ENOENT, GetReg(_v, _u, FwBmap(3), out _));
    }

    [Fact]
    public void Demux_Ccsidr_Invariant()
    {
        ulong id = Arm64 | U32 | (0x11ul << 16) | 0;
        Assert.Equal(0, GetReg(_v, _u, id, out var l1d, 4));
        Assert.Equal(0x701FE00Aul, l1d);
        Assert.Equal(-EINVAL, SetReg(_v, _u, id, 1));
        Assert.Equal(-ENOENT, GetReg(_v, _u, id | 5, out _, 4));
    }
}

public class RegListTests
{
    private readonly FakeUser _u = new();

    /// <summary>The registers the Linux 6.1 get-reg-list selftest blesses for a base vCPU (base + vregs sublists).</summary>
    private static HashSet<ulong> Blessed()
    {
        var s = new HashSet<ulong>();
        for (int i = 0; i < 31; i++) s.Add(CoreId(8 * i));
        foreach (int off in new[] { 248, 256, 264, 272, 280, 288, 296, 304, 312, 320 }) s.Add(CoreId(off));
        s.Add(CoreId(848, U32)); s.Add(CoreId(852, U32));
        for (int i = 0; i < 32; i++) s.Add(CoreId(336 + 16 * i, U128));
        for (int i = 0; i < 4; i++) s.Add(Fw(i));
        for (int i = 0; i < 3; i++) s.Add(FwBmap(i));
        s.Add(Sys(3, 3, 14, 3, 1)); s.Add(Sys(3, 3, 14, 3, 2)); s.Add(Sys(3, 3, 14, 0, 2));
        s.Add(Sys(3, 0, 0, 0, 0)); s.Add(Sys(3, 0, 0, 0, 6)); s.Add(Sys(3, 1, 0, 0, 1)); s.Add(Sys(3, 1, 0, 0, 7)); s.Add(Sys(3, 3, 0, 0, 1));
        for (int n = 0; n < 16; n++) for (int op2 = 4; op2 < 8; op2++) s.Add(Sys(2, 0, 0, n, op2));
        s.Add(Sys(2, 0, 0, 2, 0)); s.Add(Sys(2, 0, 0, 2, 2)); s.Add(Sys(2, 0, 1, 1, 4)); s.Add(Sys(2, 4, 0, 7, 0));
        s.Add(Sys(3, 0, 0, 0, 5));
        for (int crm = 1; crm < 8; crm++) for (int op2 = 0; op2 < 8; op2++) s.Add(Sys(3, 0, 0, crm, op2));
        foreach (var (crn, crm, op2) in new[] { (1, 0, 0), (1, 0, 1), (1, 0, 2), (2, 0, 0), (2, 0, 1), (2, 0, 2), (5, 1, 0), (5, 1, 1), (5, 2, 0),
                     (6, 0, 0), (7, 4, 0), (10, 2, 0), (10, 3, 0), (12, 0, 0), (12, 1, 1), (13, 0, 1), (13, 0, 4), (14, 1, 0) })
            s.Add(Sys(3, 0, crn, crm, op2));
        s.Add(Sys(3, 2, 0, 0, 0)); s.Add(Sys(3, 3, 13, 0, 2)); s.Add(Sys(3, 3, 13, 0, 3));
        s.Add(Sys(3, 4, 3, 0, 0)); s.Add(Sys(3, 4, 5, 0, 1)); s.Add(Sys(3, 4, 5, 3, 0));
        return s;
    }

    private ulong[] List(Vcpu v)
    {
        ulong addr = _u.Alloc(8 + 8 * 1024);
        _u.SetU64(addr, 1024);
        Assert.Equal(0, Call(v, _u, KVM_GET_REG_LIST, addr, BitConverter.GetBytes(1024ul)).Result.Value);
        ulong n = _u.U64At(addr);
        var ids = new ulong[n];
        for (ulong i = 0; i < n; i++) ids[i] = _u.U64At(addr + 8 + 8 * i);
        return ids;
    }

    [Fact]
    public void TooSmall_E2big_WithCount()
    {
        var v = InitVcpu(NewVm(_u), _u, 0);
        ulong addr = _u.Alloc(64);
        var (r, data) = Call(v, _u, KVM_GET_REG_LIST, addr, BitConverter.GetBytes(2ul));
        Assert.Equal(-E2BIG, r.Value);
        Assert.Equal((ulong)List(v).Length, _u.U64At(addr));
    }

    [Fact]
    public void MatchesSelftestBlessedList_PlusCcsidrDemux()
    {
        var v = InitVcpu(NewVm(_u), _u, 0, KvmArm.KVM_ARM_VCPU_PSCI_0_2);
        var ids = List(v);
        var filtered = ids.Where(id => (id & 0x0FFF0000) != (0x11ul << 16)).ToHashSet();
        var blessed = Blessed();
        Assert.Empty(blessed.Except(filtered).Select(x => x.ToString("x")));
        Assert.Empty(filtered.Except(blessed).Select(x => x.ToString("x")));
        Assert.Equal(ids.Length, ids.Distinct().Count());
        Assert.Equal(3, ids.Length - filtered.Count);
    }

    [Fact]
    public void EveryListedRegister_GetThenSetBack_Succeeds()
    {
        var v = InitVcpu(NewVm(_u), _u, 0, KvmArm.KVM_ARM_VCPU_PSCI_0_2);
        ulong buf = _u.Alloc(256);
        foreach (var id in List(v))
        {
            Assert.True(With(v, _u, KVM_GET_ONE_REG, new KvmOneReg { id = id, addr = buf }) == 0, $"get 0x{id:x}");
            Assert.True(With(v, _u, KVM_SET_ONE_REG, new KvmOneReg { id = id, addr = buf }) == 0, $"set 0x{id:x}");
        }
    }
}
