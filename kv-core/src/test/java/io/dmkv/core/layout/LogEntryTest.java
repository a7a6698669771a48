package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.Crc32cDigest;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class LogEntryTest
{
    private static final long PREV = GlobalAddress.pack(GlobalAddress.MAX_REGIONS - 1, (1 << 30) - 256);

    @Test
    void tailWordRoundTripsPrevOpAndUsed()
    {
        for (final int op : new int[] {LogEntry.OP_INSERT, LogEntry.OP_UPDATE, LogEntry.OP_DELETE})
        {
            for (final boolean used : new boolean[] {false, true})
            {
                for (final long prev : new long[] {GlobalAddress.NULL, GlobalAddress.pack(0, 256), PREV})
                {
                    final long tail = LogEntry.tail(prev, op, used);
                    assertEquals(prev, LogEntry.tailPrev(tail));
                    assertEquals(op, LogEntry.tailOp(tail));
                    assertEquals(used, LogEntry.tailUsed(tail));
                    assertEquals(0, (tail >>> 48) & 0xFF, "reserved byte");
                }
            }
        }
    }

    @Test
    void theOpUsedByteIsTheLastByteOfTheEntryWithTheUsedBitOnTop()
    {
        assertEquals(0x83, LogEntry.opUsedByte(LogEntry.OP_DELETE, true));
        assertEquals(0x01, LogEntry.opUsedByte(LogEntry.OP_INSERT, false));
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[LogEntry.LENGTH]);
        buffer.putLong(LogEntry.TAIL_OFFSET, LogEntry.tail(PREV, LogEntry.OP_UPDATE, true));
        assertEquals((byte)0x82, buffer.getByte(LogEntry.LENGTH - 1));
        assertEquals(LogEntry.LENGTH - 1, LogEntry.OP_USED_OFFSET);
        assertTrue(LogEntry.isUsed(buffer, 0));
        assertEquals(LogEntry.OP_UPDATE, LogEntry.op(buffer, 0));
        assertEquals(PREV, LogEntry.prev(buffer, 0));
    }

    @Test
    void opCodesAndPointersAreValidated()
    {
        assertEquals("op code 0 is not INSERT (1), UPDATE (2) or DELETE (3)",
            assertThrows(IllegalArgumentException.class, () -> LogEntry.validateOp(0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> LogEntry.tail(PREV, 4, true));
        assertThrows(IllegalArgumentException.class, () -> LogEntry.tail(PREV + 1, LogEntry.OP_INSERT, true));
        assertEquals("UPDATE", LogEntry.opName(LogEntry.OP_UPDATE));
        assertEquals("op#9", LogEntry.opName(9));
    }

    @Test
    void commitRecordsTheOldValueAndItsChecksumAndAnUncommittedEntryNeverPasses()
    {
        final Crc32cDigest digest = new Crc32cDigest();
        assertNotEquals(0, LogEntry.oldValueCrc(0L, digest), "CRC32C of eight zero bytes is not zero");
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        final int entry = 32;
        assertFalse(LogEntry.isCommitted(buffer, entry, digest), "all-zero entry");
        for (final long old : new long[] {0L, Slot.pack(9, 4, PREV), -1L})
        {
            LogEntry.commit(buffer, entry, old, digest);
            assertTrue(LogEntry.isCommitted(buffer, entry, digest));
            assertEquals(old, LogEntry.oldValue(buffer, entry));
        }
        buffer.putByte(entry + LogEntry.OLD_VALUE_OFFSET + 3, (byte)0x10);
        assertFalse(LogEntry.isCommitted(buffer, entry, digest), "a torn commit is detected");
        final int before = buffer.getInt(entry + LogEntry.OBJECT_CRC_OFFSET);
        LogEntry.commit(buffer, entry, 5, digest);
        assertEquals(before, buffer.getInt(entry + LogEntry.OBJECT_CRC_OFFSET), "commit stays in its 12 bytes");
    }
}
