using Kvmfs.Conformance;

namespace Kvmfs.Conformance.Tests;

/// <summary>The outputs below have the shapes the 6.1 kvm selftests print (lib/assert.c, kselftest.h).</summary>
public class OutcomeTests
{
    [Fact]
    public void ExitZeroIsAPassWithNoReason()
    {
        var (verdict, detail) = Outcome.Classify(0, false, 120, "1..1\nok 1 all good\n");
        Assert.Equal(Verdict.Pass, verdict);
        Assert.Equal("", detail);
    }

    [Fact]
    public void APassWithSkippedPartsSaysWhichWereSkipped()
    {
        var (verdict, detail) = Outcome.Classify(0, false, 120, "ok 1 vcpu\nok 2 # SKIP pmu: Requirement not met: kvm_has_cap(KVM_CAP_ARM_PMU_V3)\n");
        Assert.Equal(Verdict.Pass, verdict);
        Assert.Equal("1 part(s) skipped, first: pmu: Requirement not met: kvm_has_cap(KVM_CAP_ARM_PMU_V3)", detail);
    }

    [Fact]
    public void KsftSkipReportsTheTapReason()
    {
        var (verdict, detail) = Outcome.Classify(4, false, 120, "1..0 # SKIP - /dev/kvm not available (errno: 2)\n");
        Assert.Equal(Verdict.Skip, verdict);
        Assert.Equal("/dev/kvm not available (errno: 2)", detail);
    }

    [Fact]
    public void KsftSkipReportsAMissingCapability()
    {
        var output = "1..0 # SKIP - Requirement not met: kvm_has_cap(KVM_CAP_ARM_EL1_32BIT)\n";
        var (verdict, detail) = Outcome.Classify(4, false, 120, output);
        Assert.Equal(Verdict.Skip, verdict);
        Assert.Equal("Requirement not met: kvm_has_cap(KVM_CAP_ARM_EL1_32BIT)", detail);
    }

    [Fact]
    public void PrintSkipLinesAreUnderstoodToo()
    {
        var (verdict, detail) = Outcome.Classify(4, false, 120, "Access denied - Exiting, skipping test\n");
        Assert.Equal(Verdict.Skip, verdict);
        Assert.Equal("Access denied - Exiting", detail);
    }

    [Fact]
    public void AnAssertionFailureGivesFileLineExpressionAndMessage()
    {
        var output = string.Join('\n',
            "Testing guest mode: PA-bits:40,  VA-bits:48,  4K pages",
            "==== Test Assertion Failure ====",
            "  lib/kvm_util.c:1094: ret == 0",
            "  pid=812 tid=812 errno=25 - Inappropriate ioctl for device",
            "     1\t0x0000000000402e17: vm_vcpu_add at kvm_util.c:1094",
            "     2\t0x0000000000401b3f: main at get-reg-list.c:591",
            "  KVM_CREATE_VCPU failed, rc: -1 errno: 25 (Inappropriate ioctl for device)",
            "");
        var (verdict, detail) = Outcome.Classify(254, false, 120, output);
        Assert.Equal(Verdict.Fail, verdict);
        Assert.Equal("lib/kvm_util.c:1094: ret == 0 -- KVM_CREATE_VCPU failed, rc: -1 errno: 25 (Inappropriate ioctl for device) (errno=25 - Inappropriate ioctl for device)", detail);
    }

    [Fact]
    public void AnAssertionWithAnEmptyStackStillFindsTheMessage()
    {
        var output = "==== Test Assertion Failure ====\n  aarch64/psci_test.c:77: !ret\n  pid=1 tid=1 errno=0 - Success\n  (stack trace empty)\n  KVM_ARM_VCPU_INIT failed\n";
        var (_, detail) = Outcome.Classify(254, false, 120, output);
        Assert.Equal("aarch64/psci_test.c:77: !ret -- KVM_ARM_VCPU_INIT failed", detail);
    }

    [Fact]
    public void ForkedChildrenThatSkipAreCounted()
    {
        // get-reg-list runs each vCPU config in a child; the parent passes if none failed.
        var output = "vregs: PASS\n1..0 # SKIP - vregs+pmu: pmu not available, skipping tests\n\n1..0 # SKIP - sve: sve not available, skipping tests\n";
        var (verdict, detail) = Outcome.Classify(0, false, 120, output);
        Assert.Equal(Verdict.Pass, verdict);
        Assert.Equal("2 part(s) skipped, first: vregs+pmu: pmu not available, skipping tests", detail);
    }

