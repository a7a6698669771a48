package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Arrays;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.core.hash.Crc32cDigest;
import io.dmkv.rdma.fuzz.FuzzRotation;

/**
 * What a client reads back from memory-node memory, decoded from arbitrary bytes: KV objects
 * (with their log entries), slots, combined buckets, the cluster descriptor and region headers.
 * Each decoder either answers (a status, a refusal) or throws the exception it documents, and a
 * KV object damaged in up to four bytes in a row is never taken for a valid object with another
 * key or value.
 *
 * <p>Input: a mode byte (even: arbitrary bytes; odd: a valid object, then damaged) then the data.
 */
@ExtendWith(FuzzRotation.class)
class LayoutFuzzTest
{
    private static final Crc32cDigest DIGEST = new Crc32cDigest();

    @FuzzTest
    void decoders(final FuzzedDataProvider data)
    {
        if ((data.consumeByte() & 1) == 0)
        {
            arbitrary(data);
        }
        else
        {
            damaged(data);
        }
    }

    private static void arbitrary(final FuzzedDataProvider data)
    {
        final int readLength = data.consumeInt(0, SizeClasses.MAX_OBJECT_SIZE);
        final byte[] bytes = data.consumeRemainingAsBytes();
        final UnsafeBuffer b = new UnsafeBuffer(new byte[Math.max(bytes.length, readLength)]);
        b.putBytes(0, bytes);

        final ObjectStatus status = KvObject.validate(b, 0, readLength, DIGEST);
        if (status == ObjectStatus.OK)
        {
            assertTrue(KvObject.usedLength(KvObject.keyLength(b, 0), KvObject.valueLength(b, 0)) <= readLength);
            assertEquals(KvObject.keyLength(b, 0), KvObject.keyBytes(b, 0).length);
            assertEquals(KvObject.valueLength(b, 0), KvObject.valueBytes(b, 0).length);
        }

        for (int at = 0; at + Slot.LENGTH <= bytes.length; at += Slot.LENGTH)
        {
            final long slot = b.getLong(at);
            if (Slot.isWellFormed(slot) && !Slot.isEmpty(slot))
            {
                assertTrue(Slot.objectLength(slot) > 0 && Slot.objectLength(slot) <= Slot.MAX_OBJECT_LENGTH);
                assertTrue(Slot.sizeClass(slot) >= 0 && Slot.sizeClass(slot) < SizeClasses.COUNT);
            }
        }
        if (bytes.length >= CombinedBucket.LENGTH)
        {
            final int matches = CombinedBucket.fingerprintMatches(b, 0, 0, bytes[0] & 0xFF);
            assertTrue(matches >= 0);
            assertTrue(CombinedBucket.emptySlots(b, 0, 0) >= 0);
        }
        try
        {
            final ClusterDescriptor.Values v = ClusterDescriptor.read(b, 0);
            assertTrue(v.nodeHashes().length >= 1 && v.nodeHashes().length <= ClusterDescriptor.MAX_NODES);
        }
        catch (final IllegalStateException refused)
        {
            assertTrue(refused.getMessage().contains("descriptor"), refused.getMessage());
        }
        catch (final IndexOutOfBoundsException tooShort)
        {
            assertTrue(b.capacity() < ClusterDescriptor.NODE_HASHES_OFFSET, "read past a long enough buffer");
        }
        if (b.capacity() >= RegionLayout.HEADER_FIELDS_LENGTH)
        {
            try
            {
                RegionLayout.validateHeader(b, RegionLayout.regionId(b));
            }
            catch (final IllegalStateException refused)
            {
                assertTrue(refused.getMessage().startsWith("region "), refused.getMessage());
            }
        }
    }

    /** A valid object with up to 4 bytes overwritten: valid only if it still holds what was written. */
    private static void damaged(final FuzzedDataProvider data)
    {
        final byte[] key = data.consumeBytes(data.consumeInt(0, 64));
        final byte[] value = data.consumeBytes(data.consumeInt(0, 512));
        final int sizeClass = SizeClasses.sizeClassFor(key.length, value.length);
        final int size = SizeClasses.objectSize(sizeClass);
        final UnsafeBuffer b = new UnsafeBuffer(new byte[size]);
        KvObject.encode(b, 0, sizeClass, key, value, LogEntry.OP_INSERT, 0, 0, DIGEST);
        assertEquals(ObjectStatus.OK, KvObject.validate(b, 0, size, DIGEST));

        final int at = data.consumeInt(0, size - 1);
        final byte[] damage = data.consumeBytes(Math.min(4, size - at));
        final byte[] before = new byte[damage.length];
        b.getBytes(at, before);
        b.putBytes(at, damage);
        final ObjectStatus status = KvObject.validate(b, 0, size, DIGEST);
        if (status == ObjectStatus.OK)
        {
            assertArrayEquals(key, KvObject.keyBytes(b, 0), "a damaged object passed with another key");
            assertArrayEquals(value, KvObject.valueBytes(b, 0), "a damaged object passed with another value");
        }
        else if (Arrays.equals(before, damage))
        {
            fail("an undamaged object failed validation: " + status);
        }
    }
}
