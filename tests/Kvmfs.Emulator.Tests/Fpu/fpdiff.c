/* Differential oracle for Kvmfs.Emulator.Fpu: runs each scalar FP instruction over a table of
   interesting operands under several FPCR settings and prints
   "op fpcr a b c result fpsr" (hex) per line. Run it under qemu-aarch64-static (or real hardware);
   FpDifferentialTests recomputes every line with the C# library. Built by the test itself. */
#include <stdio.h>
#include <stdint.h>
#include <string.h>

typedef uint64_t u64;
typedef u64 (*opfn)(u64, u64, u64);

static inline void set_fpcr(u64 v) { asm volatile("msr fpcr, %0" :: "r"(v)); }
static inline void set_fpsr(u64 v) { asm volatile("msr fpsr, %0" :: "r"(v)); }
static inline u64 get_fpsr(void) { u64 v; asm volatile("mrs %0, fpsr" : "=r"(v)); return v; }

#define LD_D "fmov d0, %x1\n fmov d1, %x2\n fmov d2, %x3\n"
#define LD_S "fmov s0, %w1\n fmov s1, %w2\n fmov s2, %w3\n"
#define LD_X "mov x9, %x1\n mov x10, %x2\n"
#define DEF(name, load, body, store) \
  static u64 name(u64 a, u64 b, u64 c) { u64 r = 0; \
    asm volatile(load body "\n" store : "=r"(r) : "r"(a), "r"(b), "r"(c) : "v0", "v1", "v2", "x9", "x10", "cc", "memory"); \
    return r; }
#define ST_D "fmov %x0, d0"
#define ST_S "fmov %w0, s0"
#define ST_H "fmov %w0, s0"
#define ST_X "mov %x0, x9"
#define ST_NZCV "mrs %x0, nzcv"

