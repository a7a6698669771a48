package io.dmkv.rdma.contract;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;

/** The verbs contract on the localInProcess fixture. */
class LocalInProcessContractTest extends VerbsContractTest
{
    @Override
    protected TransportFixture createFixture()
    {
        return Fixtures.localInProcess();
    }

    @Test
    void aLendableReadIsAnsweredWithTheNodesOwnMemoryWhichLaterWritesChange()
    {
        final RemoteRegion r = region(1, 0);
        writeLong(r, 512, 0x1122_3344_5566_7788L);
        final VerbBatch b = new VerbBatch();
        final int i = b.readLendable(r, 512, new UnsafeBuffer(new byte[8]), 0, 8);
        client.execute(b);
        assertTrue(b.isLent(i), "local lends a lendable READ");
        assertEquals(0x1122_3344_5566_7788L, b.source(i).getLong(b.sourceOffset(i)));
        writeLong(r, 512, 42);
        assertEquals(42, b.source(i).getLong(b.sourceOffset(i)), "lent bytes are the node's memory, not a copy");
        final byte[] whole = new byte[8];
        b.source(i).getBytes(b.sourceOffset(i), whole);
        assertArrayEquals(new byte[] {42, 0, 0, 0, 0, 0, 0, 0}, whole);
    }
}
