/* Integer workloads: FNV-1a, a bitwise CRC-32, xorshift, 128-bit multiply mixing, divisions,
   bit counting. Every result is printed so a wrong instruction shows up in the output. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t xorshift(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }

static uint32_t crc32_bitwise(const uint8_t *p, size_t n) {
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
    }
    return ~c;
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ull; }
    return h;
}

static uint64_t mix(uint64_t a, uint64_t b) {
    unsigned __int128 m = (unsigned __int128)a * b;
    return (uint64_t)m ^ (uint64_t)(m >> 64);
}

int main(int argc, char **argv) {
    static uint8_t buf[1 << 18];
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)xorshift();
    printf("crc32 %08x\n", crc32_bitwise(buf, sizeof buf));
    printf("fnv1a %016llx\n", (unsigned long long)fnv1a(buf, sizeof buf));
    uint64_t acc = 0, divs = 0; int64_t sacc = 0; unsigned pop = 0, lz = 0, tz = 0;
    for (int i = 1; i < 200000; i++) {
        uint64_t x = xorshift(), y = xorshift() | 1;
        acc = mix(acc ^ x, y);
        divs += x / y + x % (uint64_t)i + (uint32_t)x / (uint32_t)(i | 1);
        sacc += (int64_t)x / (int64_t)(i - 100000 == 0 ? 1 : i - 100000);
        sacc += ((int32_t)x >> (i & 31)) + (int64_t)((int64_t)y >> (i & 63));
        pop += __builtin_popcountll(x);
        lz += __builtin_clzll(y);
        tz += __builtin_ctzll(x | (1ull << 63));
        acc += __builtin_bswap64(x) ^ __builtin_bswap32((uint32_t)y);
        acc = (acc << 7) | (acc >> 57);
    }
    printf("mix %016llx divs %016llx sacc %lld\n", (unsigned long long)acc, (unsigned long long)divs, (long long)sacc);
    printf("pop %u lz %u tz %u\n", pop, lz, tz);
    unsigned char s[64];
    for (int i = 0; i < 64; i++) s[i] = (unsigned char)("the quick brown fox jumps over the lazy dog"[i % 43]);
    int cmp = memcmp(s, s + 43, 21);
    printf("memcmp %d strlen %zu\n", cmp > 0 ? 1 : cmp < 0 ? -1 : 0, strlen((char *)"kvmfs user mode"));
    return (int)(acc & 0x3F);
}
