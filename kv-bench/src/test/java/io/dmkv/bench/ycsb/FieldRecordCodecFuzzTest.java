package io.dmkv.bench.ycsb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.extension.ExtendWith;

import com.code_intelligence.jazzer.junit.FuzzTest;

import io.dmkv.rdma.fuzz.FuzzRotation;
import site.ycsb.ByteIterator;

/**
 * The YCSB binding's record codec on values read back from the store: a malformed record is an
 * {@link IllegalArgumentException} that says so; a well-formed one decodes the same whether all
 * fields or some are asked for, and encodes back to a record that decodes to the same fields.
 */
@ExtendWith(FuzzRotation.class)
class FieldRecordCodecFuzzTest
{
    @FuzzTest
    void records(final byte[] record)
    {
        final Map<String, byte[]> all;
        try
        {
            all = FieldRecordCodec.decodeAll(record);
        }
        catch (final IllegalArgumentException malformed)
        {
            assertTrue(malformed.getMessage().startsWith("not a YCSB field record"), malformed.getMessage());
            return;
        }
        final Map<String, ByteIterator> shared = new HashMap<>();
        FieldRecordCodec.decode(record, null, shared);
        assertEquals(all.keySet(), shared.keySet());
        for (final Map.Entry<String, ByteIterator> e : shared.entrySet())
        {
            assertArrayEquals(all.get(e.getKey()), e.getValue().toArray(), e.getKey());
        }
        final Map<String, byte[]> again = FieldRecordCodec.decodeAll(FieldRecordCodec.encode(all));
        assertEquals(all.keySet(), again.keySet());
        for (final Map.Entry<String, byte[]> e : all.entrySet())
        {
            assertArrayEquals(e.getValue(), again.get(e.getKey()), e.getKey());
        }
    }
}
