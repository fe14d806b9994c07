/* Floating point through libm and printf: the digits printed are the exact doubles computed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    double s = 0, e = 0, l = 0, p = 0, r = 0, t = 0;
    for (int i = 1; i <= 20000; i++) {
        double x = i * 0.001;
        s += sin(x) * cos(x / 3);
        e += exp(-x) + expm1(x * 1e-3);
        l += log(x) + log10(x) + log2(x + 1);
        p += pow(x, 1.37) + cbrt(x);
        r += sqrt(x) + hypot(x, 1.5) + atan2(x, 2.0);
        t += tanh(x - 10) + fmod(x * 7.3, 1.1) + floor(x * 3.7) - ceil(x * 1.3) + round(x * 2.5) + trunc(-x);
    }
    printf("%.17g\n%.17g\n%.17g\n%.17g\n%.17g\n%.17g\n", s, e, l, p, r, t);
    float fs = 0;
    for (int i = 1; i <= 5000; i++) fs += sinf(i * 0.01f) * expf(-i * 0.001f) + sqrtf((float)i);
    printf("%.9g\n", fs);
    printf("%a %a %a\n", 1.0 / 3.0, M_PI, (double)(float)M_E);
    printf("%e %g %f %.3f\n", 6.02214076e23, 1e-310, -0.0, 2.0005);
    printf("%.20f\n", strtod("0.1000000000000000055511151231257827", 0));
    printf("%.6f %.6f\n", strtod("1e308", 0) * 10, -sqrt(-1.0) == -sqrt(-1.0) ? 1.0 : 0.0);
    long double q = 1.0L / 3.0L;
    printf("%.30Lg\n", q * 7.0L);
    printf("%ld %d %lld\n", lrint(2.5), (int)nearbyint(3.5), llround(-2.5));
    return 0;
}