    [Fact]
    public void InterleavedLinesFromOtherProgramsAndThreadsAreNotTheMessage()
    {
        // What a vCPU-thread assertion looks like under kvmfs exec: the ld.so of the x86
        // addr2line child complains, and a second thread's block starts before ours ends.
        var output = string.Join('\n',
            "[06:58:55.377 WRN] kvmfs: VM 2 vCPU 1: KVM_RUN -> KVM_EXIT_INTERNAL_ERROR",
            "==== Test Assertion Failure ====",
            "  include/kvm_util_base.h:553: !ret",
            "  pid=7742 tid=7742 errno=6 - No such device or address",
            "ERROR: ld.so: object '/x/libkvmfs-preload.so' from LD_PRELOAD cannot be preloaded: ignored.",
            "     1\t0x0000000000401e63: ?? ??:0",
            "==== Test Assertion Failure ====",
            "  aarch64/arch_timer.c:243: false",
            "  pid=7742 tid=7749 errno=0 - Success",
            "     2\t0x0000000000401547: ?? ??:0",
            "  ERROR: ld.so: object '/x/libkvmfs-preload.so' from LD_PRELOAD cannot be preloaded: ignored.",
            "  KVM_SET_DEVICE_ATTR failed, rc: -1 errno: 6 (No such device or address)",
            "");
        var (_, detail) = Outcome.Classify(254, false, 120, output);
        Assert.Equal("include/kvm_util_base.h:553: !ret -- KVM_SET_DEVICE_ATTR failed, rc: -1 errno: 6 (No such device or address) (errno=6 - No such device or address)", detail);
        Assert.Equal("kvmfs: VM 2 vCPU 1: KVM_RUN -> KVM_EXIT_INTERNAL_ERROR", Outcome.DaemonNote(output));
    }

    [Fact]
    public void ACrashOfKvmfsIsTheNoteAndTheSignalIsNamed()
    {
        var output = "Adding slots\nterminate called after throwing an instance of 'PAL_SEHException'\n==== Test Assertion Failure ====\n  lib/kvm_util.c:786: !ret\n  pid=1 tid=1 errno=5 - Input/output error\n";
        var (verdict, detail) = Outcome.Classify(134, false, 120, output);
        Assert.Equal(Verdict.Fail, verdict);
        Assert.Equal("launcher killed by SIGABRT; lib/kvm_util.c:786: !ret (errno=5 - Input/output error)", detail);
        Assert.Equal("crash: terminate called after throwing an instance of 'PAL_SEHException'", Outcome.DaemonNote(output));
    }

    [Fact]
    public void WithoutKvmfsWarningsThereIsNoNote()
    {
        Assert.Equal("", Outcome.DaemonNote("[06:58:55.377 INF] kvmfs: started\n1..0 # SKIP - x\n"));
    }

    [Fact]
    public void OnlyTheFirstAssertionCounts()
    {
        var output = "==== Test Assertion Failure ====\n  a.c:1: first\n  pid=1 tid=1 errno=0 - Success\n  one\n\n==== Test Assertion Failure ====\n  b.c:2: second\n  pid=1 tid=2 errno=0 - Success\n  two\n";
        var (_, detail) = Outcome.Classify(254, false, 120, output);
        Assert.Equal("a.c:1: first -- one", detail);
    }

    [Fact]
    public void TapBailOutAndNotOkAreFailures()
    {
        Assert.Equal("Bail out! stats fd broken", Outcome.Classify(1, false, 120, "1..3\nBail out! stats fd broken\n").Detail);
        Assert.Equal("not ok 2 vm stats", Outcome.Classify(1, false, 120, "1..3\nok 1 a\nnot ok 2 vm stats\n").Detail);
    }

    [Fact]
    public void ASignalIsNamedWithQemusOwnLine()
    {
        var (verdict, detail) = Outcome.Classify(128 + 11, false, 120, "starting\nqemu: uncaught target signal 11 (Segmentation fault) - core dumped\n");
        Assert.Equal(Verdict.Fail, verdict);
        Assert.Equal("killed by SIGSEGV: qemu: uncaught target signal 11 (Segmentation fault) - core dumped", detail);
    }

    [Fact]
    public void AnyOtherExitCodeIsAFailureWithTheLastLine()
    {
        var (verdict, detail) = Outcome.Classify(2, false, 120, "usage: foo\n");
        Assert.Equal(Verdict.Fail, verdict);
        Assert.Equal("exit 2: usage: foo", detail);
    }

    [Fact]
    public void ATimeoutSaysTheLimitAndTheLastLine()
    {
        var (verdict, detail) = Outcome.Classify(null, true, 1.5, "Iteration 1\nIteration 2\n");
        Assert.Equal(Verdict.Timeout, verdict);
        Assert.Equal("no exit within 1.5 s: Iteration 2", detail);
    }

    [Fact]
    public void LongReasonsAreClipped()
    {
        var (_, detail) = Outcome.Classify(3, false, 120, new string('x', 1000));
        Assert.True(detail.Length <= 220);
        Assert.EndsWith("...", detail);
    }
}
