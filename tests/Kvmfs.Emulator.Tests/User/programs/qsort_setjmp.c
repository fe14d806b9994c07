/* qsort/bsearch with callbacks, string sorting, setjmp/longjmp across frames. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item { int key; double weight; char name[12]; };
static int by_key(const void *x, const void *y) {
    const struct item *a = x, *b = y;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return strcmp(a->name, b->name);
}
static int by_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }
static int cmp_int(const void *x, const void *y) { int a = *(const int *)x, b = *(const int *)y; return (a > b) - (a < b); }

static jmp_buf env;
static int depth;
static void recurse(int n) {
    char pad[64];
    snprintf(pad, sizeof pad, "%d", n);
    depth += (int)strlen(pad);
    if (n == 0) longjmp(env, 42);
    recurse(n - 1);
}

int main(void) {
    enum { N = 20000 };
    struct item *items = malloc(N * sizeof *items);
    unsigned seed = 7;
    for (int i = 0; i < N; i++) {
        seed = seed * 1664525u + 1013904223u;
        items[i].key = (int)(seed >> 20) % 500;
        items[i].weight = (seed & 0xFFFF) / 7.0;
        snprintf(items[i].name, sizeof items[i].name, "n%08x", seed);
    }
    qsort(items, N, sizeof *items, by_key);
    double w = 0; unsigned h = 0;
    for (int i = 0; i < N; i++) { w += items[i].weight * (i % 13); h = h * 31 + (unsigned)items[i].key + (unsigned char)items[i].name[3]; }
    printf("items %s %s %.6f %u\n", items[0].name, items[N - 1].name, w, h);
    char *words[] = { "pear", "apple", "fig", "banana", "kiwi", "cherry", "date", "grape", "lemon", "mango" };
    qsort(words, 10, sizeof words[0], by_str);
    for (int i = 0; i < 10; i++) printf("%s%c", words[i], i == 9 ? '\n' : ' ');
    int nums[1000];
    for (int i = 0; i < 1000; i++) nums[i] = (i * 7919) % 1009;
    qsort(nums, 1000, sizeof nums[0], cmp_int);
    int key = 500; int *found = bsearch(&key, nums, 1000, sizeof nums[0], cmp_int);
    printf("bsearch %ld\n", found ? (long)(found - nums) : -1L);
    int r = setjmp(env);
    if (r == 0) { recurse(200); puts("not reached"); }
    printf("longjmp %d depth %d\n", r, depth);
    volatile int counter = 0;
    jmp_buf again;
    if (setjmp(again) < 5) { counter++; if (counter < 5) longjmp(again, counter); }
    printf("counter %d\n", counter);
    free(items);
    return 3;
}
