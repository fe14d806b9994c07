using Kvmfs.Fuse.View;
using Kvmfs.Kvm.Core;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Kvmfs.Fuse.Tests;

/// <summary>A test that mounts a real FUSE file system: needs /dev/fuse and root (mount(2)).</summary>
public sealed class FuseFactAttribute : FactAttribute
{
    public FuseFactAttribute()
    {
        if (!File.Exists("/dev/fuse")) Skip = "/dev/fuse is absent: the kernel has no FUSE here";
        else if (Environment.UserName != "root") Skip = "mounting a FUSE file system with mount(2) needs root";
    }
}

/// <summary>kvmfs mounted on a fresh temporary directory for one test.</summary>
internal sealed class MountedKvmfs : IDisposable
{
    public MountedKvmfs(IKvmView? view = null)
    {
        Dir = Path.Combine(Path.GetTempPath(), "kvmfs-test-" + Guid.NewGuid().ToString("N")[..8]);
        Fs = KvmfsFileSystem.Mount(Dir, view, new KvmfsOptions { UnmountOnExit = false });
    }

    public string Dir { get; }
    public KvmfsFileSystem Fs { get; }

    public string this[string relative] => Path.Combine(Dir, relative);

    public void Dispose()
    {
        Fs.Dispose();
        try { Directory.Delete(Dir); } catch (IOException) { }
    }

    /// <summary>A view whose kvm node opens <see cref="ProbeSystem"/> objects.</summary>
    public static FrontEndKvmView ProbeView(Func<ProbeVm>? createVm = null) =>
        new(owner => new ProbeSystem(owner, createVm));
}
