package io.dmkv.computenode.alloc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.LogEntry;
import io.dmkv.core.layout.ObjectStatus;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.rdma.VerbBatch;

/**
 * Blocks outlive the clients that used them: a closing client hands its blocks over, a later one
 * adopts them, and neither live objects are handed out again nor free ones lost.
 */
@Timeout(120)
class HandoverTest
{
    private static final int CLASS = 1;

    @Test
    void anAdopterNeverReturnsLiveObjectsButReturnsFreedReservedAndNeverUsedOnes()
    {
        try (AllocFixture f = new AllocFixture(3, 8L << 20, 2L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            final int count = AllocFixture.objectsPerBlock(view, CLASS);
            final SlabAllocator a = f.allocator(view);
            final Allocation out = new Allocation();
            final List<Long> objects = new ArrayList<>();
            final Crc32cDigest digest = new Crc32cDigest();
            final VerbBatch writes = new VerbBatch();
            for (int i = 0; i < 40; i++)
            {
                // One buffer per object: the batch reads them only when it is posted.
                final UnsafeBuffer object = new UnsafeBuffer(new byte[SizeClasses.objectSize(CLASS)]);
                a.allocate(CLASS, out);
                objects.add(out.address());
                KvObject.encode(object, 0, CLASS, key(i), ("value of A's object " + i).getBytes(StandardCharsets.UTF_8),
                    LogEntry.OP_INSERT, out.next(), out.prev(), digest);
                for (int j = 0; j < 2; j++)
                {
                    writes.write(view.replicaOf(out.address(), j), GlobalAddress.offset(out.address()), object, 0,
                        object.capacity());
                }
            }
            f.client.execute(writes);
            final long reserved = out.next();
            final long first = objects.get(0);
            final int g = GlobalAddress.regionId(first);
            final int block = AllocFixture.blockOf(view, first);
            for (final long o : objects)
            {
                assertEquals(block, AllocFixture.blockOf(view, o), "one fresh block holds all 40");
            }
            final Set<Long> live = new HashSet<>();
            final VerbBatch frees = new VerbBatch();
            for (int i = 0; i < objects.size(); i++)
            {
                if (i % 3 == 0)
                {
                    a.free(objects.get(i), CLASS, frees);
                }
                else
                {
                    live.add(objects.get(i));
                }
            }
            f.client.execute(frees);
            a.close();
            assertEquals(1, a.stats().blocksHandedOver());

            // 41 objects were handed out (40 + the reserved next). The reserved one (40) and the
            // freed 39 end the range, so the mark drops to 39; the freed objects below it are
            // marked in the bitmap for the adopter.
            final int words = BlockHeader.bitmapWords(count);
            final int headerLength = BlockHeader.BITMAP_OFFSET + 8 * words;
            final UnsafeBuffer primary = f.blockBytes(view, g, block, 0, headerLength);
            assertEquals(39, BlockHeader.highWaterMark(primary, 0));
            for (int i = 0; i < count; i++)
            {
                final long word = primary.getLong(BlockHeader.wordOffsetFor(i));
                assertEquals(i < 39 && i % 3 == 0, BlockHeader.isFreed(word, i), "bit of object " + i);
            }
            for (int j = 0; j < 2; j++)
            {
                final long e = f.entry(view, g, block, j);
                assertEquals(BlockAllocationTable.HANDED_OVER, BlockAllocationTable.state(e), "replica " + j);
                assertEquals(a.clientId(), BlockAllocationTable.owner(e));
                assertArrayEquals(primary.byteArray(), f.blockBytes(view, g, block, j, headerLength).byteArray(),
                    "replica " + j + " has the same header, mark and bitmap");
            }

            final SlabAllocator b = f.allocator(view);
            assertNotEquals(a.clientId(), b.clientId());
            final Set<Long> expected = new HashSet<>();
            for (int i = 0; i < count; i++)
            {
                final long address = GlobalAddress.pack(g, AllocFixture.blockOffset(view, g, block)
                    + BlockHeader.objectOffset(count, SizeClasses.objectSize(CLASS), i));
                if (!live.contains(address))
                {
                    expected.add(address);
                }
            }
            assertTrue(expected.contains(reserved), "A's reserved next is free for B");
            final Set<Long> got = new HashSet<>();
            for (int i = 0; i < expected.size() - 1; i++)
            {
                b.allocate(CLASS, out);
                assertTrue(got.add(out.address()));
            }
            got.add(out.next());
            assertEquals(expected, got, "B gets exactly A's freed, reserved and never-used objects, and no live one");
            assertEquals(1, b.stats().blocksAdopted());
            assertEquals(0, b.stats().blocksClaimed());
            assertEquals(13, b.stats().objectsReclaimed(), "the 13 marked bits; the freed 39 is above the mark");

            for (int j = 0; j < 2; j++)
            {
                final long e = f.entry(view, g, block, j);
                assertEquals(BlockAllocationTable.OWNED, BlockAllocationTable.state(e));
                assertEquals(b.clientId(), BlockAllocationTable.owner(e));
                final UnsafeBuffer header = f.blockBytes(view, g, block, j, headerLength);
                assertEquals(b.clientId(), BlockHeader.owner(header, 0), "replica " + j + " names the new owner");
                assertEquals(BlockAllocationTable.generation(e), BlockHeader.generation(header, 0));
                for (int w = 0; w < words; w++)
                {
                    assertEquals(0L, header.getLong(BlockHeader.BITMAP_OFFSET + 8 * w), "bits taken and cleared");
                }
            }
            final UnsafeBuffer read = new UnsafeBuffer(new byte[SizeClasses.objectSize(CLASS)]);
            for (int i = 0; i < objects.size(); i++)
            {
                if (i % 3 == 0)
                {
                    continue;
                }
                for (int j = 0; j < 2; j++)
                {
                    final VerbBatch r = new VerbBatch();
                    r.read(view.replicaOf(objects.get(i), j), GlobalAddress.offset(objects.get(i)), read, 0,
                        read.capacity());
                    f.client.execute(r);
                    assertEquals(ObjectStatus.OK, KvObject.validate(read, 0, read.capacity(), digest));
                    assertTrue(KvObject.keyEquals(read, 0, key(i)), "A's live object " + i + " is intact");
                }
            }

            b.allocate(CLASS, out);
            assertTrue(GlobalAddress.regionId(out.next()) != g || AllocFixture.blockOf(view, out.next()) != block,
                "A's block is used up: the next object is in another block");
            assertEquals(1, b.stats().blocksClaimed());
            b.close();
        }
    }

    @Test
    void aBlockWithNothingLiveIsReleasedAtClose()
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 2L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            final SlabAllocator a = f.allocator(view);
            final Allocation out = new Allocation();
            final VerbBatch frees = new VerbBatch();
            for (int i = 0; i < 10; i++)
            {
                a.allocate(2, out);
                a.free(out.address(), 2, frees);
            }
            f.client.execute(frees);
            final int g = GlobalAddress.regionId(out.address());
            final int block = AllocFixture.blockOf(view, out.address());
            a.close();
            assertEquals(1, a.stats().blocksReleased());
            assertEquals(0, a.stats().blocksHandedOver());
            for (int j = 0; j < 2; j++)
            {
                final long e = f.entry(view, g, block, j);
                assertEquals(BlockAllocationTable.FREE, BlockAllocationTable.state(e), "replica " + j);
                assertEquals(1, BlockAllocationTable.generation(e), "the generation survives the release");
            }
            assertEquals(0, f.blocksInUse(view));
        }
    }

    @Test
    void bothReplicasHoldIdenticalTablesHeadersAndBitmapsAfterAMixedRun() throws Exception
    {
        try (AllocFixture f = new AllocFixture(3, 8L << 20, 2L << 20, AllocFixture.small(2, 16 * 1024)))
        {
            final ClusterView view = f.view();
            final int[] classes = {0, 1, 3};
            List<long[]> leftovers = new ArrayList<>();
            long adopted = 0;
            long handedOver = 0;
            for (int generation = 0; generation < 4; generation++)
            {
                final SlabAllocator allocator = f.allocator(view);
                final VerbBatch old = new VerbBatch();
                for (int i = 0; i < leftovers.size(); i += 2)
                {
                    allocator.free(leftovers.get(i)[0], (int)leftovers.get(i)[1], old);
                }
                if (!old.isEmpty())
                {
                    f.client.execute(old);
                }
                final ExecutorService pool = Executors.newFixedThreadPool(4);
                final List<long[]> kept = new ArrayList<>();
                try
                {
                    final List<Future<List<long[]>>> done = new ArrayList<>();
                    for (int t = 0; t < 4; t++)
                    {
                        final int seed = generation * 10 + t;
                        done.add(pool.submit(() ->
                        {
                            final java.util.Random random = new java.util.Random(seed);
                            final Allocation out = new Allocation();
                            final VerbBatch frees = new VerbBatch();
                            final List<long[]> mine = new ArrayList<>();
                            for (int i = 0; i < 300; i++)
                            {
                                final int c = classes[random.nextInt(classes.length)];
                                allocator.allocate(c, out);
                                if (random.nextBoolean())
                                {
                                    frees.reset();
                                    allocator.free(out.address(), c, frees);
                                    f.client.execute(frees);
                                }
                                else
                                {
                                    mine.add(new long[] {out.address(), c});
                                }
                                if (i % 100 == 99)
                                {
                                    allocator.reclaimNow();
                                }
                            }
                            return mine;
                        }));
                    }
                    for (final Future<List<long[]>> d : done)
                    {
                        kept.addAll(d.get());
                    }
                }
                finally
                {
                    pool.shutdownNow();
                }
                allocator.close();
                adopted += allocator.stats().blocksAdopted();
                handedOver += allocator.stats().blocksHandedOver();
                leftovers = kept;
            }
            assertTrue(adopted > 0 && handedOver > 0, "the run handed over (" + handedOver + ") and adopted ("
                + adopted + ") blocks");

            int compared = 0;
            for (int g = 0; g < view.regions(); g++)
            {
                final long[] primary = f.table(view, g, 0);
                assertArrayEquals(primary, f.table(view, g, 1), "allocation table of region " + g);
                for (int block = 0; block < primary.length; block++)
                {
                    final int state = BlockAllocationTable.state(primary[block]);
                    final int length = state == BlockAllocationTable.FREE ? BlockHeader.HEADER_LENGTH
                        : BlockHeader.firstObjectOffset(AllocFixture.objectsPerBlock(view,
                            BlockAllocationTable.sizeClass(primary[block])));
                    assertArrayEquals(f.blockBytes(view, g, block, 0, length).byteArray(),
                        f.blockBytes(view, g, block, 1, length).byteArray(), "header and bitmap of block " + block
                            + " of region " + g);
                    compared += state == BlockAllocationTable.FREE ? 0 : 1;
                }
            }
            assertTrue(compared > 0, "blocks in use were compared");
        }
    }

    @Test
    void aThousandShortLivedClientsInARowDoNotFillA256MiBNode()
    {
        // 256 KiB blocks: a client that leaked its two blocks would fill the node's ~1,000 blocks
        // after about 500 clients.
        try (AllocFixture f = new AllocFixture(1, 256L << 20, 64L << 20, AllocFixture.small(1, 256 * 1024)))
        {
            List<long[]> leftovers = List.of();
            long adopted = 0;
            int maxInUse = 0;
            for (int client = 0; client < 1000; client++)
            {
                final ClusterView view = f.view();
                final SlabAllocator allocator = f.allocator(view);
                final VerbBatch frees = new VerbBatch();
                for (final long[] o : leftovers)
                {
                    allocator.free(o[0], (int)o[1], frees);
                }
                final Allocation out = new Allocation();
                final List<long[]> mine = new ArrayList<>();
                for (int i = 0; i < 5; i++)
                {
                    final int c = i < 3 ? 0 : 3;
                    allocator.allocate(c, out);
                    if (i == 0 || i == 3)
                    {
                        allocator.free(out.address(), c, frees);
                    }
                    else
                    {
                        mine.add(new long[] {out.address(), c});
                    }
                }
                f.client.execute(frees);
                allocator.close();
                adopted += allocator.stats().blocksAdopted();
                leftovers = mine;
                final int inUse = f.blocksInUse(view);
                maxInUse = Math.max(maxInUse, inUse);
                assertTrue(inUse <= 2, "after client " + client + ", " + inUse + " blocks are in use: one per size class"
                    + " in use is enough");
            }
            assertEquals(2, maxInUse);
            assertEquals(2 * 999, adopted, "every client after the first adopted its predecessor's two blocks");
        }
    }

    private static byte[] key(final int i)
    {
        return ("A-key-" + i).getBytes(StandardCharsets.UTF_8);
    }
}
