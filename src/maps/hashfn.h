/* hashfn.h — the keyed hash of map keys and values, and fast key comparison. */
#ifndef BPFRT_MAPS_HASHFN_H
#define BPFRT_MAPS_HASHFN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/*
 * A multiply-fold hash: each 8-byte word is xored into the state, which is
 * then multiplied by an odd constant in 128 bits and folded (high ^ low);
 * 16-byte blocks multiply the state by the second word xored with a secret
 * derived from the seed, one multiply for two words.
 * A 1..7-byte tail is read as two overlapping loads, so no byte outside the
 * key is touched. Two multiplies hash an 8-byte key (and a 4-byte one in
 * blocks of older builds); map_hash4, which new hash maps use for 4-byte
 * keys, takes one: the key's bucket is found a multiply (about 4 ns of the
 * load chain of a lookup) sooner.
 */
#define HASH_K0 0x9e3779b97f4a7c15ull
#define HASH_K1 0xd6e8feb86659fd93ull
#define HASH_K2 0xa0761d6478bd642full
#define HASH4_SALT 0x2545f4914f6cdd1dull

static inline uint64_t hash_fold(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;

	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t hash_load(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);	/* n is a constant at every call */
	return v;
}

/*
 * 8 bytes of a caller's key as two 4-byte loads: programs build keys on the
 * stack with 4-byte (or smaller) stores, and an 8-byte load of two fresh
 * 4-byte stores cannot be forwarded from the store buffer (a stall of a
 * dozen cycles). The empty asm keeps the compiler from merging the loads.
 */
static inline uint64_t key_word(const uint8_t *p)
{
	uint64_t lo = hash_load(p, 4);

	__asm__("" : "+r"(lo));
	return lo | hash_load(p + 4, 4) << 32;
}

/* Bytes p[0..n), 1 <= n <= 7, as one word (not their value, just a mix of them). */
static inline uint64_t hash_tail(const uint8_t *p, uint32_t n)
{
	if (n >= 4)
		return hash_load(p, 4) << 32 | hash_load(p + n - 4, 4);
	return (uint64_t)p[0] << 16 | (uint64_t)p[n >> 1] << 8 | p[n - 1];
}

static inline uint64_t map_hash64(const void *key, uint32_t len, uint64_t seed)
{
	const uint8_t *p = key;
	uint64_t h = seed ^ ((uint64_t)len * HASH_K0), s2 = seed * HASH_K2 + HASH_K1;

	for (; len >= 16; len -= 16, p += 16)	/* two words per multiply */
		h = hash_fold(h ^ key_word(p), s2 ^ key_word(p + 8));
	for (; len >= 8; len -= 8, p += 8)
		h = hash_fold(h ^ key_word(p), HASH_K1);
	if (len)
		h = hash_fold(h ^ hash_tail(p, len) ^ len, HASH_K1);
	return hash_fold(h, HASH_K2);
}

static inline uint32_t map_hash(const void *key, uint32_t len, uint64_t seed)
{
	uint64_t h = map_hash64(key, len, seed);

	return (uint32_t)(h ^ h >> 32);
}

/* A 4-byte key: xored with the seed (and a salt), multiplied in 128 bits, folded. */
static inline uint32_t map_hash4(const void *key, uint64_t seed)
{
	return (uint32_t)hash_fold(hash_load(key, 4) ^ seed ^ HASH4_SALT, HASH_K1);
}

/* Does the stored key s equal the caller's key k? The common sizes compile to plain loads. */
static inline bool map_key_eq(const void *s, const void *k, uint32_t n)
{
	const uint8_t *x = s, *y = k;

	switch (n) {
	case 4:
		return hash_load(x, 4) == hash_load(y, 4);
	case 8:
		return hash_load(x, 8) == key_word(y);
	case 12:
		return hash_load(x, 8) == key_word(y) && hash_load(x + 8, 4) == hash_load(y + 8, 4);
	case 16:
		return ((hash_load(x, 8) ^ key_word(y)) | (hash_load(x + 8, 8) ^ key_word(y + 8))) == 0;
	default:
		return memcmp(x, y, n) == 0;
	}
}

#endif /* BPFRT_MAPS_HASHFN_H */
