using System.Buffers.Binary;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.User;

/// <summary>What the loader placed: the numbers the initial stack's auxiliary vector and brk need.</summary>
public readonly record struct LoadedProgram(ulong Entry, ulong PhdrAddress, int PhdrEntrySize, int PhdrCount, ulong LoadBias, ulong BrkStart);

/// <summary>
/// Loads a static AArch64 Linux ELF (ET_EXEC, or static-pie ET_DYN placed at
/// <see cref="UserAddressSpace.PieBase"/>) into a <see cref="UserAddressSpace"/>: every PT_LOAD
/// segment's file bytes, its zero-filled bss, its page protection. Programs that need an
/// interpreter (PT_INTERP) are refused: user mode has no dynamic loader.
/// </summary>
public static class ElfLoader
{
    const ushort ET_EXEC = 2, ET_DYN = 3, EM_AARCH64 = 183;
    const uint PT_LOAD = 1, PT_INTERP = 3, PT_PHDR = 6;
    const uint PF_X = 1, PF_W = 2, PF_R = 4;

    public static LoadedProgram Load(UserAddressSpace mem, string path)
    {
        byte[] file = File.ReadAllBytes(path);
        ReadOnlySpan<byte> f = file;
        if (f.Length < 64 || f[0] != 0x7F || f[1] != (byte)'E' || f[2] != (byte)'L' || f[3] != (byte)'F')
            throw new BadImageFormatException($"{path}: not an ELF file");
        if (f[4] != 2 || f[5] != 1) throw new BadImageFormatException($"{path}: not a 64-bit little-endian ELF");
        ushort type = U16(f, 16), machine = U16(f, 18);
        if (machine != EM_AARCH64) throw new BadImageFormatException($"{path}: not an AArch64 program (e_machine {machine})");
        if (type != ET_EXEC && type != ET_DYN) throw new BadImageFormatException($"{path}: not an executable (e_type {type})");
        ulong entry = U64(f, 24), phoff = U64(f, 32);
        int phentsize = U16(f, 54), phnum = U16(f, 56);
        if (phentsize < 56 || phoff + (ulong)(phentsize * phnum) > (ulong)f.Length)
            throw new BadImageFormatException($"{path}: bad program headers");

        ulong bias = type == ET_DYN ? UserAddressSpace.PieBase : 0;
        ulong phdrAddress = 0, highest = 0;
        for (int i = 0; i < phnum; i++)
        {
            var ph = f.Slice((int)phoff + i * phentsize, phentsize);
            uint ptype = U32(ph, 0);
            if (ptype == PT_INTERP) throw new BadImageFormatException($"{path}: a dynamically linked program (user mode runs static ones)");
            if (ptype == PT_PHDR) phdrAddress = U64(ph, 16) + bias;
        }
        for (int i = 0; i < phnum; i++)
        {
            var ph = f.Slice((int)phoff + i * phentsize, phentsize);
            if (U32(ph, 0) != PT_LOAD) continue;
            uint flags = U32(ph, 4);
            ulong offset = U64(ph, 8), vaddr = U64(ph, 16) + bias, filesz = U64(ph, 32), memsz = U64(ph, 40);
            if (memsz == 0) continue;
            if (filesz > memsz || offset + filesz > (ulong)f.Length || !mem.InRange(vaddr, memsz))
                throw new BadImageFormatException($"{path}: bad PT_LOAD segment at 0x{vaddr:x}");
            ulong start = UserAddressSpace.PageAlignDown(vaddr), end = UserAddressSpace.PageAlignUp(vaddr + memsz);
            var prot = PagePerms.None;
            if ((flags & PF_R) != 0) prot |= PagePerms.Read;
            if ((flags & PF_W) != 0) prot |= PagePerms.Read | PagePerms.Write;
            if ((flags & PF_X) != 0) prot |= PagePerms.Execute;
            // Segments may share a page at their ends: map only pages not yet mapped, widen shared ones.
            for (ulong p = start; p < end; p += UserAddressSpace.PageSize)
            {
                var have = mem.PermsAt(p);
                bool ok = have == PagePerms.None ? mem.Map(p, UserAddressSpace.PageSize, prot)
                    : mem.Protect(p, UserAddressSpace.PageSize, (have & PagePerms.All) | prot);
                if (!ok) throw new BadImageFormatException($"{path}: cannot map the segment page at 0x{p:x}");
            }
            mem.Poke(vaddr, f.Slice((int)offset, (int)filesz));
            if (phdrAddress == 0 && phoff >= offset && phoff < offset + filesz)
                phdrAddress = vaddr + (phoff - offset);
            if (end > highest) highest = end;
        }
        if (highest == 0) throw new BadImageFormatException($"{path}: no loadable segment");
        return new LoadedProgram(entry + bias, phdrAddress, phentsize, phnum, bias, highest);
    }

    static ushort U16(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt16LittleEndian(s[o..]);
    static uint U32(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt32LittleEndian(s[o..]);
    static ulong U64(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt64LittleEndian(s[o..]);
}
