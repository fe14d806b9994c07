/*
 * A minimal VMM for the teardown test: sets up one VM with RAM and one vCPU, prints "ready=1",
 * then either spins in KVM_RUN until it is killed ("loop"), or waits for a line on stdin and
 * shows that its VM still answers ("wait").
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

#define CORE_REG(field) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))

static void die(const char *what)
{
	printf("error=%s %d\n", what, errno);
	fflush(stdout);
	_exit(1);
}

int main(int argc, char **argv)
{
	int loop = argc > 1 && strcmp(argv[1], "loop") == 0;
	uint64_t entry = loop ? 0x80000000 : 0x80001000;
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("open");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("create_vm");
	size_t ram_size = 1 << 20;
	uint32_t *ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; i < ram_size / 4; i++)
		ram[i] = 0x14000000;   /* b . : a guest that spins */
	struct kvm_userspace_memory_region region = {
		.slot = 0, .guest_phys_addr = 0x80000000, .memory_size = ram_size, .userspace_addr = (uintptr_t)ram,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("set_memory_region");
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		die("create_vcpu");
	int size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap_vcpu");
	struct kvm_vcpu_init init;
	if (ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0 || ioctl(vcpu, KVM_ARM_VCPU_INIT, &init) < 0)
		die("vcpu_init");
	struct kvm_one_reg reg = { .id = CORE_REG(regs.pc), .addr = (uintptr_t)&entry };
	if (ioctl(vcpu, KVM_SET_ONE_REG, &reg) < 0)
		die("set_pc");
	printf("ready=1\n");
	fflush(stdout);
	if (loop) {
		for (;;)
			ioctl(vcpu, KVM_RUN, 0);
	}
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		die("stdin");
	uint64_t pc = 0;
	reg.addr = (uintptr_t)&pc;
	if (ioctl(vcpu, KVM_GET_ONE_REG, &reg) < 0)
		die("get_pc");
	printf("pc=0x%llx\n", (unsigned long long)pc);
	printf("ram_intact=%d\n", ram[0] == 0x14000000 && ram[ram_size / 4 - 1] == 0x14000000);
	return 0;
}
