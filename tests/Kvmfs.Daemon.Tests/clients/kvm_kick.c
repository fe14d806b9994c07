/*
 * How VMMs interrupt a vCPU thread blocked in KVM_RUN, against a daemon whose KVM_RUN blocks
 * until kicked:
 *   restart: kvmtool's way: a handler installed with signal() (SA_RESTART), pthread_kill.
 *   tgkill:  a signal that does not go through pthread_kill (raw tgkill, as a timer or another
 *            process would send): the shim sees it in its KVM_RUN wait.
 *   sigmask: QEMU's way without immediate_exit: the signal stays blocked in the thread and
 *            KVM_SET_SIGNAL_MASK unblocks it only inside KVM_RUN; a second signal, blocked in
 *            that mask too, must NOT interrupt KVM_RUN.
 * Waits for a line on stdin (the vCPU is in KVM_RUN) before signalling.
 * Prints run=<ret> <errno>, handled=<count>, early=<1 if KVM_RUN returned before the kick>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static int vcpu;
static int use_sigmask;
static volatile pid_t vcpu_tid;
static volatile int handled, done;
static long run_ret;
static int run_errno;

static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

static void *vcpu_thread(void *arg)
{
	(void)arg;
	vcpu_tid = (pid_t)syscall(SYS_gettid);
	if (use_sigmask) {
		sigset_t block, run;
		sigemptyset(&block);
		sigaddset(&block, SIGUSR1);
		sigaddset(&block, SIGUSR2);
		pthread_sigmask(SIG_BLOCK, &block, NULL);
		pthread_sigmask(SIG_BLOCK, NULL, &run);
		sigdelset(&run, SIGUSR1);
		uint32_t mask[3];   /* struct kvm_signal_mask: len, then the kernel's 8-byte sigset */
		mask[0] = 8;
		memcpy(&mask[1], &run, 8);
		if (ioctl(vcpu, KVM_SET_SIGNAL_MASK, mask) < 0) {
			printf("set_signal_mask=-1 %d\n", errno);
			exit(1);
		}
	}
	run_ret = ioctl(vcpu, KVM_RUN, 0);
	run_errno = errno;
	done = 1;
	return NULL;
}

int main(int argc, char **argv)
{
	use_sigmask = argc > 1 && strcmp(argv[1], "sigmask") == 0;
	signal(SIGUSR1, on_signal);
	signal(SIGUSR2, on_signal);
	int kvm = open("/dev/kvm", O_RDWR);
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (kvm < 0 || vm < 0 || vcpu < 0) {
		printf("setup=-1 %d\n", errno);
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, vcpu_thread, NULL);
	/* The test says when the daemon sees the vCPU inside KVM_RUN. */
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	int early = done;
	if (use_sigmask) {
		pthread_kill(t, SIGUSR2);   /* blocked inside KVM_RUN too: KVM would not notice it */
		usleep(400000);
		early |= done;
	}
	if (argc > 1 && strcmp(argv[1], "tgkill") == 0)
		syscall(SYS_tgkill, getpid(), vcpu_tid, SIGUSR1);
	else
		pthread_kill(t, SIGUSR1);
	pthread_join(t, NULL);
	printf("run=%ld %d\nhandled=%d\nearly=%d\n", run_ret, run_ret < 0 ? run_errno : 0, handled, early);
	return 0;
}
