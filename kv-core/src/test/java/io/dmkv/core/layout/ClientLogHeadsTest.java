package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dmkv.core.address.GlobalAddress;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class ClientLogHeadsTest
{
    @Test
    void recordsAre152BytesOneHeadPerSizeClassAndAHeartbeatIndexedFromClientOne()
    {
        assertEquals(152, ClientLogHeads.RECORD_LENGTH);
        assertEquals(144, ClientLogHeads.HEARTBEAT_OFFSET);
        assertEquals(0, ClientLogHeads.recordOffset(1));
        assertEquals(152, ClientLogHeads.recordOffset(2));
        assertEquals(152 + 136, ClientLogHeads.headOffset(2, 17));
        assertEquals(65_534 * 152, ClientLogHeads.recordOffset(65_535));
        assertEquals(1024 * 152, ClientLogHeads.length(ClientLogHeads.DEFAULT_MAX_CLIENTS));
    }

    @Test
    void headsRoundTripWithoutTouchingTheirNeighbours()
    {
        final int table = 4096;
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[table + ClientLogHeads.length(4)]);
        final long head = GlobalAddress.pack(9, 0x20_0000);
        ClientLogHeads.putHead(buffer, table, 3, 7, head);
        assertEquals(head, ClientLogHeads.head(buffer, table, 3, 7));
        assertEquals(0L, ClientLogHeads.head(buffer, table, 3, 6));
        assertEquals(0L, ClientLogHeads.head(buffer, table, 3, 8));
        assertEquals(0L, ClientLogHeads.head(buffer, table, 2, 7));
        assertEquals(0L, ClientLogHeads.head(buffer, table, 4, 7));
        ClientLogHeads.putHead(buffer, table, 3, 7, GlobalAddress.NULL);
        assertEquals(0L, ClientLogHeads.head(buffer, table, 3, 7));
    }

    @Test
    void clientIdsClassesAndHeadsAreValidated()
    {
        assertEquals("client id 0 is outside 1..65535",
            assertThrows(IllegalArgumentException.class, () -> ClientLogHeads.recordOffset(0)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClientLogHeads.recordOffset(65_536));
        assertEquals("size class 18 is outside 0..17",
            assertThrows(IllegalArgumentException.class, () -> ClientLogHeads.headOffset(1, 18)).getMessage());
        assertEquals("maximum number of clients 0 is outside 1..65535",
            assertThrows(IllegalArgumentException.class, () -> ClientLogHeads.length(0)).getMessage());
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        assertThrows(IllegalArgumentException.class,
            () -> ClientLogHeads.putHead(buffer, 0, 1, 0, GlobalAddress.pack(1, 300)));
    }
}
