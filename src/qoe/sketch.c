/*
 * sketch.c - the startup-time sketch and the hash the cube keys on.
 *
 * The sketch is a log-bucket histogram: bucket i > 0 holds values in (g^(i-1), g^i] with
 * g = QOE_SKETCH_GAMMA, and reports 2 g^i / (g + 1), so any quantile it returns is within
 * (g - 1) / (g + 1) < 1% of a value of the right rank. Histograms merge by adding counts.
 */
#include "qoe/cube.h"

#include <math.h>
#include <string.h>

int qoe_sketch_bucket(int64_t ms)
{
    if (ms <= 0)
        return 0;
    double i = ceil(log((double)ms) / log(QOE_SKETCH_GAMMA));
    /* ceil of a rounded log may be one off at exact powers; fix against the bounds */
    int b = (int)i;
    if (b < 1)
        b = 1;
    while (b > 1 && pow(QOE_SKETCH_GAMMA, b - 1) >= (double)ms)
        b--;
    while (pow(QOE_SKETCH_GAMMA, b) < (double)ms)
        b++;
    return b < QOE_SKETCH_NB ? b : QOE_SKETCH_NB - 1;
}

double qoe_sketch_value(int bucket)
{
    if (bucket <= 0)
        return 0;
    return 2 * pow(QOE_SKETCH_GAMMA, bucket) / (QOE_SKETCH_GAMMA + 1);
}

double qoe_sketch_quantile(const uint64_t *hist, uint64_t n, double q)
{
    if (n == 0)
        return NAN;
    uint64_t rank = (uint64_t)ceil(q * (double)n), seen = 0;
    if (rank < 1)
        rank = 1;
    for (int i = 0; i < QOE_SKETCH_NB; i++) {
        seen += hist[i];
        if (seen >= rank)
            return qoe_sketch_value(i);
    }
    return qoe_sketch_value(QOE_SKETCH_NB - 1);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t qoe_hash(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *s = p;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), k;
    while (n >= 8) {
        memcpy(&k, s, 8);
        h = (h ^ mix(k)) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
        s += 8, n -= 8;
    }
    k = 0;
    memcpy(&k, s, n);
    h = (h ^ mix(k ^ 0x2545f4914f6cdd1dULL)) * 0x9e3779b97f4a7c15ULL;
    return mix(h);
}
