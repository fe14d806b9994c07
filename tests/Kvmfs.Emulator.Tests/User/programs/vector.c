/* Loops the compiler vectorises at -O3 -ftree-vectorize: integer and float lanes, widening,
   narrowing, min/max, reductions, byte shuffles. */
#include <stdint.h>
#include <stdio.h>

#define N 4096
static int32_t a[N], b[N], c[N];
static int16_t h[N];
static uint8_t u8[N], v8[N];
static float fa[N], fb[N], fc[N];
static double da[N];

int main(void) {
    uint32_t seed = 12345;
    for (int i = 0; i < N; i++) {
        seed = seed * 1103515245u + 12345u;
        a[i] = (int32_t)(seed >> 3) - (1 << 27);
        b[i] = (int32_t)(seed % 1000) - 500;
        h[i] = (int16_t)(seed >> 7);
        u8[i] = (uint8_t)(seed >> 11); v8[i] = (uint8_t)(seed >> 19);
        fa[i] = (float)(seed % 10000) * 0.01f - 50.0f;
        fb[i] = (float)((seed >> 8) % 777) * 0.125f;
        da[i] = (double)(seed % 65536) / 3.0;
    }
    for (int r = 0; r < 50; r++) {
        for (int i = 0; i < N; i++) c[i] = a[i] * b[i] + (c[i] >> 1);
        for (int i = 0; i < N; i++) fc[i] = fa[i] * fb[i] + fc[i] * 0.5f;
        for (int i = 0; i < N; i++) u8[i] = (uint8_t)((u8[i] + v8[i] + 1) >> 1) ^ v8[(i + r) % N];
    }
    int64_t sum = 0; int32_t mn = INT32_MAX, mx = INT32_MIN; int64_t wsum = 0; uint32_t bytes = 0;
    for (int i = 0; i < N; i++) { sum += c[i]; if (c[i] < mn) mn = c[i]; if (c[i] > mx) mx = c[i]; }
    for (int i = 0; i < N; i++) wsum += (int32_t)h[i] * (int32_t)h[(i * 7) % N];
    for (int i = 0; i < N; i++) bytes += u8[i] > v8[i] ? u8[i] - v8[i] : v8[i] - u8[i];
    float fsum = 0, fmax = -1e30f;
    for (int i = 0; i < N; i++) { fsum += fc[i]; fmax = fc[i] > fmax ? fc[i] : fmax; }
    double dsum = 0;
    for (int i = 0; i < N; i++) dsum += da[i] * da[i] - da[i];
    int16_t narrow[N];
    for (int i = 0; i < N; i++) narrow[i] = (int16_t)(c[i] >> 12);
    int64_t nsum = 0;
    for (int i = 0; i < N; i++) nsum += narrow[i] * (i & 15);
    printf("sum %lld min %d max %d wsum %lld bytes %u\n", (long long)sum, mn, mx, (long long)wsum, bytes);
    printf("fsum %.9g fmax %.9g dsum %.17g nsum %lld\n", fsum, fmax, dsum, (long long)nsum);
    return 0;
}
