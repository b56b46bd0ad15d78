/* sha256.h — SHA-256 of a buffer (program tags). */
#ifndef BPFRT_PIN_SHA256_H
#define BPFRT_PIN_SHA256_H

#include <stddef.h>
#include <stdint.h>

void sha256(const void *data, size_t len, uint8_t out[32]);

#endif /* BPFRT_PIN_SHA256_H */
