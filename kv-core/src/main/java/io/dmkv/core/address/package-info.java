/**
 * dmkv's global address space: 48-bit addresses of (region, offset) with regions of at most
 * 1 GiB ({@link io.dmkv.core.address.GlobalAddress}), and the versioned map of where each
 * region's replicas live ({@link io.dmkv.core.address.RegionMap}).
 */
package io.dmkv.core.address;
