/* Guest RAM through the shim (kvm4): many memslots cost no fds, and RAM the VMM frees and maps
 * again at the same address is shared afresh. The daemon writes the PV stolen-time structure
 * (64 zero bytes) into guest memory at the first KVM_RUN; the VMM must see that write in its
 * new memory each round. Prints key=value lines for the test. */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define SZ 0x10000
#define SLOTS 2000

static int count_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int round_trip(int kvm, void *mem)
{
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0x40000000, .memory_size = SZ, .userspace_addr = (uint64_t)(uintptr_t)mem };
	if (vm < 0 || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
		return -1;
	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	struct kvm_vcpu_init init;
	if (vcpu < 0 || ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) || ioctl(vcpu, KVM_ARM_VCPU_INIT, &init))
		return -1;
	uint64_t ipa = 0x40000000;
	struct kvm_device_attr a = { .group = KVM_ARM_VCPU_PVTIME_CTRL, .attr = KVM_ARM_VCPU_PVTIME_IPA, .addr = (uint64_t)(uintptr_t)&ipa };
	if (ioctl(vcpu, KVM_SET_DEVICE_ATTR, &a))
		return -1;
	ioctl(vcpu, KVM_RUN, 0);
	r.memory_size = 0;
	ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r);
	close(vcpu);
	close(vm);
	return 0;
}

int main(void)
{
	int kvm = open("/dev/kvm", O_RDWR);
	if (kvm < 0)
		return 2;
	int stale = 0;
	for (int round = 0; round < 3; round++) {
		void *mem = mmap((void *)0x7000000000, SZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (mem == MAP_FAILED)
			return 2;
		memset(mem, 0xff, 64);
		if (round_trip(kvm, mem))
			return 3;
		if (*(uint64_t *)mem != 0)
			stale++;
		munmap(mem, SZ);
	}
	printf("stale=%d\n", stale);

	/* SLOTS memslots of one page each: the VMM's fd count must not grow with them. */
	int before = count_fds();
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	char *big = mmap(NULL, (size_t)SLOTS * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int failed = 0;
	for (int i = 0; i < SLOTS; i++) {
		struct kvm_userspace_memory_region r = { .slot = i, .guest_phys_addr = (uint64_t)i * 4096, .memory_size = 4096, .userspace_addr = (uint64_t)(uintptr_t)(big + (size_t)i * 4096) };
		if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r))
			failed++;
	}
	printf("slots_failed=%d\n", failed);
	printf("fd_growth=%d\n", count_fds() - before);
	printf("ready=1\n");
	fflush(stdout);
	/* The test counts the daemon's fds now, with every slot alive. */
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 4;
	close(vm);
	return 0;
}
