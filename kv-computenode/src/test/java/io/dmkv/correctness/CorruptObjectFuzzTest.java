package io.dmkv.correctness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.KvException;
import io.dmkv.KvStore;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.layout.KvObject;
import io.dmkv.core.layout.Slot;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.RemoteRegion;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.fuzz.FuzzRotation;

/**
 * A corrupted or hostile KV object or slot in memory-node memory, read through the client: a
 * GET answers the value that was stored, not found, or a {@link KvException} that says why;
 * never another value, another exception, or a hang. Afterwards the damage is undone and the
 * store answers the stored value again.
 *
 * <p>Input: {@code key:u8 target:u8 offset:u16 damage} (target even: the key's object, odd: its
 * slot; at most 8 damage bytes, written at offset mod the target's length).
 */
@ExtendWith(FuzzRotation.class)
class CorruptObjectFuzzTest
{
    private static final int KEYS = 8;
    private static final long HANG_SECONDS = 20;
    private static EmbeddedCluster cluster;
    private static KvStore store;
    private static Fixtures.Raw raw;
    private static final byte[][] VALUES = new byte[KEYS][];

    @BeforeAll
    static void start()
    {
        cluster = Fixtures.cluster(1, 16 << 20, 8 << 20, "local");
        store = KvStore.open(Fixtures.small(cluster, 1).opTimeout(Duration.ofSeconds(5)).build());
        raw = new Fixtures.Raw(cluster, 1);
        for (int k = 0; k < KEYS; k++)
        {
            VALUES[k] = new byte[1 + 97 * k * k];
            Arrays.fill(VALUES[k], (byte)('a' + k));
            store.put(key(k), VALUES[k]);
        }
    }

    @AfterAll
    static void stop()
    {
        raw.close();
        store.close();
        cluster.close();
    }

    private static byte[] key(final int k)
    {
        return Fixtures.utf8("fuzz-key-" + k);
    }

    @FuzzTest
    void damage(final byte[] input) throws Exception
    {
        if (input.length < 4)
        {
            return;
        }
        final int k = (input[0] & 0xFF) % KEYS;
        final long[] slot = raw.findSlot(key(k));
        assertNotNull(slot, "key " + k + " has no slot");
        final boolean object = (input[1] & 1) == 0;
        final long at = object ? Slot.address(slot[1]) : slot[0];
        final int length = object ? Slot.objectLength(slot[1]) : Slot.LENGTH;
        final int offset = (((input[2] & 0xFF) << 8) | (input[3] & 0xFF)) % length;
        final byte[] damage = Arrays.copyOfRange(input, 4, Math.min(input.length, 12));
        final int n = Math.min(damage.length, length - offset);
        final byte[] before = new byte[n];
        access(at + offset, before, false);
        access(at + offset, Arrays.copyOf(damage, n), true);
        try
        {
            final byte[] got = store.getAsync(key(k)).get(HANG_SECONDS, TimeUnit.SECONDS);
            if (got != null)
            {
                assertArrayEquals(VALUES[k], got, "a damaged object gave another value");
            }
            final ByteBuffer into = ByteBuffer.allocate(VALUES[k].length);
            final int read = store.get(key(k), into);
            assertTrue(read < 0 || read == VALUES[k].length, "a damaged object gave " + read + " bytes");
        }
        catch (final ExecutionException e)
        {
            if (!(e.getCause() instanceof KvException))
            {
                throw new AssertionError("a damaged object made GET fail with " + e.getCause(), e.getCause());
            }
        }
        catch (final KvException expected)
        {
            // A clear refusal.
        }
        catch (final TimeoutException e)
        {
            fail("GET of a damaged object hung for " + HANG_SECONDS + " s");
        }
        finally
        {
            access(at + offset, before, true);
        }
        assertArrayEquals(VALUES[k], store.get(key(k)), "the store did not recover once the damage was undone");
    }

    @Test
    void aDamagedValueIsAClearErrorNotATimeout()
    {
        final long[] slot = raw.findSlot(key(3));
        final long value = Slot.address(slot[1]) + KvObject.HEADER_LENGTH + key(3).length;
        final byte[] before = new byte[1];
        access(value, before, false);
        access(value, new byte[] {(byte)~before[0]}, true);
        try
        {
            final KvException e = assertThrows(KvException.class, () -> store.get(key(3)));
            assertTrue(e.getMessage().contains("damaged on " + 4 + " reads in a row"), e.getMessage());
        }
        finally
        {
            access(value, before, true);
        }
        assertArrayEquals(VALUES[3], store.get(key(3)));
    }

    /** Reads or writes {@code bytes} at {@code address} of the primary. */
    private static void access(final long address, final byte[] bytes, final boolean write)
    {
        if (bytes.length == 0)
        {
            return;
        }
        final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
        final RemoteRegion region = raw.view.replicaOf(address, 0);
        final VerbBatch b = new VerbBatch();
        if (write)
        {
            b.write(region, GlobalAddress.offset(address), buffer, 0, bytes.length);
        }
        else
        {
            b.read(region, GlobalAddress.offset(address), buffer, 0, bytes.length);
        }
        raw.client.execute(b);
    }
}
