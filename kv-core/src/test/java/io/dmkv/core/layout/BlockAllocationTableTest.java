package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmkv.core.TestBuffers;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class BlockAllocationTableTest
{
    @Test
    void aZeroedEntryIsAFreeBlockOfGenerationZero()
    {
        assertTrue(BlockAllocationTable.isFree(0L));
        assertEquals(BlockAllocationTable.FREE, BlockAllocationTable.state(0L));
        assertEquals(0, BlockAllocationTable.generation(0L));
        assertEquals(0L, BlockAllocationTable.entry(0, 0, BlockAllocationTable.FREE, 0));
    }

    @Test
    void entriesRoundTripAtTheEdges()
    {
        final long e = BlockAllocationTable.entry(65_535, 15, BlockAllocationTable.HANDED_OVER, 0xFFFF_FFFF);
        assertEquals(65_535, BlockAllocationTable.owner(e));
        assertEquals(15, BlockAllocationTable.sizeClass(e));
        assertEquals(BlockAllocationTable.HANDED_OVER, BlockAllocationTable.state(e));
        assertEquals(0xFFFF_FFFF, BlockAllocationTable.generation(e));
        final long one = BlockAllocationTable.entry(1, 0, BlockAllocationTable.OWNED, 1);
        assertEquals(1, BlockAllocationTable.owner(one));
        assertEquals(0x0000_0001_0100_0001L, one, "generation | state | class | owner");
    }

    @Test
    void lifecycleClaimHandOverAdoptRelease()
    {
        final long free = BlockAllocationTable.entry(0, 0, BlockAllocationTable.FREE, 41);
        final long claimed = BlockAllocationTable.claimed(free, 7, 4);
        assertEquals(7, BlockAllocationTable.owner(claimed));
        assertEquals(4, BlockAllocationTable.sizeClass(claimed));
        assertEquals(BlockAllocationTable.OWNED, BlockAllocationTable.state(claimed));
        assertEquals(42, BlockAllocationTable.generation(claimed));
        final long left = BlockAllocationTable.handedOver(claimed);
        assertFalse(BlockAllocationTable.isFree(left), "a handed-over block still belongs to someone");
        assertEquals(42, BlockAllocationTable.generation(left));
        final long adopted = BlockAllocationTable.adopted(left, 9);
        assertEquals(9, BlockAllocationTable.owner(adopted));
        assertEquals(4, BlockAllocationTable.sizeClass(adopted), "adoption keeps the size class");
        assertEquals(43, BlockAllocationTable.generation(adopted));
        final long released = BlockAllocationTable.released(adopted);
        assertTrue(BlockAllocationTable.isFree(released));
        assertEquals(43, BlockAllocationTable.generation(released));
        assertEquals(0, BlockAllocationTable.generation(
            BlockAllocationTable.claimed(BlockAllocationTable.entry(0, 0, 0, -1), 1, 0)), "generation wraps");
    }

    @Test
    void illegalTransitionsAndEntriesAreRefused()
    {
        final long owned = BlockAllocationTable.claimed(0L, 3, 1);
        assertEquals("cannot claim block{OWNED, owner=3, class=1, gen=1}",
            assertThrows(IllegalStateException.class, () -> BlockAllocationTable.claimed(owned, 4, 1)).getMessage());
        assertThrows(IllegalStateException.class, () -> BlockAllocationTable.adopted(owned, 4));
        assertThrows(IllegalStateException.class, () -> BlockAllocationTable.handedOver(0L));
        assertThrows(IllegalArgumentException.class, () -> BlockAllocationTable.claimed(0L, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> BlockAllocationTable.claimed(0L, 65_536, 1));
        assertThrows(IllegalArgumentException.class, () -> BlockAllocationTable.claimed(0L, 1, 18));
        assertThrows(IllegalArgumentException.class,
            () -> BlockAllocationTable.entry(5, 0, BlockAllocationTable.FREE, 0));
        assertEquals("block state 3 is not FREE (0), OWNED (1) or HANDED_OVER (2)",
            assertThrows(IllegalArgumentException.class, () -> BlockAllocationTable.entry(5, 0, 3, 0)).getMessage());
        assertEquals("client id 0 is outside 1..65535",
            assertThrows(IllegalArgumentException.class, () -> BlockAllocationTable.validateClientId(0)).getMessage());
    }

    @Test
    void twoClientsRacingToClaimABlockWithCasHaveOneWinner()
    {
        final UnsafeBuffer table = TestBuffers.raw(8 * 4);
        final int at = BlockAllocationTable.entryOffset(2);
        final long seen = table.getLong(at);
        assertTrue(table.compareAndSetLong(at, seen, BlockAllocationTable.claimed(seen, 1, 0)));
        assertFalse(table.compareAndSetLong(at, seen, BlockAllocationTable.claimed(seen, 2, 0)),
            "the second claimant's stale read fails its CAS");
        assertEquals(1, BlockAllocationTable.owner(BlockAllocationTable.entry(table, 0, 2)));
        // release and re-claim: a CAS from the first generation's entry cannot undo the new claim
        final long first = table.getLong(at);
        table.putLong(at, BlockAllocationTable.claimed(BlockAllocationTable.released(first), 3, 0));
        assertFalse(table.compareAndSetLong(at, first, BlockAllocationTable.handedOver(first)), "ABA is caught");
    }
}
