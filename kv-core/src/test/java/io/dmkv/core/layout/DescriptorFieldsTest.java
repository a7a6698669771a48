package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dmkv.core.address.RegionMap;
import org.junit.jupiter.api.Test;

/**
 * Every fixed-size descriptor's fields lie inside its declared length, do not overlap, and CAS or
 * FAA targets are 8-byte aligned: a typo in an offset constant fails here before it corrupts
 * memory.
 */
class DescriptorFieldsTest
{
    @Test
    void slotFieldsTileItsEightBytes()
    {
        assertFields("Slot", Slot.LENGTH,
            field("address", 0, 6),
            field("length", Slot.LENGTH_BYTE_OFFSET, 1),
            field("fingerprint", Slot.FINGERPRINT_BYTE_OFFSET, 1));
        assertEquals(Slot.LENGTH_SHIFT, 8 * Slot.LENGTH_BYTE_OFFSET);
        assertEquals(Slot.FINGERPRINT_SHIFT, 8 * Slot.FINGERPRINT_BYTE_OFFSET);
    }

    @Test
    void bucketHeaderAndSlotsTileTheCacheLine()
    {
        final int[][] fields = new int[2 + Bucket.SLOT_COUNT][];
        fields[0] = field("local depth", Bucket.LOCAL_DEPTH_OFFSET, 1);
        fields[1] = field("suffix", Bucket.SUFFIX_OFFSET, 4);
        for (int i = 0; i < Bucket.SLOT_COUNT; i++)
        {
            fields[2 + i] = field("slot " + i, Bucket.slotOffset(i), Slot.LENGTH);
            assertEquals(0, Bucket.slotOffset(i) % 8, "slot " + i + " is CAS-aligned");
        }
        assertFields("Bucket", Bucket.LENGTH, fields);
        assertTrue(Bucket.SUFFIX_OFFSET + 4 <= Bucket.HEADER_LENGTH);
    }

    @Test
    void kvObjectHeaderTilesItsEightBytes()
    {
        assertFields("KvObject header", KvObject.HEADER_LENGTH,
            field("valid", KvObject.VALID_OFFSET, 1),
            field("size class", KvObject.SIZE_CLASS_OFFSET, 1),
            field("key length", KvObject.KEY_LENGTH_OFFSET, 2),
            field("value length", KvObject.VALUE_LENGTH_OFFSET, 4));
        assertEquals(KvObject.HEADER_LENGTH, KvObject.KEY_OFFSET);
    }

    @Test
    void logEntryTilesItsThirtyTwoBytesAndEndsWithTheOpUsedByte()
    {
        assertFields("LogEntry", LogEntry.LENGTH,
            field("next", LogEntry.NEXT_OFFSET, 8),
            field("old value", LogEntry.OLD_VALUE_OFFSET, 8),
            field("old value crc", LogEntry.OLD_VALUE_CRC_OFFSET, 4),
            field("object crc", LogEntry.OBJECT_CRC_OFFSET, 4),
            field("prev", LogEntry.TAIL_OFFSET, 6),
            field("reserved", LogEntry.RESERVED_OFFSET, 1),
            field("op+used", LogEntry.OP_USED_OFFSET, 1));
        assertEquals(LogEntry.LENGTH - 1, LogEntry.OP_USED_OFFSET);
        assertEquals(LogEntry.OLD_VALUE_OFFSET, LogEntry.COMMIT_OFFSET);
        assertEquals(LogEntry.OBJECT_CRC_OFFSET, LogEntry.COMMIT_OFFSET + LogEntry.COMMIT_LENGTH,
            "the commit covers the old value and its checksum and stops before the object checksum");
        assertEquals(0, LogEntry.NEXT_OFFSET % 8);
        assertEquals(0, LogEntry.TAIL_OFFSET % 8);
        assertEquals(0, SizeClasses.objectSize(0) % 8, "so the entry (at S - 32) stays 8-byte aligned");
    }

