package io.dmkv.computenode.alloc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import io.dmkv.MemoryFullException;
import io.dmkv.computenode.cluster.ClusterBootstrap;
import io.dmkv.computenode.cluster.ClusterView;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.BlockHeader;
import io.dmkv.core.layout.SizeClasses;
import io.dmkv.memnode.MemoryNode;
import io.dmkv.rdma.VerbBatch;

/**
 * The object allocator of one client: concurrent allocation, the per-class next chain, free and
 * reclaim, running far beyond capacity, and a clear report when memory is truly full.
 */
@Timeout(120)
class SlabAllocatorTest
{
    @Test
    void concurrentAllocationsAreDistinctAlignedInOwnedBlocksAndChainedPerClass() throws Exception
    {
        try (AllocFixture f = new AllocFixture(3, 32L << 20, 4L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            final int[] classes = {0, 2, 4};
            final int threads = 8;
            final int perThread = 2000;
            final List<long[]> records = new ArrayList<>();
            try (SlabAllocator allocator = f.allocator(view))
            {
                final ExecutorService pool = Executors.newFixedThreadPool(threads);
                try
                {
                    final CountDownLatch go = new CountDownLatch(1);
                    final List<Future<List<long[]>>> done = new ArrayList<>();
                    for (int t = 0; t < threads; t++)
                    {
                        final int seed = t;
                        done.add(pool.submit(() ->
                        {
                            final Random random = new Random(seed);
                            final Allocation a = new Allocation();
                            final List<long[]> mine = new ArrayList<>(perThread);
                            go.await();
                            for (int i = 0; i < perThread; i++)
                            {
                                final int c = classes[random.nextInt(classes.length)];
                                allocator.allocate(c, a);
                                assertEquals(c, a.sizeClass());
                                mine.add(new long[] {c, a.address(), a.next(), a.prev()});
                            }
                            return mine;
                        }));
                    }
                    go.countDown();
                    for (final Future<List<long[]>> r : done)
                    {
                        records.addAll(r.get());
                    }
                }
                finally
                {
                    pool.shutdownNow();
                }
                final SlabAllocator.Stats stats = allocator.stats();
                assertTrue(stats.blocksOwned() > classes.length, "the run spans several blocks: " + stats);

                final Set<Long> addresses = new HashSet<>();
                final Map<Long, Long> blockEntries = new HashMap<>();
                for (final long[] r : records)
                {
                    final int c = (int)r[0];
                    final long address = r[1];
                    assertTrue(addresses.add(address), "address " + GlobalAddress.toString(address) + " handed out twice");
                    assertTrue(GlobalAddress.isObjectAddress(address), GlobalAddress.toString(address));
                    assertEquals(0, address % 256, "256-byte aligned");
                    final int g = GlobalAddress.regionId(address);
                    final int block = AllocFixture.blockOf(view, address);
                    assertTrue(block >= 0, "inside a block");
                    AllocFixture.objectIndexOf(view, address, c);
                    final long entry = blockEntries.computeIfAbsent(((long)g << 32) | block,
                        k -> f.entry(view, g, block, 0));
                    assertEquals(BlockAllocationTable.OWNED, BlockAllocationTable.state(entry));
                    assertEquals(allocator.clientId(), BlockAllocationTable.owner(entry));
                    assertEquals(c, BlockAllocationTable.sizeClass(entry), "the block's class is the object's");
                }
                for (final int c : classes)
                {
                    assertChain(records, c);
                }
            }
        }
    }

    /**
     * Following next from the one object nobody points to visits every allocation of the class
     * once, and prev points back along the same chain.
     */
    private static void assertChain(final List<long[]> records, final int c)
    {
        final Map<Long, Long> next = new HashMap<>();
        final Map<Long, Long> prev = new HashMap<>();
        for (final long[] r : records)
        {
            if (r[0] == c)
            {
                assertNull(next.put(r[1], r[2]), "one record per address");
                prev.put(r[1], r[3]);
            }
        }
        final Set<Long> pointedTo = new HashSet<>(next.values());
        assertEquals(next.size(), pointedTo.size(), "class " + c + ": no two allocations name the same next");
        final List<Long> heads = next.keySet().stream().filter(a -> !pointedTo.contains(a)).toList();
        assertEquals(1, heads.size(), "class " + c + ": one chain, one head");
        long at = heads.get(0);
        assertEquals(GlobalAddress.NULL, prev.get(at), "class " + c + ": the first allocation has no prev");
        int steps = 0;
        while (next.containsKey(at))
        {
            final long from = at;
            at = next.get(at);
            if (next.containsKey(at))
            {
                assertEquals(from, prev.get(at), "class " + c + ": prev is the previous allocation");
            }
            steps++;
            assertTrue(steps <= next.size(), "no cycle");
        }
        assertEquals(next.size(), steps, "class " + c + ": the chain visits every allocation (no gap)");
        assertFalse(next.containsKey(at), "the chain ends at the still-reserved object");
    }

    @Test
    void freedObjectsAreReusedAfterReclaimAndTheirBitsClearedOnEveryReplica()
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 2L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            try (SlabAllocator allocator = f.allocator(view))
            {
                final Allocation a = new Allocation();
                final List<Long> objects = new ArrayList<>();
                for (int i = 0; i < 60; i++)
                {
                    allocator.allocate(1, a);
                    objects.add(a.address());
                }
                final Set<Long> freed = new HashSet<>();
                final VerbBatch batch = new VerbBatch();
                for (int i = 0; i < objects.size(); i += 2)
                {
                    allocator.free(objects.get(i), 1, batch);
                    freed.add(objects.get(i));
                }
                assertEquals(2 * freed.size(), batch.size(), "one FAA per replica");
                f.client.execute(batch);

                final long claimedBefore = allocator.stats().blocksClaimed();
                assertEquals(0, allocator.stats().objectsReclaimed());
                assertEquals(freed.size(), allocator.reclaimNow());
                assertEquals(freed.size(), allocator.stats().objectsReclaimed());
                assertEquals(0, allocator.reclaimNow(), "bits are taken once");

                final long first = objects.get(0);
                final int g = GlobalAddress.regionId(first);
                final int block = AllocFixture.blockOf(view, first);
                final int words = BlockHeader.bitmapWords(AllocFixture.objectsPerBlock(view, 1));
                for (int j = 0; j < 2; j++)
                {
                    final UnsafeBuffer header = f.blockBytes(view, g, block, j, BlockHeader.BITMAP_OFFSET + 8 * words);
                    for (int w = 0; w < words; w++)
                    {
                        assertEquals(0L, header.getLong(BlockHeader.BITMAP_OFFSET + 8 * w), "replica " + j + " word " + w);
                    }
                }

                final Set<Long> reused = new HashSet<>();
                for (int i = 0; i <= freed.size(); i++)
                {
                    allocator.allocate(1, a);
                    reused.add(a.address());
                }
                assertTrue(reused.containsAll(freed), "every freed object is handed out again before fresh ones");
                assertEquals(claimedBefore, allocator.stats().blocksClaimed(), "no block was needed");
            }
        }
    }

    @Test
    void releaseCostsNoVerbForOwnObjectsAndOneFaaPerWordAndReplicaForOthers()
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 2L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            try (SlabAllocator owner = f.allocator(view); SlabAllocator other = f.allocator(view))
            {
                final Allocation a = new Allocation();
                final long[] objects = new long[3];
                for (int i = 0; i < 3; i++)
                {
                    owner.allocate(0, a);
                    objects[i] = a.address();
                }
                final int g = GlobalAddress.regionId(objects[0]);
                final int block = AllocFixture.blockOf(view, objects[0]);
                final int word = BlockHeader.BITMAP_OFFSET + BlockHeader.wordOffsetFor(AllocFixture.objectIndexOf(view,
                    objects[0], 0)) - BlockHeader.wordOffsetFor(0);

                owner.release(objects[0], 0);
                assertArrayEquals(new int[] {1, 0}, owner.releasedPending(), "an own object waits in memory");
                other.release(objects[1], 0);
                other.release(objects[2], 0);
                assertArrayEquals(new int[] {0, 1}, other.releasedPending(), "two frees of one word: one pending sum");
                for (int j = 0; j < 2; j++)
                {
                    assertEquals(0L, f.blockBytes(view, g, block, j, 4096).getLong(word), "nothing posted yet");
                }

                other.flushReleased();
                final long bits = BlockHeader.freeDelta(AllocFixture.objectIndexOf(view, objects[1], 0))
                    + BlockHeader.freeDelta(AllocFixture.objectIndexOf(view, objects[2], 0));
                for (int j = 0; j < 2; j++)
                {
                    assertEquals(bits, f.blockBytes(view, g, block, j, 4096).getLong(word), "replica " + j);
                }
                assertArrayEquals(new int[] {0, 0}, other.releasedPending());

                assertEquals(3, owner.reclaimNow(), "the own object and the two bits");
                assertArrayEquals(new int[] {0, 0}, owner.releasedPending());
                final Set<Long> reused = new HashSet<>();
                for (int i = 0; i < 4; i++)
                {
                    owner.allocate(0, a);
                    reused.add(a.address());
                }
                assertTrue(reused.containsAll(Set.of(objects[0], objects[1], objects[2])),
                    "all three are handed out again, after the object reserved as the next: " + reused);
                for (int j = 0; j < 2; j++)
                {
                    assertEquals(0L, f.blockBytes(view, g, block, j, 4096).getLong(word), "bits cleared, replica " + j);
                }
            }
        }
    }

    @Test
    void freeAddsOneFaaPerReplicaOnTheObjectsBitAndRefusesWhatIsNoObject()
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 2L << 20, AllocFixture.small(2, 64 * 1024)))
        {
            final ClusterView view = f.view();
            try (SlabAllocator allocator = f.allocator(view))
            {
                final Allocation a = new Allocation();
                for (int i = 0; i < 70; i++)
                {
                    allocator.allocate(0, a);
                }
                final long address = a.address();
                final int i = AllocFixture.objectIndexOf(view, address, 0);
                assertEquals(69, i, "objects of a fresh block are handed out in order");
                final VerbBatch batch = new VerbBatch();
                allocator.free(address, 0, batch);
                assertEquals(2, batch.size());
                final int g = GlobalAddress.regionId(address);
                final int block = AllocFixture.blockOf(view, address);
                for (int j = 0; j < 2; j++)
                {
                    assertEquals(view.replica(g, j), batch.region(j));
                    assertEquals(AllocFixture.blockOffset(view, g, block) + BlockHeader.wordOffsetFor(69), batch.offset(j));
                    assertEquals(1L << 5, batch.operand(j), "object 69 is bit 5 of word 1");
                }
                assertThrows(IllegalArgumentException.class, () -> allocator.free(GlobalAddress.NULL, 0, batch));
                assertThrows(IllegalArgumentException.class, () -> allocator.free(address + 8, 0, batch));
                assertThrows(IllegalArgumentException.class, () -> allocator.free(address, 1, batch),
                    "a class-0 object is no class-1 object");
                assertThrows(IllegalArgumentException.class,
                    () -> allocator.free(GlobalAddress.pack(view.regions(), 1 << 20), 0, batch));
                assertThrows(IllegalArgumentException.class, () -> allocator.free(address, 16, batch));
                assertEquals(2, batch.size(), "refused frees add nothing");
            }
        }
    }

    @Test
    void anAllocateFreeLoopRunsFarBeyondCapacityAndFullMemoryIsReportedClearly()
    {
        try (AllocFixture f = new AllocFixture(1, 1L << 20, 1L << 20, AllocFixture.small(1, 4096)))
        {
            final ClusterView view = f.view();
            int objects = 0;
            for (int g = 0; g < view.regions(); g++)
            {
                objects += view.blockCount(g) * AllocFixture.objectsPerBlock(view, 0);
            }
            final int capacity = objects;
            assertTrue(capacity > 1000, "capacity " + capacity);
            try (SlabAllocator allocator = f.allocator(view))
            {
                final Allocation a = new Allocation();
                final ArrayDeque<Long> live = new ArrayDeque<>();
                final VerbBatch batch = new VerbBatch();
                final long rounds = 20L * capacity;
                for (long i = 0; i < rounds; i++)
                {
                    allocator.allocate(0, a);
                    live.add(a.address());
                    if (live.size() > 100)
                    {
                        batch.reset();
                        allocator.free(live.poll(), 0, batch);
                        f.client.execute(batch);
                    }
                }
                // Frees since the last reclaim (at most one block-set's worth) are still pending.
                assertTrue(allocator.stats().objectsReclaimed() > rounds - 2L * capacity, "objects were reused: "
                    + allocator.stats());

                // Now stop freeing: every object ends up live, but the one reserved as the next.
                final MemoryFullException full = assertThrows(MemoryFullException.class, () ->
                {
                    for (int i = 0; i < 2 * capacity; i++)
                    {
                        allocator.allocate(0, a);
                        live.add(a.address());
                    }
                });
                assertEquals(capacity - 1, live.size(), "nothing leaked: every object but the reserved one is live");
                final String m = full.getMessage();
                assertTrue(m.startsWith("memory nodes full"), m);
                assertTrue(m.contains("size class 0 (256-byte objects)"), m);
                assertTrue(m.contains("r = 1"), m);
                assertTrue(m.contains("4 KiB"), m);
                assertTrue(m.contains("reclaimed 0 freed objects"), m);

                final Set<Long> two = Set.of(live.poll(), live.poll());
                batch.reset();
                for (final long object : two)
                {
                    allocator.free(object, 0, batch);
                }
                f.client.execute(batch);
                allocator.allocate(0, a);
                assertTrue(two.contains(a.next()), "freeing makes room again without a reclaim call: an allocator that"
                    + " finds the nodes full reclaims by itself");
            }
        }
    }

    @Test
    void backgroundReclaimRunsOnTheInjectedSchedulerAndStopsAtClose()
    {
        try (AllocFixture f = new AllocFixture(1, 4L << 20, 4L << 20, AllocFixture.small(1, 16 * 1024)))
        {
            final ClusterView view = f.view();
            final AtomicReference<Runnable> task = new AtomicReference<>();
            final AtomicReference<Duration> period = new AtomicReference<>();
            final AtomicBoolean cancelled = new AtomicBoolean();
            final ReclaimScheduler capture = (t, p) ->
            {
                task.set(t);
                period.set(p);
                return () -> cancelled.set(true);
            };
            final SlabAllocator allocator = SlabAllocator.open(view, f.client, ClusterBootstrap.allocateClientId(f.client, view),
                new SlabAllocator.Settings(Duration.ofMillis(250)), capture);
            assertEquals(Duration.ofMillis(250), period.get());
            final Allocation a = new Allocation();
            allocator.allocate(3, a);
            final long object = a.address();
            allocator.allocate(3, a);
            f.free(allocator, object, 3);
            assertEquals(0, allocator.stats().objectsReclaimed());
            task.get().run();
            assertEquals(1, allocator.stats().objectsReclaimed(), "one scheduled run reclaimed the freed object");
            allocator.close();
            assertTrue(cancelled.get());
            task.get().run();
            assertEquals(0, allocator.reclaimNow(), "a closed allocator reclaims nothing");
            assertThrows(IllegalStateException.class, () -> allocator.allocate(3, a));

            final AtomicBoolean scheduled = new AtomicBoolean();
            SlabAllocator.open(view, f.client, ClusterBootstrap.allocateClientId(f.client, view), SlabAllocator.Settings.manualReclaim(), (t, p) ->
            {
                scheduled.set(true);
                return () -> { };
            }).close();
            assertFalse(scheduled.get(), "a zero period schedules nothing");
        }
    }

    /**
     * The memory nodes re-key every region with no map changing (as a node does when it applies a map
     * after this client learnt its keys for it): the next background reclaim is refused, learns the
     * keys again and reclaims, rather than failing every period until a newer map comes.
     */
    @Test
    void aBackgroundReclaimRefusedAStaleKeyLearnsTheKeysAndReclaims()
    {
        try (AllocFixture f = new AllocFixture(2, 8L << 20, 4L << 20, AllocFixture.small(2, 16 * 1024), "tcp"))
        {
            final ClusterView view = f.view();
            final AtomicReference<Runnable> task = new AtomicReference<>();
            final ReclaimScheduler capture = (t, p) ->
            {
                task.set(t);
                return () -> { };
            };
            try (SlabAllocator allocator = SlabAllocator.open(view, f.client,
                ClusterBootstrap.allocateClientId(f.client, view), new SlabAllocator.Settings(Duration.ofMillis(250)),
                capture))
            {
                final Allocation a = new Allocation();
                allocator.allocate(3, a);
                final long object = a.address();
                allocator.allocate(3, a);
                f.free(allocator, object, 3);
                final long epoch = view.map().epoch();
                for (final MemoryNode node : f.cluster.nodes())
                {
                    node.service().regions().rekeyAll();
                }
                task.get().run();
                assertEquals(1, allocator.stats().objectsReclaimed(),
                    "the reclaim met the new keys, learnt them and reclaimed the freed object");
                assertEquals(epoch, view.map().epoch(), "no newer map was needed");
            }
        }
    }

    @Test
    void statsCountFreeObjectsPerClass()
    {
        try (AllocFixture f = new AllocFixture(1, 4L << 20, 4L << 20, AllocFixture.small(1, 16 * 1024)))
        {
            final ClusterView view = f.view();
            try (SlabAllocator allocator = f.allocator(view))
            {
                final long[] none = new long[SizeClasses.COUNT];
                assertArrayEquals(none, allocator.stats().freeObjects());
                final Allocation a = new Allocation();
                allocator.allocate(2, a);
                final int perBlock = AllocFixture.objectsPerBlock(view, 2);
                final SlabAllocator.Stats s = allocator.stats();
                assertEquals(1, s.blocksOwned());
                assertEquals(1, s.blocksClaimed());
                assertEquals(perBlock - 2, s.freeObjects(2), "one handed out, one reserved as the next");
                assertEquals(0, s.freeObjects(0));
                final IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                    () -> allocator.allocate(13, a), "16 KiB objects do not fit 16 KiB blocks with their header");
                assertEquals("size class 13 (16384-byte objects) does not fit the cluster's 16384-byte blocks",
                    tooBig.getMessage());
                assertEquals(1, allocator.stats().blocksOwned(), "a refused class asks the memory nodes nothing");
            }
        }
    }
}
