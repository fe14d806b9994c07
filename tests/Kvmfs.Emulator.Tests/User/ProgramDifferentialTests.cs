namespace Kvmfs.Emulator.Tests.User;

/// <summary>
/// Our own C programs (programs/*.c), compiled static with aarch64-linux-gnu-gcc, on the emulator and
/// under qemu-aarch64-static: identical stdout and exit status. Integer hashing and 128-bit multiplies,
/// libm and printf of doubles, vectorised loops (-O3 -ftree-vectorize), atomics and exclusives, qsort and
/// setjmp/longjmp, malloc/realloc/mmap churn. ~20 s.
/// </summary>
[Trait("Category", "Qemu")]
public class ProgramDifferentialTests
{
    [CompiledTheory]
    [InlineData("hash.c", "-O2")]
    [InlineData("floatmath.c", "-O2")]
    [InlineData("vector.c", "-O2")]
    [InlineData("vector.c", "-O3 -ftree-vectorize")]
    [InlineData("atomics.c", "-O2")]
    [InlineData("qsort_setjmp.c", "-O2")]
    [InlineData("mallocs.c", "-O2")]
    [InlineData("hash.c", "-O2 -static-pie")]
    public void MatchesQemu(string source, string flags)
    {
        string exe = UserHarness.Compile(source, flags);
        var r = UserHarness.AssertSame(exe, [exe]);
        Assert.True(r.Stdout.Length > 0, "the program printed nothing");
        Assert.True(r.Instructions > 1_000_000, $"only {r.Instructions} instructions executed");
    }

    /// <summary>Bad pointers, descriptors, sizes and alignments: the same errno values as under qemu, and the program lives on.</summary>
    [CompiledTheory]
    [InlineData("badcalls.c", "-O2")]
    public void BadSyscallArgumentsGiveLinuxErrors(string source, string flags)
    {
        string exe = UserHarness.Compile(source, flags);
        var r = UserHarness.AssertSame(exe, [exe]);
        Assert.Contains("read unmapped buffer         -1 errno 14\n", r.Text);
        Assert.Contains("unknown syscall 4000         -1 errno 38\n", r.Text);
        Assert.Contains("survived 1 3\n", r.Text);
    }

    /// <summary>argv, envp and the auxiliary vector as the program sees them; AT_HWCAP follows the CPU's ID registers.</summary>
    [CompiledTheory]
    [InlineData("auxv.c", "-O2")]
    public void StartupStateMatchesQemu(string source, string flags)
    {
        string exe = UserHarness.Compile(source, flags);
        var r = UserHarness.AssertSame(exe, [exe, "first", "", "third argument"]);
        Assert.Contains("argv[3] third argument\nenv HOME=/tmp\nenv LC_ALL=C\nenv PATH=/usr/bin:/bin\nenv TZ=UTC\n", r.Text);
        Assert.Contains("platform aarch64\n", r.Text);
        Assert.Equal(4, r.ExitStatus);

        var hw = UserHarness.RunEmulator(exe, [exe, "hwcap"]);
        using var mem = new Kvmfs.Emulator.User.UserAddressSpace();
        using var cpu = new Kvmfs.Emulator.Cpu.ArmCpu(mem);
        ulong expected = Kvmfs.Emulator.User.InitialStack.HwcapFromIdRegisters(cpu);
        Assert.Equal($"{expected:x}\n", hw.Text);
        Assert.True((expected & 3) == 3, "FP and ASIMD must be advertised");
    }

    /// <summary>Host files through the syscall layer: open/write/lseek/pread/fstat/dup/mmap/rename/pipe/getdents/unlink.</summary>
    [CompiledTheory]
    [InlineData("files.c", "-O2")]
    public void FileSystemCallsMatchQemu(string source, string flags)
    {
        string exe = UserHarness.Compile(source, flags);
        string dir = Path.Combine(UserHarness.TempDir, "files-scratch");
        var r = UserHarness.AssertSame(exe, [exe, dir]); // the program removes its directory at the end
        Assert.Contains("rename 0\n", r.Text);
        Assert.Contains("entry b.txt\n", r.Text);
        Assert.False(Directory.Exists(dir));
    }

    /// <summary>A fault the kernel turns into SIGSEGV ends the program with 128+11 and a diagnostic naming the address.</summary>
    [CompiledTheory]
    [InlineData("crash.c", "-O1")]
    public void NullPointerWriteIsSigsegv(string source, string flags)
    {
        string exe = UserHarness.Compile(source, flags);
        var ours = UserHarness.RunEmulator(exe, [exe]);
        var qemu = UserHarness.RunQemu(exe, [exe]);
        Assert.Equal(128 + 11, qemu.ExitStatus);
        Assert.Equal(qemu.ExitStatus, ours.ExitStatus);
        Assert.Equal(qemu.Stdout, ours.Stdout);
        Assert.Contains("SIGSEGV", ours.Stderr);
        Assert.Contains("addr=0x10", ours.Stderr);
    }
}
