/* The process start-up state: argv, envp and the auxiliary vector as the program sees them.
   With the argument "hwcap" it prints only AT_HWCAP (which legitimately differs between CPUs).
   The environment is printed sorted: qemu-user reverses its order, a Linux kernel keeps it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;
static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "hwcap") == 0) { printf("%lx\n", getauxval(AT_HWCAP)); return 0; }
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++) printf("argv[%d] %s\n", i, argv[i]);
    int n = 0; while (environ[n]) n++;
    char **sorted = malloc((n + 1) * sizeof *sorted);
    memcpy(sorted, environ, (n + 1) * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, by_string);
    for (int i = 0; i < n; i++) printf("env %s\n", sorted[i]);
    printf("pagesz %lu sysconf %ld\n", getauxval(AT_PAGESZ), sysconf(_SC_PAGESIZE));
    printf("platform %s\n", (const char *)getauxval(AT_PLATFORM));
    printf("execfn matches argv0 %d\n", strcmp((const char *)getauxval(AT_EXECFN), argv[0]) == 0);
    const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
    int nonzero = 0; for (int i = 0; i < 16; i++) nonzero |= r[i];
    printf("random present %d\n", r != 0 && nonzero != 0);
    printf("uid %d euid %d secure %lu\n", getuid() == getauxval(AT_UID), geteuid() == getauxval(AT_EUID), getauxval(AT_SECURE));
    printf("stack aligned %d\n", ((unsigned long)__builtin_frame_address(0) & 15) == 0);
    return argc;
}
