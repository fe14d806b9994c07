namespace Kvmfs.Fuse.Native;

/// <summary>The generic Linux ioctl number layout (nr 0-7, type 8-15, size 16-29, direction 30-31),
/// which the kernel's restricted FUSE ioctl uses to decide what to copy in and out.</summary>
internal static class IoctlBits
{
    public const uint DirWrite = 1, DirRead = 2;

    public static uint Dir(uint cmd) => cmd >> 30;
    public static uint Size(uint cmd) => (cmd >> 16) & 0x3FFF;
    public static uint Type(uint cmd) => (cmd >> 8) & 0xFF;
    public static uint Nr(uint cmd) => cmd & 0xFF;

    public static bool CopiesIn(uint cmd) => (Dir(cmd) & DirWrite) != 0;
    public static bool CopiesOut(uint cmd) => (Dir(cmd) & DirRead) != 0;

    /// <summary>"_IOWR(0xae, 0xe0, 12)".</summary>
    public static string Describe(uint cmd) => Dir(cmd) switch
    {
        0 => $"_IO(0x{Type(cmd):x2}, 0x{Nr(cmd):x2})",
        DirWrite => $"_IOW(0x{Type(cmd):x2}, 0x{Nr(cmd):x2}, {Size(cmd)})",
        DirRead => $"_IOR(0x{Type(cmd):x2}, 0x{Nr(cmd):x2}, {Size(cmd)})",
        _ => $"_IOWR(0x{Type(cmd):x2}, 0x{Nr(cmd):x2}, {Size(cmd)})",
    };
}
