package io.dmkv.core.address;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class GlobalAddressTest
{
    private static final int MAX_OFFSET = (1 << 30) - 1;

    @Test
    void limitsAreThoseOfA48BitSpaceOf1GiBRegions()
    {
        assertEquals(262_144, GlobalAddress.MAX_REGIONS);
        assertEquals(1L << 30, GlobalAddress.MAX_REGION_SIZE);
        assertEquals(256L << 40, GlobalAddress.MAX_MEMORY, "256 TiB");
        assertEquals(40, GlobalAddress.UNIT_ADDRESS_BITS);
    }

    @Test
    void packAndUnpackRoundTripAtTheEdges()
    {
        assertEquals(0L, GlobalAddress.pack(0, 0));
        assertEquals((1L << 48) - 1, GlobalAddress.pack(GlobalAddress.MAX_REGIONS - 1, MAX_OFFSET));
        assertEquals(1L << 30, GlobalAddress.pack(1, 0));
        final int[][] cases = {{0, 1}, {1, 0}, {0, MAX_OFFSET}, {GlobalAddress.MAX_REGIONS - 1, 0},
            {GlobalAddress.MAX_REGIONS - 1, MAX_OFFSET}, {12_345, 4096}};
        for (final int[] c : cases)
        {
            final long a = GlobalAddress.pack(c[0], c[1]);
            assertEquals(c[0], GlobalAddress.regionId(a), "region of " + a);
            assertEquals(c[1], GlobalAddress.offset(a), "offset of " + a);
            assertTrue(GlobalAddress.isInRange(a));
        }
    }

    @Test
    void packRejectsRegionIdsAndOffsetsOutOfRangeWithTheLimitInTheMessage()
    {
        final IllegalArgumentException region = assertThrows(IllegalArgumentException.class,
            () -> GlobalAddress.pack(GlobalAddress.MAX_REGIONS, 0));
        assertEquals("region id 262144 is outside 0..262143", region.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.pack(-1, 0));
        final IllegalArgumentException offset = assertThrows(IllegalArgumentException.class,
            () -> GlobalAddress.pack(0, 1 << 30));
        assertTrue(offset.getMessage().startsWith("offset 1073741824 is outside 0..1073741823"), offset.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.pack(0, -1));
    }

    @Test
    void nullAndRegionStartsAreNeverObjectAddresses()
    {
        assertFalse(GlobalAddress.isObjectAddress(GlobalAddress.NULL));
        assertFalse(GlobalAddress.isObjectAddress(GlobalAddress.pack(7, 0)), "offset 0 holds the region header");
        assertTrue(GlobalAddress.isObjectAddress(GlobalAddress.pack(0, 256)));
        assertFalse(GlobalAddress.isObjectAddress(GlobalAddress.pack(7, 4096 + 8)), "not 256-byte aligned");
        assertFalse(GlobalAddress.isObjectAddress(1L << 48), "beyond 48 bits");
        assertFalse(GlobalAddress.isObjectAddress(-256L));
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> GlobalAddress.requireObjectAddress(0, "next pointer"));
        assertTrue(e.getMessage().startsWith("next pointer null is not an object address"), e.getMessage());
    }

    @Test
    void unitAddressesUseFortyBits()
    {
        final long top = GlobalAddress.pack(GlobalAddress.MAX_REGIONS - 1, MAX_OFFSET - 255);
        assertEquals((1L << 40) - 1, GlobalAddress.units(top));
        assertEquals(top, GlobalAddress.fromUnits(GlobalAddress.units(top)));
        assertEquals(0x1234_5600L, GlobalAddress.fromUnits(0x12_3456L));
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.fromUnits(1L << 40));
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.fromUnits(-1));
    }

    @Test
    void addStaysInsideTheRegion()
    {
        final long a = GlobalAddress.pack(3, 4096);
        assertEquals(GlobalAddress.pack(3, 4096 + 64), GlobalAddress.add(a, 64));
        assertEquals(GlobalAddress.pack(3, MAX_OFFSET), GlobalAddress.add(a, MAX_OFFSET - 4096));
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> GlobalAddress.add(a, (1L << 30) - 4096));
        assertTrue(e.getMessage().contains("leaves region 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GlobalAddress.add(a, -4097));
    }

    @Test
    void toStringNamesRegionAndOffset()
    {
        assertEquals("null", GlobalAddress.toString(0));
        assertEquals("r3+0x1f00", GlobalAddress.toString(GlobalAddress.pack(3, 0x1f00)));
    }

    @Property
    void packThenUnpackIsIdentity(@ForAll @IntRange(min = 0, max = (1 << 18) - 1) final int region,
        @ForAll @IntRange(min = 0, max = (1 << 30) - 1) final int offset)
    {
        final long a = GlobalAddress.pack(region, offset);
        assertEquals(region, GlobalAddress.regionId(a));
        assertEquals(offset, GlobalAddress.offset(a));
        assertTrue(GlobalAddress.isInRange(a));
        assertEquals(offset != 0 && offset % 256 == 0, GlobalAddress.isObjectAddress(a));
    }
}
