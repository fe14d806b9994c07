using System.Runtime.InteropServices;
using Kvmfs.Kvm;
using Kvmfs.Kvm.Core;
using Kvmfs.Protocol.Uapi;

namespace Kvmfs.Fuse.Tests;

/// <summary>
/// The default view: VMs made through the real object model (as the preload shim's server makes
/// them, not through the file system's own nodes) appear under vms/ with their real state.
/// </summary>
public sealed unsafe class HostViewTests
{
    [FuseFact]
    public void A_vm_made_through_the_object_model_shows_its_memslot_and_vcpu_registers()
    {
        var user = new HeapUser();
        var sys = new KvmSystem(new VmOwner(Environment.ProcessId, "host-view-test"));
        var vm = Assert.IsType<Vm>(Call(sys, user, KvmIoctls.KVM_CREATE_VM, 0).NewObject);
        Vcpu? vcpu = null;
        try
        {
            ulong ram = user.Alloc(0x4000);
            var region = new KvmUserspaceMemoryRegion { slot = 5, guest_phys_addr = 0x40000000, memory_size = 0x4000, userspace_addr = ram };
            Assert.False(Call(vm, user, KvmIoctls.KVM_SET_USER_MEMORY_REGION, 0, Bytes(region)).IsError);
            vcpu = Assert.IsType<Vcpu>(Call(vm, user, KvmIoctls.KVM_CREATE_VCPU, 0).NewObject);
            var init = default(KvmVcpuInit);
            init.target = KvmArm.KVM_ARM_TARGET_GENERIC_V8;
            Assert.Equal(0, Call(vcpu, user, KvmIoctls.KVM_ARM_VCPU_INIT, 0, Bytes(init)).Value);

            using var m = new MountedKvmfs();
            string dir = m[$"vms/{vm.Id}"];
            Assert.True(Directory.Exists(dir), string.Join(",", Directory.EnumerateDirectories(m["vms"])));

            string slots = File.ReadAllText(Path.Combine(dir, "memslots"));
            Assert.Matches(@"\n5\s+0x0000000040000000\s+0x0000000000004000\s", slots);
            Assert.Contains($"0x{ram:x}", slots);

            Assert.Contains($"vm             {vm.Id}\n", File.ReadAllText(Path.Combine(dir, "info")));
            Assert.Contains("host-view-test", File.ReadAllText(Path.Combine(dir, "info")));
            Assert.Contains("no in-kernel irqchip", File.ReadAllText(Path.Combine(dir, "vgic")));
            Assert.Contains("guest execution is not wired", File.ReadAllText(Path.Combine(dir, "stage2")));

            // KVM_ARM_VCPU_INIT's reset state: PC 0, PSTATE EL1h with DAIF masked (0x3c5).
            string regs = File.ReadAllText(Path.Combine(dir, "vcpus/0/regs"));
            Assert.Contains("\npc       0x0000000000000000\n", regs);
            Assert.Contains("\npstate   0x00000000000003c5   (EL1h, DAIF masked, NZCV clear)\n", regs);
            Assert.Contains("MIDR_EL1", File.ReadAllText(Path.Combine(dir, "vcpus/0/sysregs")));
            string stats = File.ReadAllText(Path.Combine(dir, "vcpus/0/stats"));
            Assert.Contains("\ninitialized    yes (KVM_ARM_VCPU_INIT target KVM_ARM_TARGET_GENERIC_V8)\n", stats);
            // KVM's binary stats under the kernel's names, live: bump one counter and read it back.
            vcpu.Stats.Add(VcpuStat.SignalExits, 3);
            Assert.Matches(@"\n  signal_exits +3\n", File.ReadAllText(Path.Combine(dir, "vcpus/0/stats")));
            Assert.Matches(@"\n  halt_wait_hist +histogram of 32 buckets, 0 samples\n", stats);

            // Once the VMM lets go, the VM leaves the tree.
            vcpu.Release();
            vcpu = null;
            vm.Release();
            Assert.Null(KvmHost.Find(vm.Id));
            // readdir, not lookup: the kernel may keep the name's dentry for its entry timeout.
            Assert.DoesNotContain(dir, Directory.EnumerateDirectories(m["vms"]));
        }
        finally
        {
            vcpu?.Release();
            if (!vm.Destroyed) vm.Release();
        }
    }

