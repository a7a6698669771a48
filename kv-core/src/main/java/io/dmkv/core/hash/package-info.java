/**
 * Hashing: how a key's XXH64 hash chooses its subtable, buckets, fingerprint and partition
 * ({@link io.dmkv.core.hash.KeyHash}), and allocation-free CRC32C over any buffer
 * ({@link io.dmkv.core.hash.Crc32cDigest}).
 */
package io.dmkv.core.hash;
