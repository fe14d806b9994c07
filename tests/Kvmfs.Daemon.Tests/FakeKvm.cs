using Kvmfs.Kvm.Core;

namespace Kvmfs.Daemon.Tests;

/// <summary>
/// Stand-ins for the object model in the server's own unit tests: a vCPU whose KVM_RUN blocks
/// until it is kicked (the emulator is what really blocks there), so the server's kick and
/// hangup paths can be tested on their own. Every release is recorded, in order.
/// </summary>
internal sealed class FakeKvm
{
    public readonly List<string> Released = [];
    public readonly ManualResetEventSlim InRun = new();
    private int _kicks;
    public int Kicks => Volatile.Read(ref _kicks);

    public KvmObject System(VmOwner owner) => new FakeObject(this, "kvm", 0);

    private sealed class FakeObject(FakeKvm model, string kind, int id) : KvmObject
    {
        private readonly SemaphoreSlim _kick = new(0);
        private int _vcpus;

        public override string Kind => kind;
        public override int Id => id;

        public override IoctlResult Ioctl(IoctlCall call)
        {
            switch (kind, call.Command)
            {
                case ("kvm", 0xAE00): return IoctlResult.Ok(12);
                case ("kvm", 0xAE01): return IoctlResult.NewFd(new FakeObject(model, "vm", 0));
                case ("vm", 0xAE41): return IoctlResult.NewFd(new FakeObject(model, "vcpu", _vcpus++));
                case ("vcpu", 0x4004AE8B): return IoctlResult.Ok();   // KVM_SET_SIGNAL_MASK
                case ("vcpu", 0xAE80):
                    model.InRun.Set();
                    _kick.Wait();
                    return IoctlResult.Error(4);   // EINTR, as KVM_RUN after a signal
                default: return IoctlResult.Error(25);
            }
        }

        public override void Kick()
        {
            Interlocked.Increment(ref model._kicks);
            _kick.Release();
        }

        public override void Release()
        {
            lock (model.Released) model.Released.Add($"{kind} {id}");
        }
    }
}
