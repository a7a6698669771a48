package io.dmkv.core.address;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.Set;

import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class RegionMapTest
{
    @Test
    void everyRegionGetsRDistinctNodesForEveryShape()
    {
        for (int n = 1; n <= 9; n++)
        {
            for (int r = 1; r <= Math.min(5, n); r++)
            {
                final RegionMap map = RegionMap.place(1, 100, n, r);
                for (int g = 0; g < 100; g++)
                {
                    final int[] nodes = map.replicas(g);
                    assertEquals(r, nodes.length);
                    assertEquals(g % n, nodes[0], "primary of region " + g + " with n=" + n);
                    final Set<Integer> distinct = new HashSet<>();
                    for (final int node : nodes)
                    {
                        assertTrue(node >= 0 && node < n);
                        distinct.add(node);
                    }
                    assertEquals(r, distinct.size(), "region " + g + " n=" + n + " r=" + r);
                }
            }
        }
    }

    @Test
    void primariesDifferByAtMostOneRegionBetweenNodes()
    {
        final RegionMap map = RegionMap.place(0, 103, 7, 3);
        final int[] primaries = new int[7];
        for (int g = 0; g < 103; g++)
        {
            primaries[map.primary(g)]++;
        }
        final int min = java.util.Arrays.stream(primaries).min().getAsInt();
        final int max = java.util.Arrays.stream(primaries).max().getAsInt();
        assertTrue(max - min <= 1, java.util.Arrays.toString(primaries));
    }

    @Test
    void everyNodeHoldsExactlyRReplicasPerFullLap()
    {
        final int n = 5;
        final int r = 3;
        final int laps = 8;
        final RegionMap map = RegionMap.place(0, n * laps, n, r);
        for (int node = 0; node < n; node++)
        {
            assertEquals(r * laps, map.regionsOn(node).length, "replicas on node " + node);
        }
    }

    @Test
    void failedNodesPrimariesMoveToEveryOtherNodeNotJustItsSuccessor()
    {
        final int n = 4;
        final RegionMap map = RegionMap.place(3, n * (n - 1), n, 2);
        final RegionMap after = map.withoutNode(0);
        assertEquals(4, after.epoch());
        final Set<Integer> newPrimaries = new HashSet<>();
        for (int g = 0; g < map.regionCount(); g++)
        {
            assertFalse(after.hasReplicaOn(g, 0));
            if (map.primary(g) == 0)
            {
                assertEquals(map.replica(g, 1), after.primary(g), "first backup is promoted");
                assertEquals(1, after.replicaCount(g));
                newPrimaries.add(after.primary(g));
            }
            else
            {
                assertEquals(map.primary(g), after.primary(g), "untouched primary of region " + g);
            }
        }
        assertEquals(Set.of(1, 2, 3), newPrimaries);
    }

    @Test
    void removingTheLastReplicaOfARegionIsRefused()
    {
        final RegionMap single = RegionMap.place(0, 4, 2, 1);
        final IllegalStateException e = assertThrows(IllegalStateException.class, () -> single.withoutNode(1));
        assertEquals("removing memory node 1 would lose region 1: it holds the region's last replica", e.getMessage());
        final RegionMap twice = RegionMap.place(0, 4, 2, 2).withoutNode(0);
        assertThrows(IllegalStateException.class, () -> twice.withoutNode(1));
    }

    @Test
    void aRegionLosingItsLastReplicaKeepsItWhenAskedAndEpochsCanBeSet()
    {
        final RegionMap twice = RegionMap.place(0, 4, 2, 2).withoutNode(0);
        final RegionMap lost = twice.withoutNode(1, true);
        assertEquals(2, lost.epoch());
        for (int g = 0; g < lost.regionCount(); g++)
        {
            assertEquals(1, lost.replicaCount(g));
            assertEquals(1, lost.primary(g), "the lost region still names where it was");
        }
        final RegionMap at = lost.withEpoch(9);
        assertEquals(9, at.epoch());
        assertEquals(lost.replicas(3)[0], at.replicas(3)[0]);
        assertEquals(RegionMap.fromBytes(at.toBytes()), at);
    }

    @Test
    void replicationFactorIsValidatedWithActionableMessages()
    {
        assertEquals("replication factor 0 is outside 1..5",
            assertThrows(IllegalArgumentException.class, () -> RegionMap.place(0, 8, 3, 0)).getMessage());
        assertEquals("replication factor 6 is outside 1..5",
            assertThrows(IllegalArgumentException.class, () -> RegionMap.place(0, 8, 9, 6)).getMessage());
        assertEquals("replication factor 3 needs at least 3 memory nodes, but only 2 are configured",
            assertThrows(IllegalArgumentException.class, () -> RegionMap.place(0, 8, 2, 3)).getMessage());
        assertEquals("number of memory nodes 0 is outside 1..65534",
            assertThrows(IllegalArgumentException.class, () -> RegionMap.place(0, 8, 0, 1)).getMessage());
        assertEquals("region count 0 is outside 1..262144",
            assertThrows(IllegalArgumentException.class, () -> RegionMap.place(0, 0, 2, 1)).getMessage());
        assertEquals("epoch -1 is negative",
            assertThrows(IllegalArgumentException.class, () -> RegionMap.place(-1, 1, 2, 1)).getMessage());
    }

    @Test
    void lookupsOutsideTheMapNameTheRange()
    {
        final RegionMap map = RegionMap.place(9, 4, 3, 2);
        assertEquals("region 4 is not in the map (regions 0..3, epoch 9)",
            assertThrows(IllegalArgumentException.class, () -> map.primary(4)).getMessage());
        assertEquals("region 1 has no replica 2 (it has 2)",
            assertThrows(IllegalArgumentException.class, () -> map.replica(1, 2)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> map.regionsOn(3));
    }

    @Test
    void bytesRoundTripIncludingADegradedMap()
    {
        final RegionMap map = RegionMap.place(42, 37, 5, 3);
        assertEquals(map, RegionMap.fromBytes(map.toBytes()));
        final RegionMap degraded = map.withoutNode(2).withoutNode(4);
        final RegionMap back = RegionMap.fromBytes(degraded.toBytes());
        assertEquals(degraded, back);
        assertEquals(44, back.epoch());
        for (int g = 0; g < 37; g++)
        {
            assertArrayEquals(degraded.replicas(g), back.replicas(g));
        }
        assertNotEquals(map, degraded);
    }

    @Test
    void serialisedFormIsLittleEndianWithTheDocumentedHeader()
    {
        final RegionMap map = RegionMap.place(0x0102_0304_0506_0708L, 3, 2, 2);
        final byte[] bytes = map.toBytes();
        assertEquals(RegionMap.HEADER_LENGTH + 3 * 2 * 2, bytes.length);
        assertEquals("DMRM", new String(bytes, 0, 4, java.nio.charset.StandardCharsets.US_ASCII));
        final UnsafeBuffer b = new UnsafeBuffer(bytes);
        assertEquals(1, b.getShort(RegionMap.FORMAT_OFFSET, ByteOrder.LITTLE_ENDIAN));
        assertEquals(2, b.getByte(RegionMap.REPLICATION_OFFSET));
        assertEquals(0x08, bytes[RegionMap.EPOCH_OFFSET], "low byte of the epoch first");
        assertEquals(2, b.getInt(RegionMap.MEMORY_NODES_OFFSET, ByteOrder.LITTLE_ENDIAN));
        assertEquals(3, b.getInt(RegionMap.REGIONS_OFFSET, ByteOrder.LITTLE_ENDIAN));
        // region 1: primary 1, backup 0
        assertEquals(1, b.getShort(RegionMap.HEADER_LENGTH + 4, ByteOrder.LITTLE_ENDIAN));
        assertEquals(0, b.getShort(RegionMap.HEADER_LENGTH + 6, ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void encodeAtAnOffsetAndDecodeFromIt()
    {
        final RegionMap map = RegionMap.place(7, 10, 3, 2);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[100 + map.encodedLength()]);
        assertEquals(map.encodedLength(), map.encode(buffer, 100));
        assertEquals(map, RegionMap.decode(buffer, 100, map.encodedLength()));
    }

    @Test
    void decodeRejectsCorruptInputNamingTheProblem()
    {
        final byte[] good = RegionMap.place(1, 2, 3, 2).toBytes();
        assertEquals("region map: 10 bytes is shorter than its 24-byte header",
            decodeError(java.util.Arrays.copyOf(good, 10)));

        final byte[] badMagic = good.clone();
        badMagic[0] = 'X';
        assertTrue(decodeError(badMagic).startsWith("region map: bad magic"));

        final byte[] badFormat = good.clone();
        badFormat[RegionMap.FORMAT_OFFSET] = 9;
        assertEquals("region map: format version 9 is not supported (expected 1 or 2)", decodeError(badFormat));

        assertEquals("region map: 2 regions with 2 replicas need 32 bytes, got 30",
            decodeError(java.util.Arrays.copyOf(good, 30)));

        final byte[] unknownNode = good.clone();
        unknownNode[RegionMap.HEADER_LENGTH] = 3;
        assertEquals("region map: region 0 names memory node 3 but there are only 3", decodeError(unknownNode));

        final byte[] twice = good.clone();
        twice[RegionMap.HEADER_LENGTH + 2] = twice[RegionMap.HEADER_LENGTH];
        assertEquals("region map: region 0 lists memory node 0 twice", decodeError(twice));

        final byte[] gap = good.clone();
        gap[RegionMap.HEADER_LENGTH] = (byte)0xFF;
        gap[RegionMap.HEADER_LENGTH + 1] = (byte)0xFF;
        assertEquals("region map: region 0 lists a replica after an empty entry", decodeError(gap));

        final byte[] empty = gap.clone();
        empty[RegionMap.HEADER_LENGTH + 2] = (byte)0xFF;
        empty[RegionMap.HEADER_LENGTH + 3] = (byte)0xFF;
        assertEquals("region map: region 0 has no replica", decodeError(empty));

        final byte[] tooManyReplicas = good.clone();
        tooManyReplicas[RegionMap.REPLICATION_OFFSET] = 4;
        assertEquals("replication factor 4 needs at least 4 memory nodes, but only 3 are configured",
            decodeError(tooManyReplicas));
    }

    @Property
    void anyPlacedOrDegradedMapSurvivesSerialisation(@ForAll @IntRange(min = 1, max = 300) final int regions,
        @ForAll @IntRange(min = 1, max = 12) final int nodes, @ForAll @IntRange(min = 1, max = 5) final int r,
        @ForAll @LongRange(min = 0, max = Long.MAX_VALUE - 1) final long epoch,
        @ForAll @IntRange(min = 0, max = 11) final int failed)
    {
        Assume.that(r <= nodes);
        RegionMap map = RegionMap.place(epoch, regions, nodes, r);
        if (r > 1 && failed < nodes)
        {
            map = map.withoutNode(failed);
        }
        final RegionMap back = RegionMap.fromBytes(map.toBytes());
        assertEquals(map, back);
        for (int node = 0; node < nodes; node++)
        {
            assertArrayEquals(map.regionsOn(node), back.regionsOn(node));
        }
    }

    @Test
    void aJoiningReplicaIsNoReplicaUntilPromotedAndKeepsItsPhysicalRegion()
    {
        final RegionMap failed = RegionMap.place(1, 5, 4, 3).withoutNode(3).withMemoryNodes(5);
        final int g = failed.regionsOn(0)[0];
        final int before = failed.replicaCount(g);
        final RegionMap joining = failed.withJoiner(g, 4, 2);
        assertEquals(4, joining.joiner(g));
        assertEquals(2, joining.joinerPhysical(g));
        assertEquals(before, joining.replicaCount(g), "a joiner is not a replica");
        assertFalse(joining.hasReplicaOn(g, 4));
        assertEquals(2, joining.physicalOn(g, 4));
        assertTrue(joining.physicalInUse(4).get(2));
        final RegionMap sealed = joining.withSealed(g, true);
        assertTrue(sealed.sealed(g) && sealed.anySealed());
        final RegionMap promoted = sealed.withJoinerPromoted(g, before == 3 ? failed.replica(g, 0) : -1);
        assertFalse(promoted.anySealed());
        assertEquals(-1, promoted.joiner(g));
        assertTrue(promoted.hasReplicaOn(g, 4));
        final int at = before == 3 ? 0 : promoted.replicaCount(g) - 1;
        assertEquals(4, promoted.replica(g, at), "the joiner takes the leaving replica's place, else the last");
        assertEquals(2, promoted.physical(g, at));
        assertTrue(promoted.epoch() > sealed.epoch() && sealed.epoch() > joining.epoch());
    }

    @Test
    void aJoinerReplacingTheLeavingPrimaryBecomesThePrimaryAndTheBackupsKeepTheirPlaces()
    {
        final RegionMap map = RegionMap.place(1, 5, 4, 3).withMemoryNodes(5);
        final int g = map.regionsOn(0)[0];
        final int primary = map.replica(g, 0);
        final RegionMap promoted = map.withJoiner(g, 4, 1).withSealed(g, true).withJoinerPromoted(g, primary);
        assertEquals(4, promoted.replica(g, 0));
        assertEquals(1, promoted.physical(g, 0));
        for (int j = 1; j < map.replicaCount(g); j++)
        {
            assertEquals(map.replica(g, j), promoted.replica(g, j));
            assertEquals(map.physical(g, j), promoted.physical(g, j));
        }
        assertFalse(promoted.hasReplicaOn(g, primary));
        final int backup = map.replica(g, 1);
        final RegionMap movedBackup = map.withJoiner(g, 4, 1).withJoinerPromoted(g, backup);
        assertEquals(primary, movedBackup.replica(g, 0));
        assertEquals(4, movedBackup.replica(g, 1));
    }

    @Test
    void explicitMapsRoundTripThroughFormatTwoAndPlainOnesStayFormatOne()
    {
        final RegionMap plain = RegionMap.place(3, 7, 4, 3).withoutNode(2);
        assertEquals(RegionMap.FORMAT_VERSION, new UnsafeBuffer(plain.toBytes()).getShort(RegionMap.FORMAT_OFFSET,
            ByteOrder.LITTLE_ENDIAN));
        final RegionMap moved = plain.withMemoryNodes(5).withJoiner(0, 4, 1).withSealed(0, true)
            .withJoinerPromoted(0, plain.replica(0, 0)).withJoiner(1, 4, 0);
        final byte[] bytes = moved.toBytes();
        assertEquals(RegionMap.FORMAT_VERSION_EXPLICIT, new UnsafeBuffer(bytes).getShort(RegionMap.FORMAT_OFFSET,
            ByteOrder.LITTLE_ENDIAN));
        final RegionMap back = RegionMap.fromBytes(bytes);
        assertEquals(moved, back);
        assertEquals(4, back.joiner(1));
        assertEquals(1, back.physicalOn(0, 4));
        for (int g = 0; g < plain.regionCount(); g++)
        {
            for (int j = 0; j < plain.replicaCount(g); j++)
            {
                assertEquals(plain.physical(g, j), RegionMap.fromBytes(plain.toBytes()).physical(g, j));
            }
        }
    }

    @Test
    void aMapGivingOnePhysicalRegionTwoReplicasIsRefused()
    {
        final RegionMap map = RegionMap.place(1, 5, 4, 3).withMemoryNodes(5);
        assertThrows(IllegalArgumentException.class, () -> map.withJoiner(0, map.replica(0, 1), 3));
        final int g = map.regionsOn(0)[0];
        final int other = map.regionsOn(0)[1];
        final RegionMap joining = map.withJoiner(g, 4, 0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> joining.withJoiner(other, 4, 0)).getMessage()
            .contains("in use"));
    }

    @Test
    void aJoinerOnAFailedNodeLeavesWithIt()
    {
        final RegionMap map = RegionMap.place(1, 5, 4, 3).withMemoryNodes(5).withJoiner(0, 4, 0).withSealed(0, true);
        final RegionMap after = map.withoutNode(4);
        assertEquals(-1, after.joiner(0));
        assertFalse(after.sealed(0));
    }

    @Test
    void newRegionsAreAppendedInFreePhysicalRegionsAndTheOldOnesStayPut()
    {
        // Two nodes, r = 2, two regions: each node's physical regions 0 and 1 are used; a third node joined.
        final RegionMap before = RegionMap.place(4, 2, 2, 2).withMemoryNodes(3);
        final RegionMap grown = before.withRegions(new int[][] {{2, 0}, {1, 2}}, new int[][] {{0, 2}, {2, 1}});
        assertEquals(before.epoch() + 1, grown.epoch());
        assertEquals(4, grown.regionCount());
        for (int g = 0; g < 2; g++)
        {
            assertTrue(grown.sameRegion(before, g), "region " + g + " unchanged");
        }
        assertArrayEquals(new int[] {2, 0}, grown.replicas(2));
        assertEquals(2, grown.physical(2, 1));
        assertArrayEquals(new int[] {1, 2}, grown.replicas(3));
        assertEquals(-1, grown.joiner(3));
        assertFalse(grown.sealed(3));
        assertEquals(grown, RegionMap.fromBytes(grown.toBytes()));
        assertArrayEquals(new int[] {2, 3}, grown.regionsOn(2));
    }

    @Test
    void newRegionsAreRefusedInUsedPhysicalRegionsOrWithANodeTwice()
    {
        final RegionMap map = RegionMap.place(0, 2, 2, 2).withMemoryNodes(3);
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> map.withRegions(new int[][] {{2, 0}}, new int[][] {{0, 1}})).getMessage().contains("serves two"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> map.withRegions(new int[][] {{2, 2}}, new int[][] {{0, 1}})).getMessage().contains("twice"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> map.withRegions(new int[][] {{2, 0, 1}}, new int[][] {{0, 2, 2}})).getMessage().contains("1..2"));
        assertTrue(assertThrows(IllegalArgumentException.class,
            () -> map.withRegions(new int[][] {{3, 0}}, new int[][] {{0, 2}})).getMessage().contains("not in the map"));
    }

    private static String decodeError(final byte[] bytes)
    {
        return assertThrows(IllegalArgumentException.class, () -> RegionMap.fromBytes(bytes)).getMessage();
    }
}
