package io.dmkv.core.layout;

import java.nio.ByteOrder;

/**
 * Version of the on-memory layouts of this package, carried in every region header and in the
 * hello of every connection, so a client never works on memory laid out by another version.
 *
 * <p>Byte order: every multi-byte field of every layout is stored in the host's native order
 * (Agrona's {@code getLong}/{@code putLong} without a {@code ByteOrder} argument), because
 * that is the order in which CPU atomics and RDMA atomics on x86-64 and AArch64 hosts treat an
 * 8-byte word. dmkv therefore requires little-endian hosts, which
 * {@link #requireLittleEndianHost()} checks where memory is formatted or first read.
 */
public final class LayoutVersion
{
    /**
     * Bump on any change to an offset, a length or the meaning of a bit. Version 2: objects carry
     * their log entry right after the value, slots hold a length code rather than 256-byte units,
     * finer size classes (docs/layouts.md). Version 3: a DELETE's tombstone names the deleting
     * client and a sequence instead of pointing at a log object ({@link Slot#tombstone}). Version 4:
     * a FlexKV partition is the low hash bits (the subtable suffix), so a FlexKV index starts at
     * global depth p and a proxied partition is a set of whole subtables; slots written by a proxy
     * carry no SNAPSHOT history (docs/flexkv.md). There is no in-place upgrade between versions.
     */
    public static final int VERSION = 4;

    private LayoutVersion()
    {
    }

    /**
     * The message refusing memory laid out by another version: names both versions and says what
     * to do, since no version upgrades another's memory in place.
     *
     * @param what  what carries the foreign version, e.g. "region 3" or "the cluster".
     * @param found the version it carries.
     */
    public static String mismatch(final String what, final int found)
    {
        return what + " was formatted with layout version " + found + ", but this build reads only layout version "
            + VERSION + "; memory of another layout version is not upgraded in place: start the memory nodes empty,"
            + " let this version format them, and load the data again";
    }

    /**
     * Fails on a big-endian JVM, where native-order fields would not match the little-endian
     * layout other hosts write.
     *
     * @throws IllegalStateException on a big-endian host.
     */
    public static void requireLittleEndianHost()
    {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN)
        {
            throw new IllegalStateException("dmkv's memory layouts are little-endian; this host is "
                + ByteOrder.nativeOrder());
        }
    }
}
