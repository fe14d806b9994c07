/*
 * A native program using the kvmfs file system's nodes as its KVM, with no shim: plain open(2),
 * ioctl(2) and read(2) on files under the mount. Prints name=value lines; "-1 <errno>" for a
 * failed call. Built for the host by the daemon tests.
 *
 *   kvmfs_fs_client own MOUNT       create a VM through MOUNT/kvm and drive its vm / vcpu nodes
 *   kvmfs_fs_client foreign NODE    one ioctl on another process's vm or vcpu node
 *   kvmfs_fs_client trace MOUNT     a read of MOUNT/trace that waits, ended by SIGALRM
 *
 * Only the ioctl's own struct crosses FUSE, so the KVM structs are declared here by size; the
 * numbers are the generic _IOC encoding, the same on x86_64 and arm64.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define KVMIO 0xAE
struct vcpu_init { uint32_t target; uint32_t features[7]; };      /* struct kvm_vcpu_init */
struct one_reg { uint64_t id; uint64_t addr; };                   /* struct kvm_one_reg */
struct mp_state { uint32_t mp_state; };                           /* struct kvm_mp_state */

#define KVM_GET_API_VERSION       _IO(KVMIO, 0x00)
#define KVM_CREATE_VM             _IO(KVMIO, 0x01)
#define KVM_CHECK_EXTENSION       _IO(KVMIO, 0x03)
#define KVM_GET_VCPU_MMAP_SIZE    _IO(KVMIO, 0x04)
#define KVM_CREATE_VCPU           _IO(KVMIO, 0x41)
#define KVM_GET_MP_STATE          _IOR(KVMIO, 0x98, struct mp_state)
#define KVM_GET_ONE_REG           _IOW(KVMIO, 0xab, struct one_reg)
#define KVM_ARM_VCPU_INIT         _IOW(KVMIO, 0xae, struct vcpu_init)
#define KVM_ARM_PREFERRED_TARGET  _IOR(KVMIO, 0xaf, struct vcpu_init)
#define KVM_CAP_NR_VCPUS          9
#define KVM_CAP_ARM_VM_IPA_SIZE   165
#define REG_PC                    0x6030000000100040ULL

static void show(const char *name, long r)
{
    if (r < 0) printf("%s=-1 %d\n", name, errno);
    else printf("%s=%ld\n", name, r);
    fflush(stdout);
}

static int own(const char *mnt)
{
    char path[512];
    snprintf(path, sizeof path, "%s/kvm", mnt);
    int kvm = open(path, O_RDWR | O_CLOEXEC);
    show("open_kvm", kvm < 0 ? -1 : 0);
    if (kvm < 0) return 1;
    show("api_version", ioctl(kvm, KVM_GET_API_VERSION, 0));
    show("ipa_size", ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_ARM_VM_IPA_SIZE));
    show("vcpu_mmap_size", ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0));
    long vm_id = ioctl(kvm, KVM_CREATE_VM, 0);   /* the VM's id: no fd can come back through FUSE */
    show("vm_id", vm_id);
    if (vm_id < 0) return 1;

    snprintf(path, sizeof path, "%s/vms/%ld/vm", mnt, vm_id);
    int vm = open(path, O_RDWR | O_CLOEXEC);
    show("open_vm", vm < 0 ? -1 : 0);
    if (vm < 0) return 1;
    show("vm_nr_vcpus", ioctl(vm, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS));
    struct vcpu_init init;
    memset(&init, 0xff, sizeof init);
    long r = ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init);
    show("preferred_target_rc", r);
    printf("preferred_target=%u\n", init.target);
    long vcpu_id = ioctl(vm, KVM_CREATE_VCPU, 0);
    show("vcpu_id", vcpu_id);

    snprintf(path, sizeof path, "%s/vms/%ld/vcpus/%ld/vcpu", mnt, vm_id, vcpu_id);
    int vcpu = open(path, O_RDWR | O_CLOEXEC);
    show("open_vcpu", vcpu < 0 ? -1 : 0);
    if (vcpu < 0) return 1;
    memset(init.features, 0, sizeof init.features);
    show("vcpu_init", ioctl(vcpu, KVM_ARM_VCPU_INIT, &init));
    struct mp_state mp = { 0xffffffff };
    show("get_mp_state", ioctl(vcpu, KVM_GET_MP_STATE, &mp));
    printf("mp_state=%u\n", mp.mp_state);
    /* ONE_REG carries a pointer to the value: FUSE copies only the struct, so it cannot be followed. */
    uint64_t pc = 0;
    struct one_reg reg = { REG_PC, (uint64_t)(uintptr_t)&pc };
    show("get_one_reg_pc", ioctl(vcpu, KVM_GET_ONE_REG, &reg));
    printf("ready=1\n");
    fflush(stdout);

    /* Hold the VM until told to go, so the caller can look at it in the tree. */
    char line[16];
    if (fgets(line, sizeof line, stdin) == NULL) { /* caller gone: just close */ }
    close(vcpu);
    close(vm);
    close(kvm);
    printf("done=1\n");
    return 0;
}

static int foreign(const char *node)
{
    int fd = open(node, O_RDWR | O_CLOEXEC);
    show("open", fd < 0 ? -1 : 0);
    if (fd < 0) return 1;
    show("check_extension", ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS));
    struct mp_state mp = { 0 };
    show("get_mp_state", ioctl(fd, KVM_GET_MP_STATE, &mp));
    close(fd);
    return 0;
}

static void on_alarm(int sig) { (void)sig; }

static int trace(const char *mnt)
{
    char path[512], buf[65536];
    snprintf(path, sizeof path, "%s/trace", mnt);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    show("open", fd < 0 ? -1 : 0);
    if (fd < 0) return 1;
    ssize_t n = read(fd, buf, sizeof buf - 1);   /* the headline */
    buf[n > 0 ? n : 0] = 0;
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    printf("headline=%s\n", buf);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;                      /* no SA_RESTART: the read must fail with EINTR */
    sigaction(SIGALRM, &sa, NULL);
    /* A read with nothing new waits; the signal ends it. Trace lines that arrive meanwhile are
     * read too, and a signal between two reads is missed, so the timer repeats (5 s at most). */
    struct itimerval every = { { 0, 200000 }, { 0, 500000 } };
    setitimer(ITIMER_REAL, &every, NULL);
    ssize_t r;
    time_t end = time(NULL) + 5;
    while ((r = read(fd, buf, sizeof buf)) > 0 && time(NULL) < end) { }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &off, NULL);
    show("blocked_read", r);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s own|foreign|trace PATH\n", argv[0]); return 2; }
    if (!strcmp(argv[1], "own")) return own(argv[2]);
    if (!strcmp(argv[1], "foreign")) return foreign(argv[2]);
    if (!strcmp(argv[1], "trace")) return trace(argv[2]);
    return 2;
}
