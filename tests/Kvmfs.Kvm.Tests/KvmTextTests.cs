using Kvmfs.Kvm;
using Kvmfs.Protocol.Uapi;
using static Kvmfs.Kvm.Tests.K;
using static Kvmfs.Protocol.Uapi.KvmIoctls;

namespace Kvmfs.Kvm.Tests;

public class KvmTextTests
{
    private readonly FakeUser _u = new();

    [Fact]
    public void Renderings_ShowTheLiveState()
    {
        var vm = NewVm(_u);
        ulong ram = _u.Alloc(0x2000);
        With(vm, _u, KVM_SET_USER_MEMORY_REGION, new KvmUserspaceMemoryRegion { slot = 3, guest_phys_addr = 0x80000000, memory_size = 0x2000, userspace_addr = ram });
        var v = InitVcpu(vm, _u, 0);
        SetReg(v, _u, CoreId(256), 0x40080000);
        Assert.Contains("ipa_bits 40", KvmText.VmInfo(vm));
        Assert.Contains("0x0000000080000000", KvmText.Memslots(vm));
        Assert.Contains("pc  0x0000000040080000", KvmText.VcpuRegs(v));
        Assert.Contains("EL1h, DAIF masked", KvmText.VcpuRegs(v));
        Assert.Contains("MIDR_EL1             0x00000000411fd070", KvmText.VcpuSysregs(v));
        Assert.Contains("KVM_MP_STATE_RUNNABLE", KvmText.VcpuStats(v));
        Assert.Contains("no in-kernel irqchip", KvmText.Vgic(vm));
        Io(vm, _u, KVM_CREATE_IRQCHIP);
        Assert.Contains("model GICv2", KvmText.Vgic(vm));
    }
}
