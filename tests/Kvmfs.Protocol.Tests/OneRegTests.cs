using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Protocol.Tests;

public class OneRegTests
{
    [Fact]
    public void CoreRegisterIdsAreKvmRegsWordOffsets()
    {
        Assert.Equal(0x6030000000100000ul, OneRegId.Core(CoreRegs.X(0)));
        Assert.Equal(0x6030000000100040ul, OneRegId.Core(CoreRegs.PC));
        Assert.Equal(0x6030000000100042ul, OneRegId.Core(CoreRegs.PSTATE));
        Assert.Equal(0x6040000000100054ul, OneRegId.Core(CoreRegs.V(0), 16));
        Assert.Equal(0x60200000001000d4ul, OneRegId.Core(CoreRegs.FPSR, 4));
        Assert.Equal(CoreRegs.PC, OneRegId.CoreOffset(0x6030000000100040));
        Assert.Equal(31 + 3 + 2 + 5 + 32 + 2, CoreRegs.All.Count);
    }

    [Fact]
    public void SysRegIdsEncodeOp0Op1CrnCrmOp2()
    {
        ulong mpidr = OneRegId.SysReg(3, 0, 0, 0, 5);
        Assert.Equal(0x603000000013c005ul, mpidr);
        Assert.Equal(mpidr, SysRegs.Id("MPIDR_EL1"));
        Assert.Equal((3, 0, 0, 0, 5), OneRegId.SysRegFields(mpidr));
        Assert.Equal(OneRegClass.SysReg, OneRegId.Class(mpidr));
        Assert.Equal(8, OneRegId.SizeBytes(mpidr));
    }

    [Fact]
    public void TimerIdsKeepTheirSwappedAbiEncodings()
    {
        Assert.Equal(KvmReg.KVM_REG_ARM_TIMER_CTL, OneRegId.SysReg(3, 3, 14, 3, 1));
        Assert.Equal(KvmReg.KVM_REG_ARM_TIMER_CVAL, OneRegId.SysReg(3, 3, 14, 0, 2));
        Assert.Equal(KvmReg.KVM_REG_ARM_TIMER_CNT, OneRegId.SysReg(3, 3, 14, 3, 2));
        Assert.Equal("CNTV_CTL_EL0", OneRegId.Name(KvmReg.KVM_REG_ARM_TIMER_CTL));
        Assert.Equal("CNTV_CVAL_EL0", OneRegId.Name(KvmReg.KVM_REG_ARM_TIMER_CVAL));
        Assert.Equal("CNTVCT_EL0", OneRegId.Name(KvmReg.KVM_REG_ARM_TIMER_CNT));
    }

    [Fact]
    public void FirmwareRegisterIdsAndNames()
    {
        Assert.Equal(0x6030000000140000ul, KvmReg.KVM_REG_ARM_PSCI_VERSION);
        Assert.Equal(KvmReg.KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2, OneRegId.Firmware(2));
        Assert.Equal(KvmReg.KVM_REG_ARM_VENDOR_HYP_BMAP, OneRegId.FirmwareFeatureBitmap(2));
        Assert.Equal("KVM_REG_ARM_PSCI_VERSION", OneRegId.Name(KvmReg.KVM_REG_ARM_PSCI_VERSION));
        Assert.Equal("KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3", OneRegId.Name(OneRegId.Firmware(3)));
        Assert.Equal("KVM_REG_ARM_STD_HYP_BMAP", OneRegId.Name(OneRegId.FirmwareFeatureBitmap(1)));
        Assert.Equal("KVM_REG_ARM_FW_REG(9)", OneRegId.Name(OneRegId.Firmware(9)));
    }

    [Fact]
    public void CoreSveDemuxAndUnknownNames()
    {
        Assert.Equal("x0", OneRegId.Name(OneRegId.Core(CoreRegs.X(0))));
        Assert.Equal("x30", OneRegId.Name(OneRegId.Core(CoreRegs.X(30))));
        Assert.Equal("sp", OneRegId.Name(OneRegId.Core(CoreRegs.SP)));
        Assert.Equal("spsr_fiq", OneRegId.Name(OneRegId.Core(CoreRegs.Spsr(4))));
        Assert.Equal("v31", OneRegId.Name(OneRegId.Core(CoreRegs.V(31), 16)));
        Assert.Equal("fpcr", OneRegId.Name(OneRegId.Core(CoreRegs.FPCR, 4)));
        Assert.Equal("core+0x4", OneRegId.Name(OneRegId.Core(4, 4)));
        Assert.Equal("Z3[0]", OneRegId.Name(OneRegId.SveZreg(3, 0)));
        Assert.Equal("P15[0]", OneRegId.Name(OneRegId.SvePreg(15, 0)));
        Assert.Equal("FFR[0]", OneRegId.Name(OneRegId.SveFfr(0)));
        Assert.Equal("SVE_VLS", OneRegId.Name(KvmReg.KVM_REG_ARM64_SVE_VLS));
        Assert.Equal("CCSIDR_EL1[csselr=1]", OneRegId.Name(OneRegId.DemuxCcsidr(1)));
        Assert.Equal(4, OneRegId.SizeBytes(OneRegId.DemuxCcsidr(1)));
        Assert.Equal("S3_0_C0_C3_3", OneRegId.Name(OneRegId.SysReg(3, 0, 0, 3, 3)));
        Assert.Null(OneRegId.Name(0x4030000000100000)); // an arm (32-bit) id
    }

