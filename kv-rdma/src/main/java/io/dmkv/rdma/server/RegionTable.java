package io.dmkv.rdma.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongConsumer;

import org.agrona.UnsafeAccess;
import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.rdma.RegionInfo;

/**
 * The registered memory of one memory node: regions of at most 1 GiB, each with a random 64-bit
 * key. Memory is anonymous off-heap memory (not bounded by the JVM's direct-memory cap) or a
 * shared file mapping that other processes on the host map too (see {@link ShmFileDescriptor}).
 *
 * <p>Fencing: {@link #rekey} gives a region a new key (its key generation goes up), after which
 * verbs carrying the old key are refused on {@code local} and {@code tcp}; {@link #revokeAll}
 * hides every key until {@link #restoreAll} or {@link #rekey}, for a node that has lost touch
 * with the coordinator. Processes that mapped the shared file themselves work on the memory
 * directly and are not fenced by keys.
 */
public final class RegionTable implements AutoCloseable
{
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Bytes zeroed between two progress reports. */
    private static final long ZEROING_STEP = 64L << 20;

    private final List<MemoryRegion> regions;
    private final Path shmFile;
    private final List<Long> anonymousAddresses;
    private final UnsafeBuffer shmHeader;
    /** The published keys while revoked (null when not revoked). */
    private long[] revokedKeys;
    private volatile boolean revoked;
    private boolean closed;

    private RegionTable(final List<MemoryRegion> regions, final Path shmFile, final List<Long> anonymousAddresses,
        final UnsafeBuffer shmHeader)
    {
        this.regions = Collections.unmodifiableList(regions);
        this.shmFile = shmFile;
        this.anonymousAddresses = anonymousAddresses;
        this.shmHeader = shmHeader;
    }

    /**
     * No memory at all: for a node that only answers RPCs (a compute node serving proxy calls
     * to its peers).
     */
    public static RegionTable empty()
    {
        return new RegionTable(new ArrayList<>(), null, List.of(), null);
    }

    /** Splits {@code totalBytes} into regions of at most {@code regionBytes}, zeroed, off-heap. */
    public static RegionTable allocate(final long totalBytes, final long regionBytes)
    {
        return allocate(totalBytes, regionBytes, zeroed -> { });
    }

    /**
     * As {@link #allocate(long, long)}, telling {@code progress} the bytes zeroed so far after
     * each step of at most {@value #ZEROING_STEP} bytes: zeroing commits every page, which takes
     * seconds for large nodes.
     */
    public static RegionTable allocate(final long totalBytes, final long regionBytes, final LongConsumer progress)
    {
        final long[] sizes = regionSizes(totalBytes, regionBytes);
        long zeroed = 0;
        final List<MemoryRegion> list = new ArrayList<>(sizes.length);
        final List<Long> addresses = new ArrayList<>(sizes.length);
        try
        {
            for (int i = 0; i < sizes.length; i++)
            {
                final long address = UnsafeAccess.UNSAFE.allocateMemory(sizes[i]);
                addresses.add(address);
                for (long at = 0; at < sizes[i]; at += ZEROING_STEP)
                {
                    final long n = Math.min(ZEROING_STEP, sizes[i] - at);
                    UnsafeAccess.UNSAFE.setMemory(address + at, n, (byte)0);
                    zeroed += n;
                    progress.accept(zeroed);
                }
                list.add(new MemoryRegion(i, newKey(), new UnsafeBuffer(address, (int)sizes[i]), null));
            }
        }
        catch (final OutOfMemoryError e)
        {
            addresses.forEach(UnsafeAccess.UNSAFE::freeMemory);
            throw new IllegalStateException("cannot allocate " + totalBytes + " bytes of memory-node memory: "
                + e.getMessage(), e);
        }
        return new RegionTable(list, null, addresses, null);
    }

