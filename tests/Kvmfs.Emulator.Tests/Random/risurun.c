/* Runs short A64 instruction sequences natively (under qemu-aarch64-static) for the risu-style random
   differential test. Reads fixed-size records (struct rec) from stdin: the whole user register state
   (X0-X30, SP, V0-V31, NZCV, FPCR, FPSR), up to MAXI instruction words and the 16 KiB scratch buffer that
   the sequence's loads/stores address (mapped at the same fixed address as in the emulator). Every
   register is under test, SP included, so the sequence runs from an executable page that loads X0
   PC-relatively, and leaves through MSR TPIDR_EL0, X0 + LDR/BR to risu_exit, which saves everything
   into the record. A SIGILL/SIGSEGV/SIGBUS ends the sequence: the record gets the signal number.
   Writes each record back with the resulting state. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAXI 16
#define SCRATCH_BASE 0x40000000UL
#define SCRATCH_SIZE 0x4000

struct rec {
  uint64_t x[31];               /* 0 */
  uint64_t sp;                  /* 248 */
  uint64_t v[64];               /* 256 */
  uint32_t nzcv, fpcr, fpsr;    /* 768, 772, 776 */
  uint32_t count, signo, pad;   /* 780, 784, 788 */
  uint32_t insn[MAXI];          /* 792 */
  uint8_t mem[SCRATCH_SIZE];    /* 856 */
};
_Static_assert(sizeof(struct rec) == 856 + SCRATCH_SIZE, "layout");

struct rec *cur;
uint64_t saved[24] __attribute__((aligned(16)));  /* x19-x30, sp, tpidr, d8-d15, code address */

void risu_enter(struct rec *r, void *code);
void risu_exit(void);
asm(".text\n.global risu_enter\nrisu_enter:\n"
    "adrp x2, saved\n add x2, x2, :lo12:saved\n"
    "stp x19, x20, [x2, #0]\n stp x21, x22, [x2, #16]\n stp x23, x24, [x2, #32]\n stp x25, x26, [x2, #48]\n"
    "stp x27, x28, [x2, #64]\n stp x29, x30, [x2, #80]\n mov x3, sp\n str x3, [x2, #96]\n"
    "mrs x3, tpidr_el0\n str x3, [x2, #104]\n"
    "stp d8, d9, [x2, #112]\n stp d10, d11, [x2, #128]\n stp d12, d13, [x2, #144]\n stp d14, d15, [x2, #160]\n"
    "str x1, [x2, #176]\n adrp x3, cur\n str x0, [x3, :lo12:cur]\n"
    "ldr w3, [x0, #772]\n msr fpcr, x3\n ldr w3, [x0, #776]\n msr fpsr, x3\n ldr w3, [x0, #768]\n msr nzcv, x3\n"
    "add x3, x0, #256\n"
    "ldp q0, q1, [x3, #0]\n ldp q2, q3, [x3, #32]\n ldp q4, q5, [x3, #64]\n ldp q6, q7, [x3, #96]\n"
    "ldp q8, q9, [x3, #128]\n ldp q10, q11, [x3, #160]\n ldp q12, q13, [x3, #192]\n ldp q14, q15, [x3, #224]\n"
    "ldp q16, q17, [x3, #256]\n ldp q18, q19, [x3, #288]\n ldp q20, q21, [x3, #320]\n ldp q22, q23, [x3, #352]\n"
    "ldp q24, q25, [x3, #384]\n ldp q26, q27, [x3, #416]\n ldp q28, q29, [x3, #448]\n ldp q30, q31, [x3, #480]\n"
    "ldr x3, [x0, #248]\n mov sp, x3\n"
    "ldp x1, x2, [x0, #8]\n ldp x3, x4, [x0, #24]\n ldp x5, x6, [x0, #40]\n ldp x7, x8, [x0, #56]\n"
    "ldp x9, x10, [x0, #72]\n ldp x11, x12, [x0, #88]\n ldp x13, x14, [x0, #104]\n ldp x15, x16, [x0, #120]\n"
    "ldp x17, x18, [x0, #136]\n ldp x19, x20, [x0, #152]\n ldp x21, x22, [x0, #168]\n ldp x23, x24, [x0, #184]\n"
    "ldp x25, x26, [x0, #200]\n ldp x27, x28, [x0, #216]\n ldp x29, x30, [x0, #232]\n"
    "adrp x0, saved\n add x0, x0, :lo12:saved\n ldr x0, [x0, #176]\n br x0\n"
    ".global risu_exit\nrisu_exit:\n"
    "adrp x0, cur\n ldr x0, [x0, :lo12:cur]\n"
    "stp x1, x2, [x0, #8]\n stp x3, x4, [x0, #24]\n stp x5, x6, [x0, #40]\n stp x7, x8, [x0, #56]\n"
    "stp x9, x10, [x0, #72]\n stp x11, x12, [x0, #88]\n stp x13, x14, [x0, #104]\n stp x15, x16, [x0, #120]\n"
    "stp x17, x18, [x0, #136]\n stp x19, x20, [x0, #152]\n stp x21, x22, [x0, #168]\n stp x23, x24, [x0, #184]\n"
    "stp x25, x26, [x0, #200]\n stp x27, x28, [x0, #216]\n stp x29, x30, [x0, #232]\n"
    "mrs x1, tpidr_el0\n str x1, [x0, #0]\n mov x1, sp\n str x1, [x0, #248]\n"
    "mrs x1, nzcv\n str w1, [x0, #768]\n mrs x1, fpsr\n str w1, [x0, #776]\n"
    "add x1, x0, #256\n"
    "stp q0, q1, [x1, #0]\n stp q2, q3, [x1, #32]\n stp q4, q5, [x1, #64]\n stp q6, q7, [x1, #96]\n"
    "stp q8, q9, [x1, #128]\n stp q10, q11, [x1, #160]\n stp q12, q13, [x1, #192]\n stp q14, q15, [x1, #224]\n"
    "stp q16, q17, [x1, #256]\n stp q18, q19, [x1, #288]\n stp q20, q21, [x1, #320]\n stp q22, q23, [x1, #352]\n"
    "stp q24, q25, [x1, #384]\n stp q26, q27, [x1, #416]\n stp q28, q29, [x1, #448]\n stp q30, q31, [x1, #480]\n"
    "adrp x2, saved\n add x2, x2, :lo12:saved\n"
    "ldr x3, [x2, #96]\n mov sp, x3\n ldr x3, [x2, #104]\n msr tpidr_el0, x3\n"
    "ldp x19, x20, [x2, #0]\n ldp x21, x22, [x2, #16]\n ldp x23, x24, [x2, #32]\n ldp x25, x26, [x2, #48]\n"
    "ldp x27, x28, [x2, #64]\n ldp x29, x30, [x2, #80]\n"
    "ldp d8, d9, [x2, #112]\n ldp d10, d11, [x2, #128]\n ldp d12, d13, [x2, #144]\n ldp d14, d15, [x2, #160]\n"
    "msr fpcr, xzr\n ret\n");

