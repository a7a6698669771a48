package io.dmkv.computenode.alloc;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.agrona.collections.IntArrayList;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.MemoryFullException;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.computenode.cluster.RefusedKeys;
import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.config.Sizes;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTimeoutException;

/**
 * Level 1 on the client: gets whole blocks from the memory nodes with ALLOC_BLOCK and makes every
 * replica of the block agree with the primary's allocation table.
 *
 * <ul>
 *   <li>Regions are asked round-robin (the next request starts after the region that last
 *       answered), each at its primary; a region that answers EXHAUSTED is skipped, and only
 *       when every region has answered EXHAUSTED is the cluster full.</li>
 *   <li>A claimed block gets, in one batch, its new table entry on every backup and a fresh
 *       header with a zero bitmap on every replica: 1 RPC + 1 round trip.</li>
 *   <li>An adopted block keeps its objects and bitmap. In one batch its header on every replica
 *       gets the new owner and generation, the backups get the new entry, and the primary's
 *       header and bitmap are read (same connection, after the write). The objects at or above
 *       the high-water mark and those whose bit is set are free; the set bits are cleared with
 *       FAAs on every replica in a second batch: 1 RPC + 2 round trips.</li>
 * </ul>
 * Asynchronous: {@link #acquire(int)} returns at once and every step runs on the completion of
 * the one before. Thread-safe: the only shared state is the round-robin cursor and counters.
 *
 * <p>Seals (docs/recovery.md). A region sealed for a copy's last pass, or asked at a node that is
 * no longer its primary (this client's map is behind), answers ALLOC with UNAVAILABLE: it is
 * skipped like a full one, and when no region granted a block but one was unavailable, the regions
 * are asked again (by the map as it is then) after a pause, for up to {@value #SEALED_RETRIES} rounds. A
 * block granted just before a seal whose set-up batch the sealed replicas refuse is set up again
 * with fresh keys (the set-up writes are idempotent and the block is this client's alone), so it is
 * not left owned by a client that does not know it.
 *
 * <p>Growing (docs/recovery.md, "Growing capacity"). The regions are those of the view's current
 * map, which grows when regions are added for capacity; before reporting {@link MemoryFullException}
 * the client re-reads the map once and, if it is newer, asks the regions again by it.
 */
final class BlockSource
{
    private static final Logger LOG = LoggerFactory.getLogger(BlockSource.class);

    /** Rounds of asking every region again while some region is sealed, and set-up attempts of a block. */
    static final int SEALED_RETRIES = 40;
    /** Pause before asking again (the copy's seal lasts its grace, a last pass and a publication). */
    private static final long SEALED_PAUSE_MS = 100;

    /** Bytes of the adopted header written on every replica: owner through generation. */
    private static final int OWNERSHIP_FIELDS = BlockHeader.GENERATION_OFFSET + Integer.BYTES - BlockHeader.OWNER_OFFSET;

    private final ClusterView view;
    private final VerbsClient client;
    private final int clientId;
    private final int blockSize;
    private final AtomicInteger cursor = new AtomicInteger();
    private final AtomicLong claimed = new AtomicLong();
    private final AtomicLong adopted = new AtomicLong();

    BlockSource(final ClusterView view, final VerbsClient client, final int clientId)
    {
        this.view = view;
        this.client = client;
        this.clientId = BlockAllocationTable.validateClientId(clientId);
        this.blockSize = view.descriptor().blockSize();
    }

    int blockSize()
    {
        return blockSize;
    }

    long claimedCount()
    {
        return claimed.get();
    }

    long adoptedCount()
    {
        return adopted.get();
    }

    /** What the last region to refuse said (its blocks by state and owner), for the full-cluster message. */
    private volatile String lastRefusal = "none";

