using System.Runtime.InteropServices;
using Kvmfs.Emulator.Cpu;
using Kvmfs.Emulator.Memory;

namespace Kvmfs.Emulator.Tests.Cpu;

/// <summary>A flat, identity-mapped RAM at [Base, Base+Size) for unit tests; everything else faults (level 0 translation).</summary>
public sealed unsafe class FlatMemory : IMemorySystem, IDisposable
{
    public const ulong Base = 0x10000;
    public readonly ulong Size;
    public readonly byte* Host;

    public FlatMemory(ulong size = 0x10000)
    {
        Size = size;
        Host = (byte*)NativeMemory.AlignedAlloc((nuint)size, 4096);
        NativeMemory.Clear(Host, (nuint)size);
    }

    public bool Translate(ArmCpu cpu, ulong va, AccessType type, out PageTranslation page, out Fault fault)
    {
        page = default; fault = default;
        if (va < Base || va - Base >= Size) { fault = new Fault(FaultKind.Translation, 0); return false; }
        ulong off = (va - Base) & ~0xFFFUL;
        page.HostPage = Host + off;
        page.PhysicalPage = Base + off;
        page.Perms = PagePerms.All;
        return true;
    }

    public bool MmioRead(ArmCpu cpu, ulong pa, int size, out ulong value) { value = 0; return false; }
    public bool MmioWrite(ArmCpu cpu, ulong pa, int size, ulong value) => false;

    public void Load(ulong va, params uint[] words)
    {
        for (int i = 0; i < words.Length; i++) *(uint*)(Host + (va - Base) + (ulong)i * 4) = words[i];
    }

    public void Dispose() => NativeMemory.AlignedFree(Host);
}

/// <summary>Records exceptions from EL0 instead of an EL1 kernel, and stops the CPU.</summary>
public sealed class RecordingSupervisor : ISupervisor
{
    public readonly List<(uint Esr, ulong Far, ulong Pc)> Exceptions = new();
    public void OnException(ArmCpu cpu, uint esr, ulong far)
    {
        unsafe { Exceptions.Add((esr, far, cpu.S->PC)); }
        cpu.RequestStop();
    }
}