static sigjmp_buf jb;
static void on_signal(int sig) { siglongjmp(jb, sig); }

static struct rec r;

int main(void) {
  uint8_t *scratch = mmap((void *)SCRATCH_BASE, SCRATCH_SIZE, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (scratch != (uint8_t *)SCRATCH_BASE) { perror("scratch mmap"); return 2; }
  uint32_t *code = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("code mmap"); return 2; }
  static char altstack[65536];
  stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_ONSTACK | SA_NODEFER;
  sigaction(SIGILL, &sa, 0);
  sigaction(SIGSEGV, &sa, 0);
  sigaction(SIGBUS, &sa, 0);
  while (fread(&r, sizeof r, 1, stdin) == 1) {
    uint32_t n = r.count > MAXI ? MAXI : r.count;
    code[0] = 0x58000000u | ((n + 6) << 5);     /* ldr x0, <X0 literal> */
    for (uint32_t i = 0; i < n; i++) code[1 + i] = r.insn[i];
    code[n + 1] = 0xd51bd040u;                  /* msr tpidr_el0, x0 */
    code[n + 2] = 0x58000040u;                  /* ldr x0, <risu_exit literal> */
    code[n + 3] = 0xd61f0000u;                  /* br x0 */
    uint64_t exit_addr = (uint64_t)&risu_exit;
    memcpy(&code[n + 4], &exit_addr, 8);
    memcpy(&code[n + 6], &r.x[0], 8);
    __builtin___clear_cache((char *)code, (char *)(code + n + 8));
    memcpy(scratch, r.mem, SCRATCH_SIZE);
    r.signo = 0;
    int sig = sigsetjmp(jb, 1);
    if (sig == 0) risu_enter(&r, code);
    else { r.signo = (uint32_t)sig; asm volatile("msr fpcr, xzr"); }
    memcpy(r.mem, scratch, SCRATCH_SIZE);
    if (fwrite(&r, sizeof r, 1, stdout) != 1) return 3;
  }
  return 0;
}