    @Test
    void blockHeaderFieldsFitBeforeTheBitmap()
    {
        assertFields("BlockHeader", BlockHeader.HEADER_LENGTH,
            field("magic", BlockHeader.MAGIC_OFFSET, 4),
            field("owner", BlockHeader.OWNER_OFFSET, 2),
            field("size class", BlockHeader.SIZE_CLASS_OFFSET, 1),
            field("object size", BlockHeader.OBJECT_SIZE_OFFSET, 4),
            field("object count", BlockHeader.OBJECT_COUNT_OFFSET, 4),
            field("generation", BlockHeader.GENERATION_OFFSET, 4));
        assertEquals(0, BlockHeader.BITMAP_OFFSET % 8, "bitmap words are FAA-aligned");
    }

    @Test
    void regionHeaderFieldsFitItsPage()
    {
        assertFields("RegionLayout header", RegionLayout.HEADER_FIELDS_LENGTH,
            field("magic", RegionLayout.MAGIC_OFFSET, 8),
            field("layout version", RegionLayout.LAYOUT_VERSION_OFFSET, 4),
            field("region id", RegionLayout.REGION_ID_OFFSET, 4),
            field("region size", RegionLayout.REGION_SIZE_OFFSET, 4),
            field("block size", RegionLayout.BLOCK_SIZE_OFFSET, 4),
            field("block count", RegionLayout.BLOCK_COUNT_OFFSET, 4),
            field("index area length", RegionLayout.INDEX_AREA_LENGTH_OFFSET, 4),
            field("bat offset", RegionLayout.BAT_OFFSET_OFFSET, 4),
            field("first block offset", RegionLayout.FIRST_BLOCK_OFFSET_OFFSET, 4),
            field("index next free", RegionLayout.INDEX_NEXT_FREE_OFFSET, 8),
            field("log heads offset", RegionLayout.CLIENT_LOG_HEADS_OFFSET_OFFSET, 4),
            field("max clients", RegionLayout.MAX_CLIENTS_OFFSET, 4));
        assertTrue(RegionLayout.HEADER_FIELDS_LENGTH <= RegionLayout.HEADER_LENGTH);
        assertEquals(0, RegionLayout.INDEX_NEXT_FREE_OFFSET % 8, "the bump pointer is FAA-aligned");
    }

    @Test
    void indexRootHeaderFieldsFitBeforeTheDirectory()
    {
        assertFields("IndexRoot header", IndexRoot.HEADER_LENGTH,
            field("root word", IndexRoot.ROOT_WORD_OFFSET, 8),
            field("max global depth", IndexRoot.MAX_GLOBAL_DEPTH_OFFSET, 1),
            field("bucket groups", IndexRoot.BUCKET_GROUPS_OFFSET, 4));
        assertEquals(0, IndexRoot.DIRECTORY_OFFSET % 8);
    }

    @Test
    void regionMapHeaderTilesItsTwentyFourBytes()
    {
        assertFields("RegionMap header", RegionMap.HEADER_LENGTH,
            field("magic", RegionMap.MAGIC_OFFSET, 4),
            field("format", RegionMap.FORMAT_OFFSET, 2),
            field("replication", RegionMap.REPLICATION_OFFSET, 1),
            field("reserved", RegionMap.REPLICATION_OFFSET + 1, 1),
            field("epoch", RegionMap.EPOCH_OFFSET, 8),
            field("memory nodes", RegionMap.MEMORY_NODES_OFFSET, 4),
            field("regions", RegionMap.REGIONS_OFFSET, 4));
    }

    @Test
    void theCheckerItselfCatchesOverlapsAndOverruns()
    {
        assertThrows(() -> assertFields("t", 8, field("a", 0, 4), field("b", 3, 2)));
        assertThrows(() -> assertFields("t", 8, field("a", 6, 4)));
    }

    private static int[] field(final String name, final int offset, final int length)
    {
        return new int[] {offset, length, name.hashCode()};
    }

    private static void assertFields(final String layout, final int length, final int[]... fields)
    {
        final boolean[] used = new boolean[length];
        for (final int[] f : fields)
        {
            assertTrue(f[0] >= 0 && f[0] + f[1] <= length,
                layout + ": field at " + f[0] + " of " + f[1] + " bytes exceeds " + length);
            for (int b = f[0]; b < f[0] + f[1]; b++)
            {
                assertTrue(!used[b], layout + ": byte " + b + " belongs to two fields");
                used[b] = true;
            }
        }
    }

    private static void assertThrows(final Runnable check)
    {
        try
        {
            check.run();
        }
        catch (final AssertionError expected)
        {
            return;
        }
        fail("the field checker accepted a broken layout");
    }
}
