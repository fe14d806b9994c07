using System.Buffers.Binary;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.User;

/// <summary>
/// The stack a Linux kernel hands a new AArch64 process: at the top the strings (execfn, environment,
/// arguments, platform) and 16 random bytes, below them, 16-byte aligned, argc, argv[], NULL, envp[],
/// NULL and the auxiliary vector. SP points at argc.
/// </summary>
public static class InitialStack
{
    // Auxiliary vector keys (linux/auxvec.h).
    public const ulong AT_NULL = 0, AT_PHDR = 3, AT_PHENT = 4, AT_PHNUM = 5, AT_PAGESZ = 6, AT_BASE = 7, AT_FLAGS = 8,
        AT_ENTRY = 9, AT_UID = 11, AT_EUID = 12, AT_GID = 13, AT_EGID = 14, AT_PLATFORM = 15, AT_HWCAP = 16, AT_CLKTCK = 17,
        AT_SECURE = 23, AT_RANDOM = 25, AT_HWCAP2 = 26, AT_EXECFN = 31, AT_MINSIGSTKSZ = 51;

    /// <summary>Builds the stack below <paramref name="top"/> and returns the initial SP.</summary>
    public static ulong Build(UserAddressSpace mem, ulong top, LoadedProgram program, IReadOnlyList<string> argv,
        IReadOnlyList<string> envp, string execFn, ulong hwcap, ReadOnlySpan<byte> random16)
    {
        ulong p = top - 8; // Linux leaves one pointer-sized slot at the very top
        ulong PushString(string s)
        {
            byte[] b = System.Text.Encoding.UTF8.GetBytes(s + "\0");
            p -= (ulong)b.Length;
            mem.Poke(p, b);
            return p;
        }
        ulong execFnAddress = PushString(execFn);
        var envAddresses = new ulong[envp.Count];
        for (int i = envp.Count - 1; i >= 0; i--) envAddresses[i] = PushString(envp[i]);
        var argAddresses = new ulong[argv.Count];
        for (int i = argv.Count - 1; i >= 0; i--) argAddresses[i] = PushString(argv[i]);
        ulong platform = PushString("aarch64");
        p &= ~15UL;
        p -= 16;
        mem.Poke(p, random16);
        ulong randomAddress = p;

        var aux = new List<(ulong, ulong)>
        {
            (AT_HWCAP, hwcap), (AT_PAGESZ, UserAddressSpace.PageSize), (AT_CLKTCK, 100),
            (AT_PHDR, program.PhdrAddress), (AT_PHENT, (ulong)program.PhdrEntrySize), (AT_PHNUM, (ulong)program.PhdrCount),
            (AT_BASE, 0), (AT_FLAGS, 0), (AT_ENTRY, program.Entry),
            (AT_UID, Libc.getuid()), (AT_EUID, Libc.geteuid()), (AT_GID, Libc.getgid()), (AT_EGID, Libc.getegid()),
            (AT_SECURE, 0), (AT_RANDOM, randomAddress), (AT_HWCAP2, 0), (AT_EXECFN, execFnAddress), (AT_PLATFORM, platform),
            (AT_NULL, 0),
        };
        int words = 1 + argv.Count + 1 + envp.Count + 1 + 2 * aux.Count;
        ulong sp = (p - (ulong)words * 8) & ~15UL;
        var table = new byte[words * 8];
        int w = 0;
        void Put(ulong v) { BinaryPrimitives.WriteUInt64LittleEndian(table.AsSpan(w * 8), v); w++; }
        Put((ulong)argv.Count);
        foreach (var a in argAddresses) Put(a);
        Put(0);
        foreach (var e in envAddresses) Put(e);
        Put(0);
        foreach (var (k, v) in aux) { Put(k); Put(v); }
        mem.Poke(sp, table);
        return sp;
    }

    /// <summary>AT_HWCAP bits (arch/arm64 uapi hwcap.h) derived from the ID registers the CPU reports, so a
    /// program never picks code paths the emulator does not implement.</summary>
    public static ulong HwcapFromIdRegisters(ArmCpu cpu)
    {
        ulong pfr0 = cpu.Sys(SysReg.ID_AA64PFR0_EL1), isar0 = cpu.Sys(SysReg.ID_AA64ISAR0_EL1);
        ulong Field(ulong reg, int lsb) => (reg >> lsb) & 0xF;
        ulong h = 0;
        if (Field(pfr0, 16) != 0xF) h |= 1UL << 0;              // FP
        if (Field(pfr0, 20) != 0xF) h |= 1UL << 1;              // ASIMD
        if (Field(isar0, 4) >= 1) h |= 1UL << 3;                // AES
        if (Field(isar0, 4) >= 2) h |= 1UL << 4;                // PMULL
        if (Field(isar0, 8) >= 1) h |= 1UL << 5;                // SHA1
        if (Field(isar0, 12) >= 1) h |= 1UL << 6;               // SHA2
        if (Field(isar0, 16) >= 1) h |= 1UL << 7;               // CRC32
        if (Field(isar0, 20) >= 2) h |= 1UL << 8;               // ATOMICS (LSE)
        if (Field(pfr0, 16) == 1) h |= 1UL << 9;                // FPHP
        if (Field(pfr0, 20) == 1) h |= 1UL << 10;               // ASIMDHP
        if (Field(isar0, 28) >= 1) h |= 1UL << 12;              // ASIMDRDM
        if (Field(isar0, 12) >= 2) h |= 1UL << 21;              // SHA512
        if (Field(isar0, 32) >= 1) h |= 1UL << 17;              // SHA3
        if (Field(isar0, 44) >= 1) h |= 1UL << 20;              // ASIMDDP
        return h;
    }
}
