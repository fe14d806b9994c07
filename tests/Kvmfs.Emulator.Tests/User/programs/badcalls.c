/* Bad arguments to system calls: the errors must be Linux's, and the emulator must survive them. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r) { printf("%-28s %ld errno %d\n", what, r, r < 0 ? errno : 0); errno = 0; }

int main(void) {
    char *volatile unmapped = (char *)0x10;
    int fds[2]; pipe(fds); write(fds[1], "data", 4);
    show("read unmapped buffer", read(fds[0], unmapped, 4));
    show("write unmapped buffer", write(1, unmapped, 16));
    show("write bad fd", write(99, "x", 1));
    show("close bad fd", close(-5));
    show("open unmapped path", syscall(SYS_openat, AT_FDCWD, unmapped, O_RDONLY));
    show("mmap zero length", (long)mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    show("mmap huge", (long)mmap(0, 1UL << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    show("mmap unaligned offset", (long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, 0, 1));
    show("mmap bad fd", (long)mmap(0, 4096, PROT_READ, MAP_PRIVATE, 77, 0));
    show("munmap unaligned", munmap((void *)0x1001, 4096));
    show("mprotect unaligned", mprotect((void *)0x1001, 4096, PROT_READ));
    char *p = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p[0] = 1; p[4096] = 2; p[8192] = 3;
    show("munmap middle", munmap(p + 4096, 4096));
    show("read into hole", read(0, p + 4096, 1));
    show("mprotect over hole", mprotect(p, 3 * 4096, PROT_READ));
    show("mprotect first page", mprotect(p, 4096, PROT_READ));
    show("pipe2 unmapped", syscall(SYS_pipe2, unmapped, 0));
    show("dup3 same fd", syscall(SYS_dup3, 1, 1, 0));
    show("lseek on pipe", ({ int f[2]; pipe(f); long r = lseek(f[0], 0, SEEK_SET); r; }));
    show("unknown syscall 4000", syscall(4000));
    printf("survived %d %d\n", p[0], p[8192]);
    return 0;
}
