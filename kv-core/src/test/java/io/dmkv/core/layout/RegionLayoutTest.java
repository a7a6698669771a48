package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmkv.core.address.GlobalAddress;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class RegionLayoutTest
{
    private static final int MIB = 1 << 20;

    @Test
    void headerIndexAreaTableAndBlocksAreDisjointPageAlignedAndFitTheRegion()
    {
        final int[] regionSizes = {16 * 1024, 64 * 1024, MIB, 8 * MIB, 1 << 30};
        final int[] blockSizes = {4096, 65_536, MIB, 16 * MIB, 64 * MIB};
        final int[] indexAreas = {0, 4096, 65_536};
        for (final int regionSize : regionSizes)
        {
            for (final int blockSize : blockSizes)
            {
                for (final int indexArea : indexAreas)
                {
                    if (indexArea > regionSize - RegionLayout.HEADER_LENGTH)
                    {
                        continue;
                    }
                    final String what = regionSize + "/" + blockSize + "/" + indexArea;
                    final int n = RegionLayout.blockCount(regionSize, blockSize, indexArea);
                    final int bat = RegionLayout.batOffset(indexArea);
                    final int first = RegionLayout.firstBlockOffset(indexArea, n);
                    assertEquals(RegionLayout.INDEX_AREA_OFFSET + indexArea, bat, what);
                    assertTrue(first >= bat + 8L * n, what);
                    assertEquals(0, first % RegionLayout.PAGE, what);
                    assertTrue((long)first + (long)n * blockSize <= regionSize, what);
                    final long nextFirst = bat + RegionLayout.batLength(n + 1);
                    assertTrue(nextFirst + (long)(n + 1) * blockSize > regionSize, what + ": one more block fits");
                }
            }
        }
        assertEquals(63, RegionLayout.blockCount(1 << 30, 16 * MIB, 0), "the header costs a 1 GiB region one block");
        assertEquals(15, RegionLayout.blockCount(1 << 30, 64 * MIB, 0));
    }

    @Test
    void formatWritesAConsistentHeaderAndAFreeTableButLeavesBlocksAlone()
    {
        final UnsafeBuffer region = new UnsafeBuffer(new byte[MIB]);
        region.setMemory(0, MIB, (byte)0xAB);
        final int blocks = RegionLayout.format(region, 3, MIB, 65_536, 8192);
        assertEquals(RegionLayout.blockCount(MIB, 65_536, 8192), blocks);
        assertTrue(RegionLayout.isFormatted(region));
        RegionLayout.validateHeader(region, 3);
        assertEquals(LayoutVersion.VERSION, RegionLayout.layoutVersion(region));
        assertEquals(3, RegionLayout.regionId(region));
        assertEquals(MIB, RegionLayout.regionSize(region));
        assertEquals(65_536, RegionLayout.blockSize(region));
        assertEquals(blocks, RegionLayout.blockCount(region));
        assertEquals(8192, RegionLayout.indexAreaLength(region));
        assertEquals(4096 + 8192, RegionLayout.batOffset(region));
        assertEquals(RegionLayout.INDEX_AREA_OFFSET, RegionLayout.indexNextFree(region));
        assertEquals(0, RegionLayout.clientLogHeadsOffset(region));
        assertEquals(0, RegionLayout.maxClients(region));
        for (int b = 0; b < blocks; b++)
        {
            assertTrue(BlockAllocationTable.isFree(BlockAllocationTable.entry(region, RegionLayout.batOffset(region), b)));
        }
        assertEquals((byte)0xAB, region.getByte(RegionLayout.firstBlockOffset(region)), "blocks are the owner's");
        assertEquals((byte)0xAB, region.getByte(RegionLayout.INDEX_AREA_OFFSET), "index area is the index's");
        assertEquals("DMKVRGN1", new String(region.byteArray(), 0, 8, java.nio.charset.StandardCharsets.US_ASCII));
    }

    @Test
    void aDataRegionHeadWrittenOverOldBytesEqualsAFormattedDataRegion()
    {
        final UnsafeBuffer region = new UnsafeBuffer(new byte[MIB]);
        region.setMemory(0, MIB, (byte)0x5C);
        RegionLayout.format(region, 7, MIB, 65_536, 0);
        final int length = RegionLayout.dataRegionHeadLength(MIB, 65_536);
        assertEquals(RegionLayout.firstBlockOffset(region), length);
        final UnsafeBuffer head = new UnsafeBuffer(new byte[length]);
        head.setMemory(0, length, (byte)0x5C);
        assertEquals(RegionLayout.blockCount(region), RegionLayout.formatDataRegionHead(head, 7, MIB, 65_536));
        RegionLayout.validateHeader(head, 7);
        for (int i = 0; i < length; i++)
        {
            assertEquals(region.getByte(i), head.getByte(i), "byte " + i);
        }
        assertTrue(assertThrows(IllegalArgumentException.class, () -> RegionLayout.formatDataRegionHead(
            new UnsafeBuffer(new byte[length - 1]), 7, MIB, 65_536)).getMessage().contains("head"));
        assertThrows(IllegalArgumentException.class, () -> RegionLayout.formatDataRegionHead(head, 0, MIB, 65_536));
    }

    @Test
    void noObjectCanSitAtOffsetZeroSoAddressZeroStaysNull()
    {
        final UnsafeBuffer region = new UnsafeBuffer(new byte[MIB]);
        RegionLayout.formatRoot(region, MIB, 4096, 65_536, 4, 16);
        final int block0 = RegionLayout.firstBlockOffset(region);
        final int n = BlockHeader.objectsPerBlock(4096, 256);
        final int firstObject = block0 + BlockHeader.objectOffset(n, 256, 0);
        assertTrue(firstObject >= RegionLayout.HEADER_LENGTH);
        assertTrue(GlobalAddress.isObjectAddress(GlobalAddress.pack(RegionLayout.ROOT_REGION_ID, firstObject)));
    }

    @Test
    void rootRegionHoldsTheRootThenTheLogHeadsThenSubtables()
    {
        final UnsafeBuffer region = new UnsafeBuffer(new byte[MIB]);
        region.setMemory(0, MIB, (byte)0x11);
        RegionLayout.formatRoot(region, MIB, 65_536, 256 * 1024, 4, 16);
        RegionLayout.validateHeader(region, 0);
        assertEquals(8192, RegionLayout.clientLogHeadsOffset(region), "root of depth 4 rounds up to one page");
        assertEquals(RegionLayout.clientLogHeadsOffset(4), RegionLayout.clientLogHeadsOffset(region));
        assertEquals(16, RegionLayout.maxClients(region));
        assertEquals(4096 + 4096 + 4096, RegionLayout.indexNextFree(region), "subtables start after both");
        assertEquals(0, region.getByte(RegionLayout.ROOT_OFFSET), "root area is zeroed");
        assertEquals(0, region.getByte(8192 + 16 * 152 - 1), "log heads are zeroed");
        assertEquals(0x11, region.getByte(12_288), "subtable space is not");
        assertEquals(36_864 + 155_648, RegionLayout.rootAreaLength(12, 1024),
            "defaults: a 32 KiB directory plus its header, rounded to 36 KiB, then 152 KiB of log heads");
    }

    @Test
    void formatRefusesWrongRegionsAndSizesWithClearMessages()
    {
        final UnsafeBuffer region = new UnsafeBuffer(new byte[MIB]);
        assertEquals("region 0 holds the index root: use formatRoot",
            assertThrows(IllegalArgumentException.class, () -> RegionLayout.format(region, 0, MIB, 4096, 0))
                .getMessage());
        assertEquals("the root region's index area of 4096 bytes is smaller than the 192512 bytes its root"
            + " (max global depth 12) and log heads (1024 clients) need",
            assertThrows(IllegalArgumentException.class, () -> RegionLayout.formatRoot(region, MIB, 4096, 4096, 12, 1024))
                .getMessage());
        assertEquals("region size 2147483648 must be a multiple of 4096 from 16384 (16 KiB) to 1073741824 (1 GiB)",
            assertThrows(IllegalArgumentException.class, () -> RegionLayout.validateRegionSize(1L << 31)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> RegionLayout.validateRegionSize(MIB + 100));
        assertEquals("index area length 100 must be a multiple of 4096 from 0 to 1044480 (the region less its header)",
            assertThrows(IllegalArgumentException.class, () -> RegionLayout.blockCount(MIB, 4096, 100)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> RegionLayout.format(region, 1, 2 * MIB, 4096, 0));
        assertThrows(IllegalArgumentException.class, () -> RegionLayout.format(region, 1, MIB, 3000, 0));
    }

    @Test
    void validateHeaderRejectsForeignOrDamagedHeaders()
    {
        final UnsafeBuffer region = new UnsafeBuffer(new byte[MIB]);
        assertEquals("region 2 is not formatted (no region header magic)",
            assertThrows(IllegalStateException.class, () -> RegionLayout.validateHeader(region, 2)).getMessage());
        RegionLayout.format(region, 2, MIB, 65_536, 0);
        assertEquals("region 5 carries the header of region 2",
            assertThrows(IllegalStateException.class, () -> RegionLayout.validateHeader(region, 5)).getMessage());
        region.putInt(RegionLayout.BLOCK_COUNT_OFFSET, RegionLayout.blockCount(region) + 1);
        final String inconsistent =
            assertThrows(IllegalStateException.class, () -> RegionLayout.validateHeader(region, 2)).getMessage();
        assertTrue(inconsistent.startsWith("region 2 has an inconsistent header"), inconsistent);
        RegionLayout.format(region, 2, MIB, 65_536, 0);
        region.putInt(RegionLayout.BLOCK_SIZE_OFFSET, 3);
        final String invalid =
            assertThrows(IllegalStateException.class, () -> RegionLayout.validateHeader(region, 2)).getMessage();
        assertTrue(invalid.startsWith("region 2 has an invalid header: block size 3"), invalid);
        RegionLayout.format(region, 2, MIB, 65_536, 0);
        region.putInt(RegionLayout.LAYOUT_VERSION_OFFSET, 2);
        final String old =
            assertThrows(IllegalStateException.class, () -> RegionLayout.validateHeader(region, 2)).getMessage();
        assertTrue(old.startsWith("region 2 was formatted with layout version 2, but this build reads only layout"
            + " version 4; memory of another layout version is not upgraded in place"), old);
    }

    @Test
    void blockIndexOfMapsOffsetsToBlocks()
    {
        final int first = 3 * 4096;
        assertEquals(-1, RegionLayout.blockIndexOf(first, 4096, 10, first - 1));
        assertEquals(0, RegionLayout.blockIndexOf(first, 4096, 10, first));
        assertEquals(9, RegionLayout.blockIndexOf(first, 4096, 10, first + 10 * 4096 - 1));
        assertEquals(-1, RegionLayout.blockIndexOf(first, 4096, 10, first + 10 * 4096));
        assertEquals(first + 2 * 4096, RegionLayout.blockOffset(first, 4096, 2));
    }
}