    /**
     * Creates (or truncates) {@code file}, writes its header and maps every region from it, so
     * that clients on this host can map the same file and work on the memory directly.
     */
    public static RegionTable mapFile(final Path file, final long totalBytes, final long regionBytes)
    {
        final long[] sizes = regionSizes(totalBytes, regionBytes);
        final List<MemoryRegion> list = new ArrayList<>(sizes.length);
        final long dataStart = ShmFileDescriptor.headerLength(sizes.length);
        final UnsafeBuffer h;
        long fileLength = dataStart;
        for (final long s : sizes)
        {
            fileLength += s;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING))
        {
            ownerOnly(file);
            ch.truncate(0);
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0}), fileLength - 1);
            final MappedByteBuffer header = ch.map(FileChannel.MapMode.READ_WRITE, 0, dataStart);
            h = new UnsafeBuffer(header);
            long offset = dataStart;
            for (int i = 0; i < sizes.length; i++)
            {
                final MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_WRITE, offset, sizes[i]);
                final MemoryRegion r = new MemoryRegion(i, newKey(), new UnsafeBuffer(m), m);
                list.add(r);
                ShmFileDescriptor.writeRegion(h, i, r.id(), r.key(), offset, sizes[i]);
                offset += sizes[i];
            }
            // The magic goes last: a reader that sees it sees a complete header.
            ShmFileDescriptor.writeHeader(h, sizes.length);
            header.force();
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot create shared memory file " + file + ": " + e.getMessage(), e);
        }
        return new RegionTable(list, file, List.of(), h);
    }

    /**
     * Whoever maps the file works on the memory with no key to check (docs/security.md): only the
     * node's own user may open it. A file system without POSIX permissions keeps its own rules.
     */
    private static void ownerOnly(final Path file) throws IOException
    {
        try
        {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        catch (final UnsupportedOperationException e)
        {
            // not a POSIX file system
        }
    }

    /**
     * Maps the regions of an existing shared memory file that a memory node on this host
     * created, to work on them in place. Closing the returned table deletes nothing.
     */
    public static RegionTable attach(final Path file)
    {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE))
        {
            final long size = ch.size();
            if (size < ShmFileDescriptor.PAGE)
            {
                throw new IllegalStateException(file + " is not a dmkv shared memory file (too short)");
            }
            final UnsafeBuffer h = new UnsafeBuffer(ch.map(FileChannel.MapMode.READ_ONLY, 0, ShmFileDescriptor.PAGE));
            if (!ShmFileDescriptor.hasMagic(h) || ShmFileDescriptor.version(h) != ShmFileDescriptor.VERSION)
            {
                throw new IllegalStateException(file + " is not a dmkv shared memory file of version "
                    + ShmFileDescriptor.VERSION);
            }
            final int count = ShmFileDescriptor.regionCount(h);
            final long headerLength = ShmFileDescriptor.headerLength(count);
            final UnsafeBuffer full = new UnsafeBuffer(ch.map(FileChannel.MapMode.READ_ONLY, 0, headerLength));
            final List<MemoryRegion> list = new ArrayList<>(count);
            for (int i = 0; i < count; i++)
            {
                final long off = ShmFileDescriptor.entryFileOffset(full, i);
                final long len = ShmFileDescriptor.entryLength(full, i);
                if (len <= 0 || len > MemoryRegion.MAX_LENGTH || off < headerLength || off + len > size)
                {
                    throw new IllegalStateException(file + ": region entry " + i + " is corrupt");
                }
                final MappedByteBuffer m = ch.map(FileChannel.MapMode.READ_WRITE, off, len);
                list.add(new MemoryRegion(ShmFileDescriptor.entryId(full, i), ShmFileDescriptor.entryKey(full, i),
                    new UnsafeBuffer(m), m));
            }
            return new RegionTable(list, null, List.of(), null);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot map shared memory file " + file + ": " + e.getMessage(), e);
        }
    }

    static long[] regionSizes(final long totalBytes, final long regionBytes)
    {
        if (totalBytes <= 0)
        {
            throw new IllegalArgumentException("memory size must be positive: " + totalBytes);
        }
        if (regionBytes <= 0 || regionBytes > MemoryRegion.MAX_LENGTH || (regionBytes & 7) != 0)
        {
            throw new IllegalArgumentException("region size must be a multiple of 8 in 8.." + MemoryRegion.MAX_LENGTH
                + ": " + regionBytes);
        }
        final long whole = totalBytes / regionBytes;
        final long rest = totalBytes % regionBytes;
        final long count = whole + (rest > 0 ? 1 : 0);
        if (count > 65_536)
        {
            throw new IllegalArgumentException("too many regions: " + count);
        }
        final long[] sizes = new long[(int)count];
        for (int i = 0; i < whole; i++)
        {
            sizes[i] = regionBytes;
        }
        if (rest > 0)
        {
            sizes[(int)whole] = (rest + 7) & ~7L;
        }
        return sizes;
    }

    private static long newKey()
    {
        long k;
        do
        {
            k = RANDOM.nextLong();
        }
        while (k == 0);
        return k;
    }

    public int count()
    {
        return regions.size();
    }

    public List<MemoryRegion> regions()
    {
        return regions;
    }

    /** The region {@code id} if {@code key} is its key, else null. */
    public MemoryRegion lookup(final int id, final long key)
    {
        if (id < 0 || id >= regions.size())
        {
            return null;
        }
        final MemoryRegion r = regions.get(id);
        return r.key() == key ? r : null;
    }

    /**
     * Gives region {@code id} a new random key and a new key generation: from the moment this
     * returns, verbs carrying any earlier key are refused. Clients learn the new key from a new
     * hello. Also ends a revocation of this region (its hidden key is dropped).
     *
     * @return the new key.
     */
    public synchronized long rekey(final int id)
    {
        final MemoryRegion r = regions.get(id);
        final long k = newKey();
        r.key(k, true);
        if (revokedKeys != null)
        {
            revokedKeys[id] = k;
        }
        if (shmHeader != null)
        {
            ShmFileDescriptor.writeKey(shmHeader, id, k);
        }
        return k;
    }

    /**
     * Turns write protection of region {@code id} on or off: while on, every WRITE, CAS and FAA on
     * it is refused as if its key were unknown, whatever key it carries, and READs go on. A node
     * protects the replicas of a region sealed for a copy's last pass, so nothing lands on them
     * between that pass and the promotion of the copy (docs/recovery.md, "The seal is enforced by
     * the memory nodes"). Like keys, it does not bind processes that mapped the shared file.
     */
    public void protect(final int id, final boolean on)
    {
        regions.get(id).writeProtected(on);
    }

    /** Re-keys every region (see {@link #rekey}) and ends a revocation. */
    public synchronized void rekeyAll()
    {
        for (final MemoryRegion r : regions)
        {
            rekey(r.id());
        }
        revokedKeys = null;
        revoked = false;
    }

    /**
     * Refuses every verb from now on by swapping each key for a secret one, keeping the
     * published keys aside for {@link #restoreAll}. A node calls this when it can no longer be
     * sure the cluster still counts it as alive (its coordinator session is suspended).
     * Idempotent.
     */
    public synchronized void revokeAll()
    {
        if (revoked)
        {
            return;
        }
        final long[] saved = new long[regions.size()];
        for (final MemoryRegion r : regions)
        {
            saved[r.id()] = r.key();
            r.key(newKey(), false);
        }
        revokedKeys = saved;
        revoked = true;
    }

    /**
     * Ends a revocation with the keys published before it, so clients go on without a new hello.
     * Only safe when no one can have moved on in the meantime (the coordinator session survived).
     */
    public synchronized void restoreAll()
    {
        if (!revoked)
        {
            return;
        }
        for (final MemoryRegion r : regions)
        {
            r.key(revokedKeys[r.id()], false);
        }
        revokedKeys = null;
        revoked = false;
    }

    /** Whether the keys are revoked (every verb is refused, and no hello should hand out keys). */
    public boolean isRevoked()
    {
        return revoked;
    }

    public long totalBytes()
    {
        long total = 0;
        for (final MemoryRegion r : regions)
        {
            total += r.length();
        }
        return total;
    }

    /** The shared file behind the regions, or null. */
    public Path shmFile()
    {
        return shmFile;
    }

    public List<RegionInfo> infos(final long[] rdmaAddresses, final int[] rdmaKeys)
    {
        final List<RegionInfo> out = new ArrayList<>(regions.size());
        for (final MemoryRegion r : regions)
        {
            final int i = r.id();
            out.add(new RegionInfo(i, r.key(), r.length(), rdmaAddresses == null ? 0 : rdmaAddresses[i],
                rdmaKeys == null ? 0 : rdmaKeys[i]));
        }
        return out;
    }

    /**
     * Frees anonymous memory and deletes the shared file. Call only once nothing can touch the
     * regions any more (servers stopped).
     */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        anonymousAddresses.forEach(UnsafeAccess.UNSAFE::freeMemory);
        if (shmFile != null)
        {
            try
            {
                Files.deleteIfExists(shmFile);
            }
            catch (final IOException ignored)
            {
                // The file is gone with the host's next reboot at the latest; nothing else to do.
            }
        }
    }
}
