/*
 * A small arm64 KVM client for the end-to-end test: the first steps every VMM takes, each
 * printed as "name=value" (value, or "-1 errno" on failure) so the test can compare them with
 * what real KVM answers. Built with aarch64-linux-gnu-gcc, run through `kvmfs exec`.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static void show(const char *name, long ret)
{
	if (ret < 0)
		printf("%s=-1 %d\n", name, errno);
	else
		printf("%s=%ld\n", name, ret);
	fflush(stdout);
}

static void show_hex(const char *name, long ret, uint64_t value)
{
	if (ret < 0)
		printf("%s=-1 %d\n", name, errno);
	else
		printf("%s=0x%llx\n", name, (unsigned long long)value);
	fflush(stdout);
}

#define CORE_REG(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))
#define SYS_REG(op0, op1, crn, crm, op2) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | \
	((uint64_t)(op0) << 14) | ((uint64_t)(op1) << 11) | ((uint64_t)(crn) << 7) | ((uint64_t)(crm) << 3) | (op2))

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	show("open", kvm < 0 ? -1 : 0);
	if (kvm < 0)
		return 2;
	show("api_version", ioctl(kvm, KVM_GET_API_VERSION, 0));
	show("ipa_size", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE));
	show("bogus_system_ioctl", ioctl(kvm, _IO(KVMIO, 0x7f), 0));

	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	show("create_vm", vm < 0 ? -1 : 0);
	if (vm < 0)
		return 3;
	int mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	show("vcpu_mmap_size", mmap_size);

	/* Guest RAM: private anonymous, with contents written before the slot exists (QEMU writes ROMs
	 * later, kvmtool the kernel earlier: the shim must keep both). */
	size_t ram_size = 2 << 20;
	uint8_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ram[0] = 0x5a;
	ram[ram_size - 1] = 0xa5;
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0x80000000, .memory_size = ram_size, .userspace_addr = (uintptr_t)ram,
	};
	show("set_memory_region", ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region));
	show("ram_kept", ram[0] == 0x5a && ram[ram_size - 1] == 0xa5);
	ram[4096] = 0x33;   /* still writable after the move */
	struct kvm_userspace_memory_region unaligned = region;
	unaligned.slot = 1;
	unaligned.guest_phys_addr = 0x90000001;
	show("set_memory_region_unaligned", ioctl(vm, KVM_SET_USER_MEMORY_REGION, &unaligned));

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	show("create_vcpu", vcpu < 0 ? -1 : 0);
	if (vcpu < 0)
		return 4;
	struct kvm_run *run = mmap(NULL, (size_t)mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	show("mmap_vcpu", run == MAP_FAILED ? -1 : 0);

	struct kvm_vcpu_init init;
	memset(&init, 0, sizeof init);
	long r = ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init);
	show("preferred_target", r < 0 ? r : init.target);
	init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
	show("vcpu_init", ioctl(vcpu, KVM_ARM_VCPU_INIT, &init));

	uint64_t value = 0;
	struct kvm_one_reg reg = { .id = CORE_REG(regs.pc), .addr = (uintptr_t)&value };
	r = ioctl(vcpu, KVM_GET_ONE_REG, &reg);
	show_hex("pc", r, value);
	reg.id = CORE_REG(regs.pstate);
	r = ioctl(vcpu, KVM_GET_ONE_REG, &reg);
	show_hex("pstate", r, value);
	reg.id = SYS_REG(3, 0, 0, 0, 5);   /* MPIDR_EL1 */
	r = ioctl(vcpu, KVM_GET_ONE_REG, &reg);
	show_hex("mpidr", r, value);
	value = 0x80080000;
	reg.id = CORE_REG(regs.pc);
	show("set_pc", ioctl(vcpu, KVM_SET_ONE_REG, &reg));
	value = 0;
	r = ioctl(vcpu, KVM_GET_ONE_REG, &reg);
	show_hex("pc_after_set", r, value);
	reg.id = KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | 0x7fff;
	show("bogus_reg", ioctl(vcpu, KVM_GET_ONE_REG, &reg));
	reg.id = CORE_REG(regs.pc);
	reg.addr = 0;
	show("one_reg_null_addr", ioctl(vcpu, KVM_GET_ONE_REG, &reg));

	/* fds behave as fds: a dup'ed vCPU fd reaches the same vCPU; closing one keeps the other. */
	int vcpu2 = dup(vcpu);
	value = 0;
	reg.addr = (uintptr_t)&value;
	r = ioctl(vcpu2, KVM_GET_ONE_REG, &reg);
	show_hex("pc_via_dup", r, value);
	close(vcpu2);
	r = ioctl(vcpu, KVM_GET_ONE_REG, &reg);
	show_hex("pc_after_close_dup", r, value);
	show("ioctl_closed_fd", ioctl(vcpu2, KVM_GET_ONE_REG, &reg));

	close(vcpu);
	close(vm);
	close(kvm);
	printf("done=1\n");
	return 0;
}