    /**
     * Starts getting a block of {@code sizeClass} for this client: adopted if a memory node had one
     * handed over, else freshly claimed. Never waits: the ALLOC_BLOCK RPCs and the set-up batches
     * are chained on their completions, which run on the client's completion thread (or inline on
     * the {@code local} transport once the RPC has answered).
     *
     * @return the block, once its replicas are set up; fails with {@link MemoryFullException}
     *         when no region has a free block or a handed-over one of the class, or with the
     *         transport's error.
     * @throws IllegalArgumentException if the class does not fit a block.
     */
    CompletableFuture<OwnedBlock> acquire(final int sizeClass)
    {
        final int objectSize = SizeClasses.objectSize(sizeClass);
        if (BlockHeader.objectsPerBlock(blockSize, objectSize) == 0)
        {
            throw new IllegalArgumentException("size class " + sizeClass + " (" + objectSize + "-byte objects) does not"
                + " fit the cluster's " + Sizes.format(blockSize) + " blocks");
        }
        final long epoch = view.map().epoch();
        return askFrom(sizeClass, Math.floorMod(cursor.get(), view.regions()), 0, 0, 0, false)
            .exceptionallyCompose(failure ->
            {
                if (!(Failures.cause(failure) instanceof MemoryFullException))
                {
                    return CompletableFuture.failedFuture(failure);
                }
                // Regions may have been added for capacity since this client's map: re-read it once
                // (off the completion threads) and ask again by the newer map before reporting a full cluster.
                return CompletableFuture.supplyAsync(() -> view.refreshMap() || view.map().epoch() > epoch, later())
                    .thenCompose(newer -> newer
                        ? askFrom(sizeClass, Math.floorMod(cursor.get(), view.regions()), 0, 0, 0, false)
                        : CompletableFuture.<OwnedBlock>failedFuture(failure));
            });
    }

    /**
     * Asks the regions from the {@code k}-th after {@code start} on; {@code blocks} counts those asked,
     * {@code unavailable} says whether one of them refused for now (sealed, or asked at a node that
     * is no longer its primary), {@code round} how often all were asked.
     */
    private CompletableFuture<OwnedBlock> askFrom(final int sizeClass, final int start, final int k, final long blocks,
        final int round, final boolean unavailable)
    {
        final int regions = view.regions();
        long counted = blocks;
        for (int i = k; i < regions; i++)
        {
            final int g = (start + i) % regions;
            counted += view.blockCount(g);
            if (view.blockCount(g) == 0)
            {
                continue;
            }
            final int asked = i;
            final long seen = counted;
            return allocBlock(g, sizeClass).handle((response, failure) ->
            {
                if (failure == null)
                {
                    cursor.set(g + 1);
                    return take(g, sizeClass, response);
                }
                final RuntimeException e = Failures.cause(failure);
                if (e instanceof RpcException rpc && rpc.status() == RpcStatus.EXHAUSTED)
                {
                    lastRefusal = rpc.getMessage();
                    return askFrom(sizeClass, start, asked + 1, seen, round, unavailable);
                }
                if (e instanceof RpcException rpc && rpc.status() == RpcStatus.UNAVAILABLE)
                {
                    return askFrom(sizeClass, start, asked + 1, seen, round, true);
                }
                return CompletableFuture.<OwnedBlock>failedFuture(e);
            }).thenCompose(next -> next);
        }
        if (unavailable && round < SEALED_RETRIES)
        {
            return CompletableFuture.supplyAsync(() -> askFrom(sizeClass, start, 0, 0, round + 1, false), later())
                .thenCompose(next -> next);
        }
        final int objectSize = SizeClasses.objectSize(sizeClass);
        return CompletableFuture.failedFuture(new MemoryFullException("memory nodes full: no free block, and no"
            + " handed-over block of size class " + sizeClass + " (" + objectSize + "-byte objects), in any of the "
            + regions + " regions (" + counted + " blocks of " + Sizes.format(blockSize) + ", each held r = "
            + view.replication() + " times on " + client.nodeCount() + " memory nodes); free objects, close idle"
            + " clients, recover crashed ones (kv verify lists who holds blocks) or add memory nodes. Last refusal: "
            + lastRefusal));
    }

