using System.Runtime.InteropServices;

namespace Kvmfs.Kvm.Core;

/// <summary>
/// The host calls the KVM objects make for memory they share with a VMM (kvm_run pages, binary
/// stats files): memfds, their size and mappings. One declaration each, for the whole project.
/// </summary>
internal static partial class HostLibc
{
    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int memfd_create(string name, uint flags);
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int ftruncate(int fd, long length);
    [LibraryImport("libc", SetLastError = true)]
    internal static partial nint mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int munmap(nint addr, nuint length);
    [LibraryImport("libc", SetLastError = true)]
    internal static partial int close(int fd);
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int open(string path, int flags);
}
