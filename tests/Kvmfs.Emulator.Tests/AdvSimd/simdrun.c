/* Runs single A64 instructions for the AdvSIMD/FP differential test. Reads fixed-size records
   (struct st) from stdin; for each, loads V0-V31, X0-X7, FPCR and NZCV, executes the instruction
   (copied into an executable page, followed by RET), and writes the record back with the resulting
   registers, FPSR, NZCV, and undef = 1 when the instruction raised SIGILL. Run under
   qemu-aarch64-static (or on real hardware). */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct st {
  uint64_t v[64];
  uint64_t x[8];
  uint32_t insn, fpcr, nzcv, fpsr, undef, pad;
};
_Static_assert(sizeof(struct st) == 600, "layout");

void run_snippet(struct st *s, void *code);
asm(".text\n.global run_snippet\nrun_snippet:\n"
    "stp x29, x30, [sp, #-160]!\n"
    "stp x19, x20, [sp, #16]\n"
    "stp d8, d9, [sp, #96]\n stp d10, d11, [sp, #112]\n stp d12, d13, [sp, #128]\n stp d14, d15, [sp, #144]\n"
    "mov x19, x0\n mov x20, x1\n"
    "ldp q0, q1, [x19, #0]\n ldp q2, q3, [x19, #32]\n ldp q4, q5, [x19, #64]\n ldp q6, q7, [x19, #96]\n"
    "ldp q8, q9, [x19, #128]\n ldp q10, q11, [x19, #160]\n ldp q12, q13, [x19, #192]\n ldp q14, q15, [x19, #224]\n"
    "ldp q16, q17, [x19, #256]\n ldp q18, q19, [x19, #288]\n ldp q20, q21, [x19, #320]\n ldp q22, q23, [x19, #352]\n"
    "ldp q24, q25, [x19, #384]\n ldp q26, q27, [x19, #416]\n ldp q28, q29, [x19, #448]\n ldp q30, q31, [x19, #480]\n"
    "ldr w9, [x19, #580]\n msr fpcr, x9\n msr fpsr, xzr\n ldr w9, [x19, #584]\n msr nzcv, x9\n"
    "add x10, x19, #512\n ldp x0, x1, [x10]\n ldp x2, x3, [x10, #16]\n ldp x4, x5, [x10, #32]\n ldp x6, x7, [x10, #48]\n"
    "blr x20\n"
    "stp q0, q1, [x19, #0]\n stp q2, q3, [x19, #32]\n stp q4, q5, [x19, #64]\n stp q6, q7, [x19, #96]\n"
    "stp q8, q9, [x19, #128]\n stp q10, q11, [x19, #160]\n stp q12, q13, [x19, #192]\n stp q14, q15, [x19, #224]\n"
    "stp q16, q17, [x19, #256]\n stp q18, q19, [x19, #288]\n stp q20, q21, [x19, #320]\n stp q22, q23, [x19, #352]\n"
    "stp q24, q25, [x19, #384]\n stp q26, q27, [x19, #416]\n stp q28, q29, [x19, #448]\n stp q30, q31, [x19, #480]\n"
    "add x10, x19, #512\n stp x0, x1, [x10]\n stp x2, x3, [x10, #16]\n stp x4, x5, [x10, #32]\n stp x6, x7, [x10, #48]\n"
    "mrs x9, fpsr\n str w9, [x19, #588]\n mrs x9, nzcv\n str w9, [x19, #584]\n msr fpcr, xzr\n"
    "ldp d8, d9, [sp, #96]\n ldp d10, d11, [sp, #112]\n ldp d12, d13, [sp, #128]\n ldp d14, d15, [sp, #144]\n"
    "ldp x19, x20, [sp, #16]\n ldp x29, x30, [sp], #160\n ret\n");

static sigjmp_buf jb;
static void on_sigill(int sig) { (void)sig; siglongjmp(jb, 1); }

int main(void) {
  uint32_t *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigill;
  sigaction(SIGILL, &sa, 0);
  static struct st s;
  while (fread(&s, sizeof s, 1, stdin) == 1) {
    code[0] = s.insn;
    code[1] = 0xd65f03c0; /* ret */
    __builtin___clear_cache((char *)code, (char *)(code + 2));
    struct st saved = s;
    s.undef = 0;
    if (sigsetjmp(jb, 1) == 0) run_snippet(&s, code);
    else { s = saved; s.undef = 1; s.fpsr = 0; asm volatile("msr fpcr, xzr"); }
    fwrite(&s, sizeof s, 1, stdout);
  }
  return 0;
}
