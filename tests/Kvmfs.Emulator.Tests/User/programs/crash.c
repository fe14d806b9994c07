/* Writes through a bad pointer after printing: stdout must be flushed, then SIGSEGV (status 139). */
#include <stdio.h>

int main(int argc, char **argv) {
    printf("before the fault\n");
    fflush(stdout);
    volatile int *p = (volatile int *)(unsigned long)(0x10 * argc);
    *p = 1;
    printf("not reached\n");
    return 0;
}
