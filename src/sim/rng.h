/*
 * rng.h - the simulator's deterministic pseudo-random generator (internal to src/sim/).
 *
 * xoshiro256** seeded through splitmix64: the same seed gives the same stream on every
 * platform, which is what makes "same seed, same events" hold. Not for cryptography.
 */
#ifndef OC_SIM_RNG_H
#define OC_SIM_RNG_H

#include <math.h>
#include <stdint.h>

struct sim_rng {
    uint64_t s[4]; /* xoshiro256** state; never all zero */
};

/* splitmix64: advances *x and returns the next output (also used to hash ids). */
static inline uint64_t sim_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seeds the generator from one 64-bit value. */
static inline void sim_rng_seed(struct sim_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = sim_splitmix64(&seed);
}

static inline uint64_t sim_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* The next 64 random bits. */
static inline uint64_t sim_rng_next(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = sim_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rotl(s[3], 45);
    return out;
}

/* A uniform double in [0, 1). */
static inline double sim_rng_unit(struct sim_rng *r)
{
    return (double)(sim_rng_next(r) >> 11) * 0x1.0p-53;
}

/* A uniform integer in [0, n) (n > 0; the tiny modulo bias is irrelevant here). */
static inline uint32_t sim_rng_below(struct sim_rng *r, uint32_t n)
{
    return (uint32_t)(((sim_rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* A standard normal deviate (Box-Muller, one of the pair). */
static inline double sim_rng_normal(struct sim_rng *r)
{
    double u = 1.0 - sim_rng_unit(r), v = sim_rng_unit(r);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* An exponential deviate with the given mean. */
static inline double sim_rng_exp(struct sim_rng *r, double mean)
{
    return -mean * log(1.0 - sim_rng_unit(r));
}

#endif
