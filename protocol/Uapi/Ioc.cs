namespace Kvmfs.Protocol.Uapi;

/// <summary>Direction bits of an ioctl number, as seen from user space (asm-generic/ioctl.h).</summary>
[Flags]
public enum IocDir : uint
{
    None = 0,
    /// <summary>_IOW: user space writes the struct, the kernel reads it.</summary>
    Write = 1,
    /// <summary>_IOR: the kernel writes the struct back.</summary>
    Read = 2,
}

/// <summary>
/// The generic ioctl number layout used by arm64 Linux: nr in bits 0-7, type in 8-15, size in
/// 16-29, direction in 30-31. Helpers to build and take apart any ioctl number.
/// </summary>
public static class Ioc
{
    public const int NRBITS = 8;
    public const int TYPEBITS = 8;
    public const int SIZEBITS = 14;
    public const int DIRBITS = 2;

    public const int NRSHIFT = 0;
    public const int TYPESHIFT = NRSHIFT + NRBITS;
    public const int SIZESHIFT = TYPESHIFT + TYPEBITS;
    public const int DIRSHIFT = SIZESHIFT + SIZEBITS;

    public const uint NRMASK = (1u << NRBITS) - 1;
    public const uint TYPEMASK = (1u << TYPEBITS) - 1;
    public const uint SIZEMASK = (1u << SIZEBITS) - 1;
    public const uint DIRMASK = (1u << DIRBITS) - 1;

    /// <summary>Pre-shifted direction values, so ioctl numbers can be written as constant expressions.</summary>
    public const uint IO = 0u << DIRSHIFT;
    public const uint IOW = 1u << DIRSHIFT;
    public const uint IOR = 2u << DIRSHIFT;
    public const uint IOWR = 3u << DIRSHIFT;

    public static uint Encode(IocDir dir, uint type, uint nr, uint size)
    {
        if (size > SIZEMASK) throw new ArgumentOutOfRangeException(nameof(size), size, "_IOC size is 14 bits");
        return ((uint)dir << DIRSHIFT) | ((type & TYPEMASK) << TYPESHIFT) | ((nr & NRMASK) << NRSHIFT) | (size << SIZESHIFT);
    }

    public static uint Io(uint type, uint nr) => Encode(IocDir.None, type, nr, 0);
    public static uint Iow(uint type, uint nr, uint size) => Encode(IocDir.Write, type, nr, size);
    public static uint Ior(uint type, uint nr, uint size) => Encode(IocDir.Read, type, nr, size);
    public static uint Iowr(uint type, uint nr, uint size) => Encode(IocDir.Read | IocDir.Write, type, nr, size);

    public static IocDir Dir(uint cmd) => (IocDir)((cmd >> DIRSHIFT) & DIRMASK);
    public static uint Type(uint cmd) => (cmd >> TYPESHIFT) & TYPEMASK;
    public static uint Nr(uint cmd) => (cmd >> NRSHIFT) & NRMASK;
    public static uint Size(uint cmd) => (cmd >> SIZESHIFT) & SIZEMASK;

    /// <summary>"_IOWR(0xae, 0xe0, 12)": how an unknown ioctl is named in logs and traces.</summary>
    public static string Describe(uint cmd)
    {
        string macro = Dir(cmd) switch
        {
            IocDir.None => "_IO",
            IocDir.Write => "_IOW",
            IocDir.Read => "_IOR",
            _ => "_IOWR",
        };
        return Dir(cmd) == IocDir.None
            ? $"{macro}(0x{Type(cmd):x2}, 0x{Nr(cmd):x2})"
            : $"{macro}(0x{Type(cmd):x2}, 0x{Nr(cmd):x2}, {Size(cmd)})";
    }
}

/// <summary>Names the C struct (as in &lt;linux/kvm.h&gt; / &lt;asm/kvm.h&gt;) a C# struct mirrors.
/// The layout test compares every type carrying it with the C compiler's layout.</summary>
[AttributeUsage(AttributeTargets.Struct)]
public sealed class CStructAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}

/// <summary>Marks a static class whose public constants are UAPI macros of the same name; the
/// layout test compares each with the C headers' value.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class UapiConstantsAttribute : Attribute
{
}

/// <summary>
/// A constant, field or ioctl that the Linux 6.1 headers the layout test compiles against do not
/// have (newer kernels, or kernel-internal values); the comparison skips it and says why.
/// </summary>
[AttributeUsage(AttributeTargets.Field | AttributeTargets.Struct)]
public sealed class NotInUapi61Attribute(string reason) : Attribute
{
    public string Reason { get; } = reason;
}
