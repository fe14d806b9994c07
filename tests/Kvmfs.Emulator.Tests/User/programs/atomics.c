/* __atomic builtins (load-/store-exclusive loops without LSE) and a hand-written LDXR/STXR loop. */
#include <stdint.h>
#include <stdio.h>

static uint8_t a8; static uint16_t a16; static uint32_t a32; static uint64_t a64;

static uint64_t ldxr_stxr_add(uint64_t *p, uint64_t v) {
    uint64_t old, tmp; uint32_t fail;
    __asm__ volatile("1: ldaxr %0, [%3]\n add %1, %0, %4\n stlxr %w2, %1, [%3]\n cbnz %w2, 1b"
                     : "=&r"(old), "=&r"(tmp), "=&r"(fail) : "r"(p), "r"(v) : "memory");
    return old;
}

int main(void) {
    uint64_t total = 0;
    for (int i = 0; i < 100000; i++) {
        __atomic_fetch_add(&a8, (uint8_t)i, __ATOMIC_SEQ_CST);
        __atomic_fetch_sub(&a16, (uint16_t)(i * 3), __ATOMIC_ACQ_REL);
        __atomic_fetch_or(&a32, (uint32_t)i << (i & 15), __ATOMIC_RELAXED);
        __atomic_fetch_xor(&a64, (uint64_t)i * 0x9E3779B97F4A7C15ull, __ATOMIC_SEQ_CST);
        uint32_t expected = __atomic_load_n(&a32, __ATOMIC_ACQUIRE);
        while (!__atomic_compare_exchange_n(&a32, &expected, expected * 5 + 1, 1, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {}
        total += __atomic_exchange_n(&a16, (uint16_t)(a16 + 7), __ATOMIC_SEQ_CST);
        total += ldxr_stxr_add(&a64, (uint64_t)i);
        __atomic_fetch_and(&a8, (uint8_t)~(i & 1), __ATOMIC_RELEASE);
        uint64_t e64 = 12345;
        total += __atomic_compare_exchange_n(&a64, &e64, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
        __atomic_store_n(&a8, (uint8_t)(__atomic_load_n(&a8, __ATOMIC_SEQ_CST) + 1), __ATOMIC_RELEASE);
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    printf("a8 %u a16 %u a32 %u a64 %llu total %llu\n", a8, a16, a32, (unsigned long long)a64, (unsigned long long)total);
    return 0;
}
