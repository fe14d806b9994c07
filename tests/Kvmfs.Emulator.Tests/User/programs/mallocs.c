/* malloc-heavy: many small blocks, realloc growth, large blocks (mmap), calloc, free in random order. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    enum { SLOTS = 4096 };
    static unsigned char *p[SLOTS]; static size_t len[SLOTS];
    uint64_t s = 88172645463325252ull, check = 0;
    for (int round = 0; round < 100000; round++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        int i = (int)(s % SLOTS);
        size_t n = (s >> 20) % 100 == 0 ? (s >> 32) % (1 << 20) + 1 : (s >> 32) % 512 + 1;
        if (p[i]) {
            for (size_t k = 0; k < len[i]; k += 61) check += p[i][k] * (k + 1);
            if ((s >> 40) & 1) { free(p[i]); p[i] = 0; continue; }
            unsigned char *q = realloc(p[i], n);
            if (!q) return 2;
            if (n > len[i]) memset(q + len[i], (int)(n & 0xFF), n - len[i]);
            p[i] = q; len[i] = n;
        } else {
            p[i] = (s >> 41) & 1 ? calloc(1, n) : malloc(n);
            if (!p[i]) return 2;
            if ((s >> 41) & 1) { for (size_t k = 0; k < n; k += 97) if (p[i][k]) return 3; }
            memset(p[i], (int)(i & 0xFF), n);
            len[i] = n;
        }
    }
    size_t live = 0;
    for (int i = 0; i < SLOTS; i++) if (p[i]) { live += len[i]; free(p[i]); }
    printf("check %llu live %zu\n", (unsigned long long)check, live);
    char *big = malloc(32 << 20);
    if (!big) return 4;
    memset(big, 0x5A, 32 << 20);
    uint64_t bs = 0; for (size_t k = 0; k < (32u << 20); k += 4096) bs += (unsigned char)big[k];
    free(big);
    printf("big %llu\n", (unsigned long long)bs);
    return 0;
}
