package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmkv.core.address.GlobalAddress;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class IndexRootTest
{
    private static final long SUBTABLE = GlobalAddress.pack(GlobalAddress.MAX_REGIONS - 1, (1 << 30) - 256);

    @Test
    void rootWordRoundTripsAtTheEdges()
    {
        for (final int depth : new int[] {0, 1, 15, 16})
        {
            for (final long version : new long[] {0, 1, IndexRoot.MAX_VERSION})
            {
                for (final boolean locked : new boolean[] {false, true})
                {
                    final long word = IndexRoot.rootWord(depth, locked, version);
                    assertEquals(depth, IndexRoot.globalDepth(word));
                    assertEquals(version, IndexRoot.version(word));
                    assertEquals(locked, IndexRoot.isLocked(word));
                }
            }
        }
        assertEquals(0L, IndexRoot.rootWord(0, false, 0), "a zeroed root is depth 0, version 0, unlocked");
    }

    @Test
    void nextRootWordBumpsTheVersionUnlocksAndWraps()
    {
        final long locked = IndexRoot.rootWord(3, true, 41);
        final long next = IndexRoot.nextRootWord(locked, 4);
        assertEquals(4, IndexRoot.globalDepth(next));
        assertEquals(42, IndexRoot.version(next));
        assertFalse(IndexRoot.isLocked(next));
        assertEquals(0, IndexRoot.version(IndexRoot.nextRootWord(IndexRoot.rootWord(1, false, IndexRoot.MAX_VERSION), 1)));
    }

    @Test
    void rootWordRejectsDepthAndVersionOutOfRange()
    {
        assertEquals("global depth 17 is outside 0..16",
            assertThrows(IllegalArgumentException.class, () -> IndexRoot.rootWord(17, false, 0)).getMessage());
        assertEquals("root version 281474976710656 does not fit 48 bits",
            assertThrows(IllegalArgumentException.class, () -> IndexRoot.rootWord(1, false, 1L << 48)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> IndexRoot.rootWord(1, false, -1));
    }

    @Test
    void directoryEntryRoundTripsAndLocks()
    {
        final long entry = IndexRoot.entry(SUBTABLE, 16, false);
        assertEquals(SUBTABLE, IndexRoot.entrySubtable(entry));
        assertEquals(16, IndexRoot.entryLocalDepth(entry));
        assertFalse(IndexRoot.isEntryLocked(entry));
        final long locked = IndexRoot.lockEntry(entry);
        assertTrue(IndexRoot.isEntryLocked(locked));
        assertEquals(SUBTABLE, IndexRoot.entrySubtable(locked));
        assertEquals(16, IndexRoot.entryLocalDepth(locked));
        assertEquals(entry, IndexRoot.unlockEntry(locked));
        assertEquals(IndexRoot.entry(SUBTABLE, 16, true), locked);
    }

    @Test
    void directoryEntryRejectsSubtablesThatAreNotAlignedAddresses()
    {
        assertThrows(IllegalArgumentException.class, () -> IndexRoot.entry(GlobalAddress.NULL, 0, false));
        assertThrows(IllegalArgumentException.class, () -> IndexRoot.entry(SUBTABLE + 64, 0, false));
        assertEquals("local depth 17 is outside 0..16",
            assertThrows(IllegalArgumentException.class, () -> IndexRoot.entry(SUBTABLE, 17, false)).getMessage());
    }

    @Test
    void lengthIsHeaderPlusOneWordPerDirectoryEntry()
    {
        assertEquals(64 + 8, IndexRoot.length(0));
        assertEquals(64 + 8 * 4096, IndexRoot.length(IndexRoot.DEFAULT_MAX_GLOBAL_DEPTH));
        assertEquals(64 + 8 * 65_536, IndexRoot.length(16));
        assertThrows(IllegalArgumentException.class, () -> IndexRoot.length(17));
        assertEquals(IndexRoot.HEADER_LENGTH, IndexRoot.entryOffset(0));
        assertEquals(IndexRoot.length(16) - 8, IndexRoot.entryOffset(65_535));
        assertThrows(IllegalArgumentException.class, () -> IndexRoot.entryOffset(65_536));
    }

    @Test
    void formatWritesGeometryAndAnEmptyDirectory()
    {
        final int offset = 128;
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[offset + IndexRoot.length(4)]);
        buffer.setMemory(0, buffer.capacity(), (byte)0x77);
        IndexRoot.format(buffer, offset, 4, 3, 2);
        assertEquals(IndexRoot.rootWord(2, false, 0), IndexRoot.rootWord(buffer, offset));
        assertEquals(4, IndexRoot.maxGlobalDepth(buffer, offset));
        assertEquals(3, IndexRoot.bucketGroups(buffer, offset));
        for (int i = 0; i < 16; i++)
        {
            assertEquals(0L, IndexRoot.entry(buffer, offset, i));
        }
        IndexRoot.putEntry(buffer, offset, 15, IndexRoot.entry(SUBTABLE, 4, false));
        assertEquals(SUBTABLE, IndexRoot.entrySubtable(buffer.getLong(offset + IndexRoot.length(4) - 8)));
        assertEquals(0x77, buffer.getByte(offset - 1));
        assertEquals("initial global depth 5 is outside 0..4 (the maximum global depth)",
            assertThrows(IllegalArgumentException.class, () -> IndexRoot.format(buffer, offset, 4, 3, 5)).getMessage());
    }
}