    /** ALLOC_BLOCK to region {@code g}'s primary, failing after the request timeout as a blocking RPC would. */
    private CompletableFuture<ByteBuffer> allocBlock(final int g, final int sizeClass)
    {
        final int node = view.nodeOf(g, 0);
        final Duration timeout = client.options().requestTimeout().plusSeconds(1);
        return client.rpcAsync(node, MemoryNodeRpc.ALLOC_BLOCK,
            new MemoryNodeRpc.AllocBlock(view.physicalRegion(g, 0), clientId, sizeClass).encode())
            .orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS)
            .exceptionallyCompose(e -> CompletableFuture.failedFuture(e instanceof TimeoutException
                ? new VerbsTimeoutException("RPC ALLOC_BLOCK to " + client.channel(node).node() + " timed out")
                : e));
    }

    private CompletableFuture<OwnedBlock> take(final int g, final int sizeClass, final ByteBuffer response)
    {
        if (response.remaining() != 13)
        {
            throw new IllegalStateException("memory node " + client.channel(view.nodeOf(g, 0)).node()
                + " answered ALLOC_BLOCK with " + response.remaining() + " bytes instead of 13");
        }
        final int blockIndex = response.getInt();
        final long entry = response.getLong();
        final boolean wasAdopted = response.get() != 0;
        if (blockIndex < 0 || blockIndex >= view.blockCount(g) || BlockAllocationTable.owner(entry) != clientId
            || BlockAllocationTable.state(entry) != BlockAllocationTable.OWNED
            || BlockAllocationTable.sizeClass(entry) != sizeClass)
        {
            throw new IllegalStateException("memory node " + client.channel(view.nodeOf(g, 0)).node()
                + " answered ALLOC_BLOCK for client " + clientId + ", class " + sizeClass + " with block " + blockIndex
                + " of region " + g + " as " + BlockAllocationTable.toString(entry));
        }
        final int blockOffset = RegionLayout.blockOffset(view.firstBlockOffset(g), blockSize, blockIndex);
        final CompletableFuture<OwnedBlock> block = wasAdopted
            ? setUp(() -> adopt(g, blockIndex, blockOffset, sizeClass, entry)).thenCompose(seen ->
                takeOver(g, blockIndex, blockOffset, sizeClass, entry, seen))
            : setUp(() -> claim(g, blockIndex, blockOffset, sizeClass, entry));
        return block.thenApply(b ->
        {
            (wasAdopted ? adopted : claimed).incrementAndGet();
            return b;
        });
    }

    private CompletableFuture<OwnedBlock> claim(final int g, final int blockIndex, final int blockOffset,
        final int sizeClass, final long entry)
    {
        final int count = BlockHeader.objectsPerBlock(blockSize, SizeClasses.objectSize(sizeClass));
        final int headerLength = BlockHeader.firstObjectOffset(count);
        final UnsafeBuffer header = new UnsafeBuffer(new byte[headerLength]);
        BlockHeader.format(header, 0, blockSize, clientId, sizeClass, BlockAllocationTable.generation(entry));
        final UnsafeBuffer entryBytes = entryBytes(entry);
        final VerbBatch b = new VerbBatch();
        for (int j = 0; j < view.replicaCount(g); j++)
        {
            b.write(view.replica(g, j), blockOffset, header, 0, headerLength);
            if (j > 0)
            {
                b.write(view.replica(g, j), entryOffset(g, blockIndex), entryBytes, 0, BlockAllocationTable.ENTRY_LENGTH);
            }
        }
        return client.executeAsync(b).thenApply(done ->
            new OwnedBlock(g, blockIndex, blockOffset, sizeClass, blockSize, entry, false, 0, new int[0], false));
    }

    /** The adopted block's ownership written on every replica; completes with its header as the primary holds it. */
    private CompletableFuture<UnsafeBuffer> adopt(final int g, final int blockIndex, final int blockOffset,
        final int sizeClass, final long entry)
    {
        final int objectSize = SizeClasses.objectSize(sizeClass);
        final int count = BlockHeader.objectsPerBlock(blockSize, objectSize);
        final int headerLength = BlockHeader.firstObjectOffset(count);
        final UnsafeBuffer ownership = new UnsafeBuffer(new byte[BlockHeader.HEADER_LENGTH]);
        ownership.putShort(BlockHeader.OWNER_OFFSET, (short)clientId);
        ownership.putByte(BlockHeader.SIZE_CLASS_OFFSET, (byte)sizeClass);
        ownership.putInt(BlockHeader.OBJECT_SIZE_OFFSET, objectSize);
        ownership.putInt(BlockHeader.OBJECT_COUNT_OFFSET, count);
        ownership.putInt(BlockHeader.GENERATION_OFFSET, BlockAllocationTable.generation(entry));
        final UnsafeBuffer entryBytes = entryBytes(entry);
        final UnsafeBuffer seen = new UnsafeBuffer(new byte[headerLength]);
        final VerbBatch b = new VerbBatch();
        for (int j = 0; j < view.replicaCount(g); j++)
        {
            b.write(view.replica(g, j), blockOffset + BlockHeader.OWNER_OFFSET, ownership, BlockHeader.OWNER_OFFSET,
                OWNERSHIP_FIELDS);
            if (j > 0)
            {
                b.write(view.replica(g, j), entryOffset(g, blockIndex), entryBytes, 0, BlockAllocationTable.ENTRY_LENGTH);
            }
        }
        b.read(view.replica(g, 0), blockOffset, seen, 0, headerLength);
        return client.executeAsync(b).thenApply(done -> seen);
    }

    /**
     * Runs a granted block's set-up batch, again with fresh keys while a replica refuses its key (a
     * seal or a promotion re-keyed it after the grant): the batch only writes what this client owns.
     */
    private <T> CompletableFuture<T> setUp(final Supplier<CompletableFuture<T>> batch)
    {
        return RefusedKeys.retryingAsync(view, SEALED_RETRIES, SEALED_PAUSE_MS, batch);
    }

    /** Runs a step after the seal pause, off the completion threads (it may block on a key refresh). */
    private static Executor later()
    {
        return CompletableFuture.delayedExecutor(SEALED_PAUSE_MS, TimeUnit.MILLISECONDS);
    }

    /** The adopted block as its header {@code seen} says, once the bits found set are cleared on every replica. */
    private CompletableFuture<OwnedBlock> takeOver(final int g, final int blockIndex, final int blockOffset,
        final int sizeClass, final long entry, final UnsafeBuffer seen)
    {
        final int objectSize = SizeClasses.objectSize(sizeClass);
        final int count = BlockHeader.objectsPerBlock(blockSize, objectSize);
        final int mark = BlockHeader.highWaterMark(seen, 0);
        if (!BlockHeader.hasMagic(seen, 0) || BlockHeader.sizeClass(seen, 0) != sizeClass
            || BlockHeader.objectSize(seen, 0) != objectSize || BlockHeader.objectCount(seen, 0) != count
            || mark < 0 || mark > count)
        {
            // Which objects are live is unknowable: using the block could hand out a live object.
            LOG.error("client {} adopted block {} of region {} with a damaged header (magic {}, class {}, {} objects,"
                + " mark {}); it stays owned by this client and unused", clientId, blockIndex, g,
                BlockHeader.hasMagic(seen, 0), BlockHeader.sizeClass(seen, 0), BlockHeader.objectCount(seen, 0), mark);
            return CompletableFuture.completedFuture(
                new OwnedBlock(g, blockIndex, blockOffset, sizeClass, blockSize, entry, true, count, new int[0], true));
        }
        final IntArrayList freed = new IntArrayList();
        final VerbRunner clear = VerbRunner.async(client);
        for (int w = 0; w < BlockHeader.bitmapWords(count); w++)
        {
            final long bits = seen.getLong(BlockHeader.BITMAP_OFFSET + w * BlockHeader.BITMAP_WORD_LENGTH);
            if (bits == 0)
            {
                continue;
            }
            // Bits at or above the mark would be frees of objects never handed out; they are
            // cleared too, and those objects are free anyway, as fresh ones.
            for (long rest = bits; rest != 0; rest &= rest - 1)
            {
                final int i = w * BlockHeader.OBJECTS_PER_WORD + Long.numberOfTrailingZeros(rest);
                if (i < mark)
                {
                    freed.addInt(i);
                }
            }
            for (int j = 0; j < view.replicaCount(g); j++)
            {
                clear.next().faa(view.replica(g, j), blockOffset + BlockHeader.BITMAP_OFFSET
                    + w * BlockHeader.BITMAP_WORD_LENGTH, -bits);
            }
        }
        return clear.complete().thenApply(done ->
            new OwnedBlock(g, blockIndex, blockOffset, sizeClass, blockSize, entry, true, mark, freed.toIntArray(), false));
    }

    /** Offset in region {@code g} of block {@code blockIndex}'s allocation table entry. */
    int entryOffset(final int g, final int blockIndex)
    {
        return view.batOffset(g) + BlockAllocationTable.entryOffset(blockIndex);
    }

    /** Replica {@code j} of region {@code g}. */
    RemoteRegion replica(final int g, final int j)
    {
        return view.replica(g, j);
    }

    private static UnsafeBuffer entryBytes(final long entry)
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[BlockAllocationTable.ENTRY_LENGTH]);
        b.putLong(0, entry);
        return b;
    }
}