/* two-operand arithmetic, single and double */
#define ARITH2(op) DEF(op##_s, LD_S, #op " s0, s0, s1", ST_S) DEF(op##_d, LD_D, #op " d0, d0, d1", ST_D)
ARITH2(fadd) ARITH2(fsub) ARITH2(fmul) ARITH2(fdiv) ARITH2(fmax) ARITH2(fmin) ARITH2(fmaxnm) ARITH2(fminnm)
ARITH2(fabd) ARITH2(fmulx) ARITH2(frecps) ARITH2(frsqrts) ARITH2(fnmul)
ARITH2(fcmeq) ARITH2(fcmge) ARITH2(fcmgt) ARITH2(facge) ARITH2(facgt)
#define CMP(op) DEF(op##_s, LD_S, #op " s0, s1", ST_NZCV) DEF(op##_d, LD_D, #op " d0, d1", ST_NZCV)
CMP(fcmp) CMP(fcmpe)
#define ARITH3(op) DEF(op##_s, LD_S, #op " s0, s0, s1, s2", ST_S) DEF(op##_d, LD_D, #op " d0, d0, d1, d2", ST_D)
ARITH3(fmadd) ARITH3(fmsub) ARITH3(fnmadd) ARITH3(fnmsub)
#define ARITH1(op) DEF(op##_s, LD_S, #op " s0, s0", ST_S) DEF(op##_d, LD_D, #op " d0, d0", ST_D)
ARITH1(fsqrt) ARITH1(frintn) ARITH1(frintp) ARITH1(frintm) ARITH1(frintz) ARITH1(frinta) ARITH1(frinti) ARITH1(frintx)
ARITH1(frecpe) ARITH1(frsqrte) ARITH1(frecpx) ARITH1(fneg) ARITH1(fabs)
#define TOINT(op) DEF(op##_sw, LD_S, #op " w9, s0", ST_X) DEF(op##_sx, LD_S, #op " x9, s0", ST_X) \
                  DEF(op##_dw, LD_D, #op " w9, d0", ST_X) DEF(op##_dx, LD_D, #op " x9, d0", ST_X)
TOINT(fcvtzs) TOINT(fcvtzu) TOINT(fcvtns) TOINT(fcvtnu) TOINT(fcvtps) TOINT(fcvtpu) TOINT(fcvtms) TOINT(fcvtmu)
TOINT(fcvtas) TOINT(fcvtau)
DEF(fcvtzs_dx_f3, LD_D, "fcvtzs x9, d0, #3", ST_X) DEF(fcvtzu_sw_f32, LD_S, "fcvtzu w9, s0, #32", ST_X)
DEF(fcvtzs_sx_f64, LD_S, "fcvtzs x9, s0, #64", ST_X)
#define FROMINT(op) DEF(op##_ws, LD_X, #op " s0, w9", ST_S) DEF(op##_xs, LD_X, #op " s0, x9", ST_S) \
                    DEF(op##_wd, LD_X, #op " d0, w9", ST_D) DEF(op##_xd, LD_X, #op " d0, x9", ST_D)
FROMINT(scvtf) FROMINT(ucvtf)
DEF(scvtf_xd_f5, LD_X, "scvtf d0, x9, #5", ST_D) DEF(ucvtf_ws_f32, LD_X, "ucvtf s0, w9, #32", ST_S)
DEF(scvtf_xs_f64, LD_X, "scvtf s0, x9, #64", ST_S)
DEF(fcvt_sd, LD_S, "fcvt d0, s0", ST_D) DEF(fcvt_ds, LD_D, "fcvt s0, d0", ST_S)
DEF(fcvt_sh, LD_S, "fcvt h0, s0", ST_H) DEF(fcvt_dh, LD_D, "fcvt h0, d0", ST_H)
DEF(fcvt_hs, LD_S, "fcvt s0, h0", ST_S) DEF(fcvt_hd, LD_S, "fcvt d0, h0", ST_D)
DEF(fcvtxn_ds, LD_D, "fcvtxn s0, d0", ST_S)
DEF(urecpe_w, LD_S, "urecpe v0.2s, v0.2s", ST_S) DEF(ursqrte_w, LD_S, "ursqrte v0.2s, v0.2s", ST_S)

/* kind: operand class of the inputs: 'h','s','d' (FP of that size), 'x' (integers) */
struct op { const char *name; opfn fn; int nargs; char kind; };
#define O2(op) { #op "_s", op##_s, 2, 's' }, { #op "_d", op##_d, 2, 'd' },
#define O3(op) { #op "_s", op##_s, 3, 's' }, { #op "_d", op##_d, 3, 'd' },
#define O1(op) { #op "_s", op##_s, 1, 's' }, { #op "_d", op##_d, 1, 'd' },
#define OI(op) { #op "_sw", op##_sw, 1, 's' }, { #op "_sx", op##_sx, 1, 's' }, { #op "_dw", op##_dw, 1, 'd' }, { #op "_dx", op##_dx, 1, 'd' },
#define OF(op) { #op "_ws", op##_ws, 1, 'x' }, { #op "_xs", op##_xs, 1, 'x' }, { #op "_wd", op##_wd, 1, 'x' }, { #op "_xd", op##_xd, 1, 'x' },
static const struct op ops[] = {
  O2(fadd) O2(fsub) O2(fmul) O2(fdiv) O2(fmax) O2(fmin) O2(fmaxnm) O2(fminnm) O2(fabd) O2(fmulx)
  O2(frecps) O2(frsqrts) O2(fnmul) O2(fcmeq) O2(fcmge) O2(fcmgt) O2(facge) O2(facgt) O2(fcmp) O2(fcmpe)
  O3(fmadd) O3(fmsub) O3(fnmadd) O3(fnmsub)
  O1(fsqrt) O1(frintn) O1(frintp) O1(frintm) O1(frintz) O1(frinta) O1(frinti) O1(frintx)
  O1(frecpe) O1(frsqrte) O1(frecpx) O1(fneg) O1(fabs)
  OI(fcvtzs) OI(fcvtzu) OI(fcvtns) OI(fcvtnu) OI(fcvtps) OI(fcvtpu) OI(fcvtms) OI(fcvtmu) OI(fcvtas) OI(fcvtau)
  { "fcvtzs_dx_f3", fcvtzs_dx_f3, 1, 'd' }, { "fcvtzu_sw_f32", fcvtzu_sw_f32, 1, 's' }, { "fcvtzs_sx_f64", fcvtzs_sx_f64, 1, 's' },
  OF(scvtf) OF(ucvtf)
  { "scvtf_xd_f5", scvtf_xd_f5, 1, 'x' }, { "ucvtf_ws_f32", ucvtf_ws_f32, 1, 'x' }, { "scvtf_xs_f64", scvtf_xs_f64, 1, 'x' },
  { "fcvt_sd", fcvt_sd, 1, 's' }, { "fcvt_ds", fcvt_ds, 1, 'd' }, { "fcvt_sh", fcvt_sh, 1, 's' }, { "fcvt_dh", fcvt_dh, 1, 'd' },
  { "fcvt_hs", fcvt_hs, 1, 'h' }, { "fcvt_hd", fcvt_hd, 1, 'h' }, { "fcvtxn_ds", fcvtxn_ds, 1, 'd' },
  { "urecpe_w", urecpe_w, 1, 'x' }, { "ursqrte_w", ursqrte_w, 1, 'x' },
};

/* Interesting operands per format, built from sign/exponent/fraction so one list serves all sizes. */
static u64 mk(int n, int sign, int biased, u64 frac) {
  int f = n == 16 ? 10 : n == 32 ? 23 : 52;
  return ((u64)sign << (n - 1)) | ((u64)biased << f) | frac;
}
static int table(int n, u64 *out) {
  int f = n == 16 ? 10 : n == 32 ? 23 : 52, e = n == 16 ? 5 : n == 32 ? 8 : 11;
  int bias = (1 << (e - 1)) - 1, maxe = (1 << e) - 1;
  u64 fm = ((u64)1 << f) - 1, q = (u64)1 << (f - 1);
  u64 base[] = {
    mk(n,0,0,0), mk(n,0,0,1), mk(n,0,0,fm), mk(n,0,0,q), mk(n,0,1,0), mk(n,0,1,q), mk(n,0,maxe-1,fm), mk(n,0,maxe-1,0),
    mk(n,0,bias,0), mk(n,0,bias,1), mk(n,0,bias-1,fm), mk(n,0,bias,q), mk(n,0,bias+1,0), mk(n,0,bias+1,q), mk(n,0,bias-1,0),
    mk(n,0,bias-f-1,0), mk(n,0,bias-f-1,q), mk(n,0,bias+f,q|1), mk(n,0,bias+f+1,1), mk(n,0,bias+1,q>>1),
    mk(n,0,bias+30,0), mk(n,0,bias+31,0), mk(n,0,bias+32,0), mk(n,0,bias+62,fm), mk(n,0,bias+63,0), mk(n,0,bias+64,0),
    mk(n,0,bias+30,fm), mk(n,0,bias-1,1), mk(n,0,bias+2,q|(q>>1)), mk(n,0,bias/2,3),
    mk(n,0,maxe,0), mk(n,0,maxe,q|5), mk(n,0,maxe,5), mk(n,0,maxe,q), mk(n,0,maxe,1),
  };
  int k = 0;
  for (unsigned i = 0; i < sizeof base / sizeof base[0]; i++) {
    out[k++] = base[i];
    out[k++] = base[i] ^ ((u64)1 << (n - 1));
  }
  return k;
}
static u64 rng = 0x9E3779B97F4A7C15ull;
static u64 next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
/* Random values with short fractions near 1.0 make exact ties and cancellations likely. */
static u64 rnd(int n) {
  int f = n == 16 ? 10 : n == 32 ? 23 : 52, e = n == 16 ? 5 : n == 32 ? 8 : 11;
  int bias = (1 << (e - 1)) - 1;
  u64 r = next();
  int kind = r & 3;
  u64 frac = next() & (((u64)1 << f) - 1);
  if (kind == 0) frac &= ~(((u64)1 << (f - 4)) - 1);
  int ex = kind == 3 ? (int)((r >> 8) % ((1u << e) - 1)) : bias + (int)((r >> 8) % 9) - 4;
  return mk(n, (r >> 40) & 1, ex, frac);
}
static int itable(u64 *out) {
  u64 base[] = { 0, 1, 2, 3, 0x7fffffff, 0x80000000, 0xffffffff, 0x1000001, 0x1000003, 0x7fffffffffffffffull,
    0x8000000000000000ull, 0xffffffffffffffffull, 0x20000000000001ull, 0x20000000000003ull, 0xfffffffffffff801ull,
    0xffffffffff000001ull, 0x40000000ull, 0xc0000000ull, 0x100000000ull, 0x12345678ull };
  int k = 0;
  for (unsigned i = 0; i < sizeof base / sizeof base[0]; i++) out[k++] = base[i];
  for (int i = 0; i < 40; i++) { u64 v = next(); out[k++] = (i & 1) ? v : v >> (next() & 63); }
  return k;
}

static const u64 fpcrs[] = { 0, 1u << 22, 2u << 22, 3u << 22, 1u << 24, 1u << 25, (3u << 22) | (3u << 24), 1u << 26, (1u << 24) | (1u << 22) };

int main(int argc, char **argv) {
  /* By default pairs are sampled (all under FPCR=0, a quarter otherwise); "full" runs every combination. */
  int full = argc > 1 && strcmp(argv[1], "full") == 0;
  static u64 vals[3][200];
  int nv[3];
  nv[0] = table(16, vals[0]); nv[1] = table(32, vals[1]); nv[2] = table(64, vals[2]);
  for (int i = 0; i < 24; i++) { vals[0][nv[0]++] = rnd(16); vals[1][nv[1]++] = rnd(32); vals[2][nv[2]++] = rnd(64); }
  static u64 ivals[100];
  int ni = itable(ivals);
  for (unsigned o = 0; o < sizeof ops / sizeof ops[0]; o++) {
    const struct op *p = &ops[o];
    u64 *v; int cnt;
    if (p->kind == 'x') { v = ivals; cnt = ni; }
    else { int s = p->kind == 'h' ? 0 : p->kind == 's' ? 1 : 2; v = vals[s]; cnt = nv[s]; }
    for (unsigned c = 0; c < sizeof fpcrs / sizeof fpcrs[0]; c++) {
      u64 fpcr = fpcrs[c];
      for (int i = 0; i < cnt; i++) {
        int jn = p->nargs >= 2 ? cnt : 1;
        for (int j = 0; j < jn; j++) {
          int kn = p->nargs == 3 ? (full ? 8 : 2) : 1;
          if (!full && p->nargs >= 2 && c != 0 && (i + j + (int)c) % 4 != 0) continue;
          if (!full && p->nargs == 3 && c == 0 && (i + j) % 2 != 0) continue;
          for (int k = 0; k < kn; k++) {
            u64 a = v[i], b = p->nargs >= 2 ? v[j] : 0, cc = p->nargs == 3 ? v[(i * 7 + j * 3 + k * 11) % cnt] : 0;
            set_fpcr(fpcr); set_fpsr(0);
            u64 r = p->fn(a, b, cc);
            u64 s = get_fpsr();
            set_fpcr(0);
            printf("%s %llx %llx %llx %llx %llx %llx\n", p->name, (unsigned long long)fpcr, (unsigned long long)a,
                   (unsigned long long)b, (unsigned long long)cc, (unsigned long long)r, (unsigned long long)s);
          }
        }
      }
    }
  }
  return 0;
}