    // The system registers a Linux 6.1 KVM lists in KVM_GET_REG_LIST for a vCPU without PMU
    // or SVE, by encoding (tools/testing/selftests/kvm/aarch64/get-reg-list.c), with the
    // name our table must give each. Unallocated ID space is named generically.
    public static TheoryData<int, int, int, int, int, string> BaseSysRegs() => new()
    {
        { 3, 0, 0, 0, 0, "MIDR_EL1" }, { 3, 0, 0, 0, 6, "REVIDR_EL1" }, { 3, 1, 0, 0, 1, "CLIDR_EL1" },
        { 3, 1, 0, 0, 7, "AIDR_EL1" }, { 3, 3, 0, 0, 1, "CTR_EL0" }, { 2, 0, 0, 0, 4, "DBGBVR0_EL1" },
        { 2, 0, 0, 15, 7, "DBGWCR15_EL1" }, { 2, 0, 0, 2, 0, "MDCCINT_EL1" }, { 2, 0, 0, 2, 2, "MDSCR_EL1" },
        { 2, 0, 1, 1, 4, "OSLSR_EL1" }, { 2, 4, 0, 7, 0, "DBGVCR32_EL2" }, { 3, 0, 0, 0, 5, "MPIDR_EL1" },
        { 3, 0, 0, 1, 0, "ID_PFR0_EL1" }, { 3, 0, 0, 2, 7, "ID_ISAR6_EL1" }, { 3, 0, 0, 3, 2, "MVFR2_EL1" },
        { 3, 0, 0, 3, 3, "S3_0_C0_C3_3" }, { 3, 0, 0, 3, 6, "ID_MMFR5_EL1" }, { 3, 0, 0, 4, 0, "ID_AA64PFR0_EL1" },
        { 3, 0, 0, 4, 4, "ID_AA64ZFR0_EL1" }, { 3, 0, 0, 5, 0, "ID_AA64DFR0_EL1" }, { 3, 0, 0, 6, 1, "ID_AA64ISAR1_EL1" },
        { 3, 0, 0, 7, 2, "ID_AA64MMFR2_EL1" }, { 3, 0, 1, 0, 0, "SCTLR_EL1" }, { 3, 0, 1, 0, 1, "ACTLR_EL1" },
        { 3, 0, 1, 0, 2, "CPACR_EL1" }, { 3, 0, 2, 0, 0, "TTBR0_EL1" }, { 3, 0, 2, 0, 1, "TTBR1_EL1" },
        { 3, 0, 2, 0, 2, "TCR_EL1" }, { 3, 0, 5, 1, 0, "AFSR0_EL1" }, { 3, 0, 5, 1, 1, "AFSR1_EL1" },
        { 3, 0, 5, 2, 0, "ESR_EL1" }, { 3, 0, 6, 0, 0, "FAR_EL1" }, { 3, 0, 7, 4, 0, "PAR_EL1" },
        { 3, 0, 10, 2, 0, "MAIR_EL1" }, { 3, 0, 10, 3, 0, "AMAIR_EL1" }, { 3, 0, 12, 0, 0, "VBAR_EL1" },
        { 3, 0, 12, 1, 1, "DISR_EL1" }, { 3, 0, 13, 0, 1, "CONTEXTIDR_EL1" }, { 3, 0, 13, 0, 4, "TPIDR_EL1" },
        { 3, 0, 14, 1, 0, "CNTKCTL_EL1" }, { 3, 2, 0, 0, 0, "CSSELR_EL1" }, { 3, 3, 13, 0, 2, "TPIDR_EL0" },
        { 3, 3, 13, 0, 3, "TPIDRRO_EL0" }, { 3, 4, 3, 0, 0, "DACR32_EL2" }, { 3, 4, 5, 0, 1, "IFSR32_EL2" },
        { 3, 4, 5, 3, 0, "FPEXC32_EL2" }, { 3, 0, 9, 14, 1, "PMINTENSET_EL1" }, { 3, 3, 9, 12, 0, "PMCR_EL0" },
        { 3, 3, 14, 8, 0, "PMEVCNTR0_EL0" }, { 3, 3, 14, 11, 6, "PMEVCNTR30_EL0" }, { 3, 3, 14, 12, 0, "PMEVTYPER0_EL0" },
        { 3, 3, 14, 15, 6, "PMEVTYPER30_EL0" }, { 3, 3, 14, 15, 7, "PMCCFILTR_EL0" },
    };

    [Theory, MemberData(nameof(BaseSysRegs))]
    public void SysRegTableNamesWhatKvmLists(int op0, int op1, int crn, int crm, int op2, string name)
    {
        Assert.Equal(name, OneRegId.Name(OneRegId.SysReg(op0, op1, crn, crm, op2)));
    }

    [Fact]
    public void SysRegTableHasNoDuplicateNamesOrEncodings()
    {
        Assert.Equal(SysRegs.All.Count, SysRegs.All.Select(r => r.Name).Distinct().Count());
        Assert.Equal(SysRegs.All.Count, SysRegs.All.Select(r => r.Index).Distinct().Count());
    }
}
