using System.Runtime.InteropServices;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Core.HostLibc;

namespace Kvmfs.Kvm;

/// <summary>
/// The vCPU's mmap area: a memfd of KVM_GET_VCPU_MMAP_SIZE bytes whose first page is struct
/// kvm_run. The front end gives the VMM this fd, so mmap(vcpu_fd) maps the same pages the
/// daemon writes exits into.
/// </summary>
public sealed unsafe partial class KvmRunPage : IDisposable
{

    private const uint MfdCloexec = 1;
    private const int ProtRead = 1, ProtWrite = 2, MapShared = 1;

    private nint _mapping;
    private int _fd;

    public KvmRunPage(string name)
    {
        _fd = memfd_create(name, MfdCloexec);
        if (_fd < 0) throw new IOException($"memfd_create failed: errno {Marshal.GetLastPInvokeError()}");
        if (ftruncate(_fd, KvmSystem.VcpuMmapSize) != 0 ||
            (_mapping = mmap(0, KvmSystem.VcpuMmapSize, ProtRead | ProtWrite, MapShared, _fd, 0)) == -1)
        {
            int err = Marshal.GetLastPInvokeError();
            close(_fd);
            throw new IOException($"cannot map the kvm_run memfd: errno {err}");
        }
    }

    public int Fd => _fd;
    public KvmRun* Run => (KvmRun*)_mapping;
    public bool Disposed => _mapping == 0;

    public byte[] Head()
    {
        var bytes = new byte[KvmRun.TraceBytes];
        if (_mapping != 0) new ReadOnlySpan<byte>((void*)_mapping, bytes.Length).CopyTo(bytes);
        return bytes;
    }

    public void Dispose()
    {
        nint m = Interlocked.Exchange(ref _mapping, 0);
        if (m != 0) munmap(m, KvmSystem.VcpuMmapSize);
        int fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) close(fd);
    }
}
