namespace Kvmfs.Kvm.Core;

/// <summary>The VMM process behind a /dev/kvm fd: shown by the FUSE view and the trace.</summary>
public sealed record VmOwner(int Pid, string CommandLine);
