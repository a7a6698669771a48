package io.dmkv.rdma.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/** Checks that a memory node still serves a well-behaved client, whatever was done to it before. */
final class Serving
{
    private Serving()
    {
    }

    /**
     * A new client connects with {@code options} and two FAAs at {@code offset} of region 0 see
     * each other; returns the lanes its blocking calls opened (1, or 0 where lanes are off: TLS).
     */
    static int assertServes(final String endpoint, final ClientOptions options, final long offset)
    {
        try (TcpVerbsTransport tcp = new TcpVerbsTransport();
            VerbsClient c = VerbsClient.connect(tcp, List.of(endpoint), options))
        {
            final VerbBatch b = new VerbBatch();
            b.faa(c.channel(0).region(0), offset, 1);
            c.execute(b);
            final VerbBatch again = new VerbBatch();
            final int at = again.faa(c.channel(0).region(0), offset, 1);
            c.execute(again);
            assertEquals(b.result(0) + 1, again.result(at));
            return ((TcpVerbsChannel)c.channel(0)).laneCount();
        }
    }
}
