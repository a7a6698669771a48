/**
 * The on-memory layouts of FUSEE as dmkv stores them on memory nodes, one final descriptor
 * class per layout in the style of Agrona's {@code RecordDescriptor}: offsets and lengths as
 * constants, the bytes drawn in the class comment, static pack/unpack of 64-bit words and
 * static accessors that read and write fields in place in a {@code DirectBuffer}.
 *
 * <p>Index: {@link io.dmkv.core.layout.Slot}, {@link io.dmkv.core.layout.Bucket},
 * {@link io.dmkv.core.layout.CombinedBucket}, {@link io.dmkv.core.layout.Subtable},
 * {@link io.dmkv.core.layout.IndexRoot}. Data: {@link io.dmkv.core.layout.KvObject} with its
 * embedded {@link io.dmkv.core.layout.LogEntry}, {@link io.dmkv.core.layout.SizeClasses}.
 * Memory management: {@link io.dmkv.core.layout.RegionLayout},
 * {@link io.dmkv.core.layout.BlockAllocationTable}, {@link io.dmkv.core.layout.BlockHeader},
 * {@link io.dmkv.core.layout.ClientLogHeads}. All fields are native (little-endian) order; see
 * {@link io.dmkv.core.layout.LayoutVersion}. {@code docs/layouts.md} collects the diagrams and
 * the limits.
 */
package io.dmkv.core.layout;
