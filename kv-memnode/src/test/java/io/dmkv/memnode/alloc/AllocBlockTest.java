package io.dmkv.memnode.alloc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;

import org.agrona.concurrent.AtomicBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import io.dmkv.core.cluster.MemoryNodeRpc;
import io.dmkv.core.layout.BlockAllocationTable;
import io.dmkv.core.layout.RegionLayout;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.memnode.MemoryNode;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.RpcException;
import io.dmkv.rdma.RpcStatus;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;

/**
 * ALLOC_BLOCK as memory nodes answer it: one owner per block under concurrent claims and
 * concurrent one-sided handovers, adoption before fresh claims, EXHAUSTED, and refusal of bad
 * requests without harm to the node.
 */
@Timeout(60)
class AllocBlockTest
{
    private static final int BLOCK = 4096;

    @Test
    void concurrentClaimsAndHandoversNeverGiveOneBlockToTwoOwners() throws Exception
    {
        try (MemoryNode node = start(2, 512 * 1024))
        {
            final int regions = 2;
            final int blocks = blockCount(node, 0);
            final AtomicIntegerArray[] holder = {new AtomicIntegerArray(blocks), new AtomicIntegerArray(blocks)};
            final AtomicLong claims = new AtomicLong();
            final AtomicLong adoptions = new AtomicLong();
            final AtomicLong exhausted = new AtomicLong();
            final int threads = 8;
            final ExecutorService pool = Executors.newFixedThreadPool(threads);
            try
            {
                final CountDownLatch go = new CountDownLatch(1);
                final List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++)
                {
                    final int client = t + 1;
                    done.add(pool.submit(() ->
                    {
                        final Random random = new Random(client);
                        final List<int[]> mine = new ArrayList<>();
                        go.await();
                        for (int step = 0; step < 1500; step++)
                        {
                            final int region = random.nextInt(regions);
                            final int sizeClass = random.nextInt(3);
                            final Grant g = alloc(node, region, client, sizeClass);
                            if (g == null)
                            {
                                exhausted.incrementAndGet();
                            }
                            else
                            {
                                // The checker: a block may be held by one client at a time.
                                final int previous = holder[region].getAndSet(g.block, client);
                                assertEquals(0, previous, "block " + g.block + " of region " + region + " given to "
                                    + client + " while " + previous + " held it");
                                assertEquals(client, BlockAllocationTable.owner(g.entry));
                                assertEquals(BlockAllocationTable.OWNED, BlockAllocationTable.state(g.entry));
                                assertEquals(sizeClass, BlockAllocationTable.sizeClass(g.entry));
                                (g.adopted ? adoptions : claims).incrementAndGet();
                                mine.add(new int[] {region, g.block});
                            }
                            if (!mine.isEmpty() && (g == null || random.nextInt(3) == 0))
                            {
                                final int[] victim = mine.remove(random.nextInt(mine.size()));
                                // Give up the holder slot before the table says so: once the CAS
                                // lands, the node may hand the block to someone else at once.
                                assertEquals(client, holder[victim[0]].getAndSet(victim[1], 0));
                                leaveOneSided(node, victim[0], victim[1], client, random.nextInt(4) == 0);
                            }
                        }
                        return null;
                    }));
                }
                go.countDown();
                for (final Future<?> f : done)
                {
                    f.get();
                }
            }
            finally
            {
                pool.shutdownNow();
            }
            assertTrue(claims.get() > 0 && adoptions.get() > 0 && exhausted.get() > 0,
                "the run exercised claims (" + claims + "), adoptions (" + adoptions + ") and exhaustion ("
                    + exhausted + ")");
            for (int region = 0; region < regions; region++)
            {
                for (int b = 0; b < blocks; b++)
                {
                    final long e = entry(node, region, b);
                    if (BlockAllocationTable.state(e) == BlockAllocationTable.OWNED)
                    {
                        assertEquals(holder[region].get(b), BlockAllocationTable.owner(e), "owner of block " + b);
                    }
                    else
                    {
                        assertEquals(0, holder[region].get(b), "block " + b + " is " + BlockAllocationTable.toString(e));
                    }
                }
            }
        }
    }

    @Test
    void aHandedOverBlockOfTheSameClassIsAdoptedBeforeAFreeOneIsClaimed() throws Exception
    {
        try (MemoryNode node = start(1, 256 * 1024))
        {
            final Grant a = alloc(node, 0, 1, 2);
            final Grant b = alloc(node, 0, 1, 3);
            assertFalse(a.adopted);
            leaveOneSided(node, 0, a.block, 1, false);
            leaveOneSided(node, 0, b.block, 1, false);

            final Grant c = alloc(node, 0, 2, 3);
            assertTrue(c.adopted, "class 3 adopts the handed-over class-3 block");
            assertEquals(b.block, c.block);
            assertEquals(2, BlockAllocationTable.owner(c.entry));
            assertEquals(BlockAllocationTable.generation(b.entry) + 1, BlockAllocationTable.generation(c.entry),
                "a new owner is a new generation");
            assertEquals(c.entry, entry(node, 0, c.block), "the response carries the entry now in the table");

            final Grant d = alloc(node, 0, 3, 4);
            assertFalse(d.adopted, "no class-4 block was handed over: a free block is claimed");
            assertNotEquals(a.block, d.block, "the class-2 block is left for class 2");

            final Grant e = alloc(node, 0, 4, 2);
            assertTrue(e.adopted);
            assertEquals(a.block, e.block);
        }
    }

    @Test
    void freeBlocksComeFromARotatingCursorAndReleasedBlocksAreFoundOnTheNextLap() throws Exception
    {
        try (MemoryNode node = start(1, 64 * 1024))
        {
            final int blocks = blockCount(node, 0);
            final Grant first = alloc(node, 0, 1, 0);
            final Grant second = alloc(node, 0, 1, 0);
            assertEquals(first.block + 1, second.block);
            leaveOneSided(node, 0, first.block, 1, true);
            final Grant third = alloc(node, 0, 1, 1);
            assertEquals(second.block + 1, third.block, "the cursor moves on instead of rescanning from block 0");
            for (int i = 3; i < blocks; i++)
            {
                assertNotNull(alloc(node, 0, 1, 1), "block " + i + " of " + blocks);
            }
            final Grant wrapped = alloc(node, 0, 2, 5);
            assertEquals(first.block, wrapped.block, "the released block is claimed again, for another class");
            assertEquals(5, BlockAllocationTable.sizeClass(wrapped.entry));
            assertEquals(BlockAllocationTable.generation(first.entry) + 1, BlockAllocationTable.generation(wrapped.entry));
        }
    }

    @Test
    void exhaustedWhenNoBlockIsFreeOrHandedOverInTheClass() throws Exception
    {
        try (MemoryNode node = start(1, 64 * 1024))
        {
            final int blocks = blockCount(node, 0);
            final List<Grant> grants = new ArrayList<>();
            Grant g;
            while ((g = alloc(node, 0, 7, 1)) != null)
            {
                grants.add(g);
                assertTrue(grants.size() <= blocks, "more grants than blocks");
            }
            assertEquals(blocks, grants.size(), "every block is handed out before EXHAUSTED");
            final RpcException full = assertThrows(RpcException.class, () -> rpc(node, request(0, 7, 1)));
            assertEquals(RpcStatus.EXHAUSTED, full.status());
            assertTrue(full.getMessage().contains("no free block") && full.getMessage().contains(blocks + " blocks of 4096"),
                full.getMessage());

            leaveOneSided(node, 0, grants.get(3).block, 7, false);
            assertNull(alloc(node, 0, 8, 2), "a handed-over class-1 block does not serve class 2");
            final Grant adopted = alloc(node, 0, 8, 1);
            assertTrue(adopted.adopted);
            assertEquals(grants.get(3).block, adopted.block);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"local", "tcp"})
    void malformedRequestsAreAnsweredWithBadRequestAndTheNodeKeepsServing(final String transport)
    {
        try (EmbeddedCluster cluster = EmbeddedCluster.start(1, 192 * 1024, 64 * 1024, transport);
            VerbsTransport t = cluster.newTransport();
            VerbsClient client = VerbsClient.connect(t, cluster.endpoints(), ClientOptions.defaults()))
        {
            client.rpc(0, MemoryNodeRpc.FORMAT_REGION, format(0, BLOCK).encode());
            final List<ByteBuffer> bad = List.of(
                ByteBuffer.allocate(0),
                ByteBuffer.allocate(8).putInt(0).putInt(1).flip(),
                ByteBuffer.allocate(10).putInt(0).putInt(1).putShort((short)0).flip(),
                request(-1, 1, 0),
                request(99, 1, 0),
                request(1, 1, 0),
                request(0, 0, 0),
                request(0, 70_000, 0),
                request(0, -5, 0),
                request(0, 1, 18),
                request(0, 1, 255),
                request(0, 1, 17));
            for (final ByteBuffer request : bad)
            {
                final String shape = describe(request);
                final RpcException e = assertThrows(RpcException.class,
                    () -> client.rpc(0, MemoryNodeRpc.ALLOC_BLOCK, request), shape);
                assertEquals(RpcStatus.BAD_REQUEST, e.status(), shape + ": " + e.getMessage());
            }
            final RpcException notFormatted = assertThrows(RpcException.class,
                () -> client.rpc(0, MemoryNodeRpc.ALLOC_BLOCK, request(1, 1, 0)));
            assertTrue(notFormatted.getMessage().contains("not formatted"), notFormatted.getMessage());
            final RpcException tooBig = assertThrows(RpcException.class,
                () -> client.rpc(0, MemoryNodeRpc.ALLOC_BLOCK, request(0, 1, 15)));
            assertTrue(tooBig.getMessage().contains("cannot hold one object of size class 15"), tooBig.getMessage());

            final ByteBuffer ok = client.rpc(0, MemoryNodeRpc.ALLOC_BLOCK, request(0, 1, 0));
            assertEquals(13, ok.remaining(), "blockIndex:u32 entry:u64 adopted:u8");
            assertEquals(0, ok.getInt());
            assertEquals(1, BlockAllocationTable.owner(ok.getLong()));
            assertEquals(0, ok.get());
        }
    }

    // ---------------------------------------------------------------------------------------

    private record Grant(int block, long entry, boolean adopted)
    {
    }

    /** A node of {@code regions} regions of {@code regionBytes}, each formatted as a data region. */
    private static MemoryNode start(final int regions, final int regionBytes) throws Exception
    {
        final MemoryNode node = MemoryNode.start(MemoryNode.Config.inProcess("alloc-" + UUID.randomUUID(),
            (long)regions * regionBytes, regionBytes));
        for (int p = 0; p < regions; p++)
        {
            node.service().rpc(MemoryNodeRpc.FORMAT_REGION, format(p, BLOCK).encode()).get(10, TimeUnit.SECONDS);
        }
        return node;
    }

    private static MemoryNodeRpc.FormatRegion format(final int physical, final int blockSize)
    {
        return new MemoryNodeRpc.FormatRegion(physical, physical + 1, blockSize, 0, false, 0, 0, 1, 1, 1);
    }

    private static ByteBuffer request(final int region, final int client, final int sizeClass)
    {
        return new MemoryNodeRpc.AllocBlock(region, client, sizeClass).encode();
    }

    private static String describe(final ByteBuffer request)
    {
        final ByteBuffer b = request.duplicate();
        return b.remaining() == 9 ? "region " + b.getInt() + " client " + b.getInt() + " class " + (b.get() & 0xFF)
            : b.remaining() + "-byte request";
    }

    private static ByteBuffer rpc(final MemoryNode node, final ByteBuffer request) throws Exception
    {
        try
        {
            return node.service().rpc(MemoryNodeRpc.ALLOC_BLOCK, request).get(10, TimeUnit.SECONDS);
        }
        catch (final ExecutionException e)
        {
            if (e.getCause() instanceof RpcException r)
            {
                throw r;
            }
            throw e;
        }
    }

    /** A grant, or null on EXHAUSTED. */
    private static Grant alloc(final MemoryNode node, final int region, final int client, final int sizeClass)
        throws Exception
    {
        final ByteBuffer r;
        try
        {
            r = rpc(node, request(region, client, sizeClass));
        }
        catch (final RpcException e)
        {
            assertEquals(RpcStatus.EXHAUSTED, e.status(), e.getMessage());
            return null;
        }
        return new Grant(r.getInt(), r.getLong(), r.get() == 1);
    }

    /** What a client does with one-sided CASes: hand its block over, or release it. */
    private static void leaveOneSided(final MemoryNode node, final int region, final int block, final int owner,
        final boolean release)
    {
        final AtomicBuffer b = node.service().regions().regions().get(region).buffer();
        final int at = RegionLayout.batOffset(b) + BlockAllocationTable.entryOffset(block);
        final long e = b.getLongVolatile(at);
        assertEquals(owner, BlockAllocationTable.owner(e));
        final long next = release ? BlockAllocationTable.released(e) : BlockAllocationTable.handedOver(e);
        assertTrue(b.compareAndSetLong(at, e, next), "only the owner changes an owned entry");
    }

    private static long entry(final MemoryNode node, final int region, final int block)
    {
        final AtomicBuffer b = node.service().regions().regions().get(region).buffer();
        return b.getLongVolatile(RegionLayout.batOffset(b) + BlockAllocationTable.entryOffset(block));
    }

    private static int blockCount(final MemoryNode node, final int region)
    {
        return RegionLayout.blockCount(node.service().regions().regions().get(region).buffer());
    }
}
