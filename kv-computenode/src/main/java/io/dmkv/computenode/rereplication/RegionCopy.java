package io.dmkv.computenode.rereplication;

import java.util.zip.CRC32C;

import org.agrona.concurrent.UnsafeBuffer;

import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;

/**
 * The copy of one region from its primary onto a joining replica, chunk by chunk. Nobody but the
 * copier writes a joining replica (writers and readers use the full replicas only), so the copier
 * knows what the joiner holds without reading it: it keeps a CRC-32C of every chunk it wrote, and
 * a pass reads the primary's chunks and writes those whose CRC differs from what it wrote last.
 * The first pass writes everything; later passes write what changed on the primary meanwhile; the
 * last pass, run while writes are held (the region sealed and its replicas re-keyed), makes the
 * joiner equal the primary byte for byte. Not thread-safe.
 */
final class RegionCopy
{
    /** Bytes per READ and WRITE of the copy. */
    static final int CHUNK = 1 << 20;

    private final VerbsClient client;
    private final int length;
    private final int[] crcs;
    private final boolean[] written;
    private final UnsafeBuffer chunk = new UnsafeBuffer(new byte[CHUNK]);
    private final CRC32C crc = new CRC32C();
    private long bytesWritten;

    RegionCopy(final VerbsClient client, final long length)
    {
        this.client = client;
        this.length = (int)length;
        final int chunks = (int)((length + CHUNK - 1) / CHUNK);
        this.crcs = new int[chunks];
        this.written = new boolean[chunks];
    }

    /**
     * One pass from {@code primary} to {@code joiner}.
     *
     * @return the number of chunks written (0: the joiner already equalled the primary as read).
     */
    int pass(final RemoteRegion primary, final RemoteRegion joiner)
    {
        if (joiner.length() < length)
        {
            throw new IllegalStateException("memory node " + joiner.channel().node() + "'s region " + joiner.id()
                + " holds " + joiner.length() + " bytes, less than the " + length + " of the region copied to it");
        }
        int changed = 0;
        final VerbBatch b = new VerbBatch();
        for (int c = 0; c < crcs.length; c++)
        {
            final int at = c * CHUNK;
            final int n = Math.min(CHUNK, length - at);
            b.reset().read(primary, at, chunk, 0, n);
            client.execute(b);
            crc.reset();
            crc.update(chunk.byteArray(), 0, n);
            final int value = (int)crc.getValue();
            if (written[c] && crcs[c] == value)
            {
                continue;
            }
            b.reset().write(joiner, at, chunk, 0, n);
            client.execute(b);
            crcs[c] = value;
            written[c] = true;
            bytesWritten += n;
            changed++;
        }
        return changed;
    }

    /** Bytes written to the joiner so far. */
    long bytesWritten()
    {
        return bytesWritten;
    }

    /** Chunks in the region. */
    int chunks()
    {
        return crcs.length;
    }
}