    [FuseFact]
    public void A_vm_node_answers_its_owner_process_and_EIO_to_any_other_as_KVM_does()
    {
        const uint KVM_CHECK_EXTENSION = 0xAE03, KVM_CAP_NR_VCPUS = 9, KVM_GET_MP_STATE = 0x8004AE98;
        var user = new HeapUser();
        // One VM of this process, one of another process (pid 1 stands for any other VMM).
        var mineSys = new KvmSystem(new VmOwner(Environment.ProcessId, "mine"));
        var otherSys = new KvmSystem(new VmOwner(1, "someone else"));
        var mine = Assert.IsType<Vm>(Call(mineSys, user, KvmIoctls.KVM_CREATE_VM, 0).NewObject);
        var other = Assert.IsType<Vm>(Call(otherSys, user, KvmIoctls.KVM_CREATE_VM, 0).NewObject);
        var otherVcpu = Assert.IsType<Vcpu>(Call(other, user, KvmIoctls.KVM_CREATE_VCPU, 0).NewObject);
        try
        {
            using var m = new MountedKvmfs();
            long direct = Call(mine, user, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS).Value;
            int fd = Native.Open(m[$"vms/{mine.Id}/vm"], Native.O_RDWR);
            Assert.True(fd >= 0);
            Assert.Equal(direct, Native.Ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS));
            Native.Close(fd);

            // kvm->mm != current->mm: EIO for every ioctl, the VM unchanged.
            foreach (var node in new[] { $"vms/{other.Id}/vm", $"vms/{other.Id}/vcpus/0/vcpu" })
            {
                fd = Native.Open(m[node], Native.O_RDWR);
                Assert.True(fd >= 0, node);
                Assert.Equal((-1, Native.EIO), (Native.Ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS), Native.Errno));
                uint state = 0;
                Assert.Equal((-1, Native.EIO), (Native.Ioctl(fd, KVM_GET_MP_STATE, &state), Native.Errno));
                Assert.Equal((-1, Native.EIO), (Native.Ioctl(fd, KvmIoctls.KVM_CREATE_VCPU, 1), Native.Errno));
                Assert.Equal((-1, Native.EIO), (Native.Ioctl(fd, KvmIoctls.KVM_RUN, 0), Native.Errno));
                Native.Close(fd);
            }
            Assert.Equal(1, other.VcpuCount);
        }
        finally
        {
            otherVcpu.Release();
            other.Release();
            mine.Release();
        }
    }

    private static byte[] Bytes<T>(T value) where T : unmanaged
    {
        var b = new byte[Marshal.SizeOf<T>()];
        MemoryMarshal.Write(b, in value);
        return b;
    }

    private static IoctlResult Call(KvmObject obj, IUserAccess user, uint cmd, ulong arg, byte[]? data = null) =>
        obj.Ioctl(new IoctlCall(cmd, arg, data ?? new byte[Ioc.Size(cmd)], user));

    /// <summary>VMM memory in this process: addresses are real pointers, shared as themselves.</summary>
    private sealed class HeapUser : IUserAccess
    {
        private readonly List<(ulong Addr, ulong Size)> _blocks = [];

        public ulong Alloc(ulong size)
        {
            nint p = (nint)NativeMemory.AlignedAlloc((nuint)size, 4096);
            NativeMemory.Clear((void*)p, (nuint)size);
            _blocks.Add(((ulong)p, size));
            return (ulong)p;
        }

        private bool Valid(ulong addr, ulong len) => _blocks.Exists(b => addr >= b.Addr && addr + len <= b.Addr + b.Size);

        public int CopyFromUser(ulong address, Span<byte> destination)
        {
            if (!Valid(address, (ulong)destination.Length)) return -14;
            new ReadOnlySpan<byte>((void*)address, destination.Length).CopyTo(destination);
            return 0;
        }

        public int CopyToUser(ulong address, ReadOnlySpan<byte> source)
        {
            if (!Valid(address, (ulong)source.Length)) return -14;
            source.CopyTo(new Span<byte>((void*)address, source.Length));
            return 0;
        }

        public int GetFile(int vmmFd) => -9;

        public int ShareMemory(ulong address, ulong size, out SharedMemory? memory)
        {
            memory = null;
            if (!Valid(address, size)) return -14;
            memory = new SharedMemory(-1, (nint)address, size, _ => { });
            return 0;
        }
    }
}
