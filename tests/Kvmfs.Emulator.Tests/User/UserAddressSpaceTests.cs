using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;
using Kvmfs.Emulator.User;

namespace Kvmfs.Emulator.Tests.User;

/// <summary>The user-mode address space and loader on their own (no qemu needed).</summary>
public unsafe class UserAddressSpaceTests
{
    [Fact]
    public void TranslateFollowsPagePermissions()
    {
        using var mem = new UserAddressSpace();
        using var cpu = new ArmCpu(mem);
        mem.Cpu = cpu;
        const ulong va = 0x1000_0000;
        Assert.False(mem.Translate(cpu, va, AccessType.Read, out _, out var f));
        Assert.Equal(FaultKind.Translation, f.Kind);

        Assert.True(mem.Map(va, 0x3000, PagePerms.Read));
        Assert.True(mem.Translate(cpu, va + 0x1234, AccessType.Read, out var page, out _));
        Assert.Equal((ulong)mem.Host(va + 0x1000), (ulong)page.HostPage);
        Assert.False(mem.Translate(cpu, va, AccessType.Write, out _, out f));
        Assert.Equal(FaultKind.Permission, f.Kind);
        Assert.False(mem.Translate(cpu, va, AccessType.Execute, out _, out _));

        Assert.True(mem.Protect(va + 0x1000, 0x1000, PagePerms.Read | PagePerms.Write));
        Assert.True(mem.Translate(cpu, va + 0x1000, AccessType.Write, out _, out _));
        Assert.False(mem.Translate(cpu, va + 0x2000, AccessType.Write, out _, out _));
        Assert.False(mem.Protect(va + 0x2000, 0x2000, PagePerms.Read)); // runs past the mapping: ENOMEM

        Assert.True(mem.Map(va + 0x1000, 0x1000, PagePerms.None));     // PROT_NONE is mapped but inaccessible
        Assert.False(mem.Translate(cpu, va + 0x1000, AccessType.Read, out _, out f));
        Assert.Equal(FaultKind.Permission, f.Kind);
        Assert.False(mem.IsFree(va + 0x1000, 0x1000));
    }

    [Fact]
    public void UnmapReturnsZeroPagesAndTheCpuSeesTheChange()
    {
        using var mem = new UserAddressSpace();
        using var cpu = new ArmCpu(mem);
        mem.Cpu = cpu;
        cpu.SetPstate(Pstate.EL0t);
        const ulong va = 0x2000_0000;
        Assert.True(mem.Map(va, 0x1000, PagePerms.Read | PagePerms.Write));
        Assert.True(cpu.Write64(va + 8, 0x1122334455667788));
        Assert.True(cpu.Read64(va + 8, out ulong v));
        Assert.Equal(0x1122334455667788UL, v);
        mem.Unmap(va, 0x1000);
        var sup = new RecordingSupervisorForUser();
        cpu.Supervisor = sup;
        Assert.False(cpu.Read64(va + 8, out _));          // the TLB entry was dropped: this faults
        Assert.Equal(ExceptionClass.DataAbortLower, sup.Esr >> 26);
        Assert.Equal(va + 8, sup.Far);
        Assert.True(mem.Map(va, 0x1000, PagePerms.Read));
        Assert.True(cpu.Read64(va + 8, out v));
        Assert.Equal(0UL, v);                              // fresh pages read as zero
    }

    [Fact]
    public void FindFreeHonoursAFreeHintAndAvoidsMappedRanges()
    {
        using var mem = new UserAddressSpace();
        Assert.Equal(0x4000_0000UL, mem.FindFree(0x4000_0000, 0x2000));
        ulong a = mem.FindFree(0, 0x10000);
        Assert.True(mem.Map(a, 0x10000, PagePerms.Read));
        ulong b = mem.FindFree(a, 0x10000);                // hint taken: must not overlap
        Assert.True(b + 0x10000 <= a || b >= a + 0x10000);
        Assert.True(mem.IsFree(b, 0x10000));
    }

    [Fact]
    public void LoaderRefusesWhatItCannotRun()
    {
        string path = Path.Combine(Path.GetTempPath(), $"kvmfs-not-elf-{Environment.ProcessId}");
        try
        {
            File.WriteAllText(path, "#!/bin/sh\necho not an ELF\n");
            using var mem = new UserAddressSpace();
            Assert.Throws<BadImageFormatException>(() => ElfLoader.Load(mem, path));
            File.Copy("/bin/sh", path, overwrite: true); // a host (x86_64 or dynamic) program
            Assert.Throws<BadImageFormatException>(() => ElfLoader.Load(mem, path));
            if (UserHarness.HaveBusybox)
            {
                // A truncated arm64 program: the segments point past the end of the file.
                File.WriteAllBytes(path, File.ReadAllBytes(UserHarness.Busybox)[..4096]);
                Assert.Throws<BadImageFormatException>(() => ElfLoader.Load(mem, path));
            }
        }
        finally { File.Delete(path); }
    }

    [BusyboxFact]
    public void InstructionLimitEndsARunawayProgram()
    {
        // busybox sh spinning forever: killed (128+9) once the limit is reached, with a diagnostic.
        var log = new StringWriter();
        var r = UserProcess.Run(UserHarness.Busybox, [UserHarness.Busybox, "sh", "-c", "while :; do :; done"], UserHarness.Environment,
            options: new UserOptions { MaxInstructions = 2_000_000, Log = log });
        Assert.Equal(128 + 9, r.ExitStatus);
        Assert.InRange(r.Instructions, 2_000_000UL, 2_000_100UL);
        Assert.Contains("instruction limit", log.ToString());
    }

    [Fact]
    public void SyscallTableHasUniqueNumbersAndNames()
    {
        var numbers = new HashSet<int>();
        var names = new HashSet<string>();
        foreach (var e in Syscalls.Table)
        {
            Assert.True(numbers.Add(e.Number), $"syscall {e.Number} twice");
            Assert.True(names.Add(e.Name), $"{e.Name} twice");
        }
        Assert.Equal("write", Syscalls.NameOf(64));
        Assert.Equal("exit_group", Syscalls.NameOf(94));
        Assert.Equal("newfstatat", Syscalls.NameOf(79));
    }

    sealed class RecordingSupervisorForUser : ISupervisor
    {
        public uint Esr;
        public ulong Far;
        public void OnException(ArmCpu cpu, uint esr, ulong far) { Esr = esr; Far = far; cpu.RequestStop(); }
    }
}
