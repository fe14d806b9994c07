using Kvmfs.Kvm.Core;

namespace Kvmfs.Fuse.Tree;

/// <summary>One name in the kvmfs tree, resolved afresh from the live VMs on every access, so
/// the tree never holds on to a VM that is gone.</summary>
public abstract class Entry(string name)
{
    public string Name { get; } = name;
}

/// <summary>A directory whose children are computed when asked (the vms/ list changes as VMs come and go).</summary>
public sealed class DirectoryEntry(string name, Func<IReadOnlyList<Entry>> children) : Entry(name)
{
    public IReadOnlyList<Entry> Children() => children();

    public Entry? Child(string childName)
    {
        foreach (var e in children())
            if (e.Name == childName) return e;
        return null;
    }
}

/// <summary>A read-only text file: a first line saying what it shows in KVM terms, then a body
/// rendered when the file is opened (one consistent snapshot per open).</summary>
public sealed class TextEntry(string name, string headline, Func<string> body) : Entry(name)
{
    public string Headline { get; } = headline;

    public string Render()
    {
        string text;
        try { text = body(); }
        catch (Exception e) { text = $"(could not be read: {e.GetType().Name}: {e.Message})\n"; }
        if (text.Length > 0 && !text.EndsWith('\n')) text += "\n";
        return Headline + "\n" + text;
    }
}

/// <summary>A node that answers KVM ioctls: each open gets the object its ioctls go to (a new
/// system object for kvm, the VM or vCPU itself for vm and vcpu).</summary>
public sealed class IoctlEntry(string name, Func<VmOwner, KvmObject?> open, bool ownsObject, int? ownerPid = null) : Entry(name)
{
    /// <summary>Null: the object is gone (ENOENT).</summary>
    public KvmObject? Open(VmOwner owner) => open(owner);

    /// <summary>True for kvm: each open owns a fresh system object, released with the file.</summary>
    public bool OwnsObject { get; } = ownsObject;

    /// <summary>The VM's owner process: only it may issue ioctls here (KVM answers EIO to any
    /// other process, kvm->mm != current->mm). Null for kvm, which any process may use.</summary>
    public int? OwnerPid { get; } = ownerPid;
}

/// <summary>The live ioctl and exit trace.</summary>
public sealed class TraceEntry(string name) : Entry(name);
