package io.dmkv.bench.ycsb;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

import io.dmkv.core.layout.KvObject;
import site.ycsb.ByteIterator;
import site.ycsb.StringByteIterator;

class FieldRecordCodecTest
{
    @Test
    void decodeAllReturnsWhatEncodeWasGivenInOrder()
    {
        final Random random = new Random(7);
        for (int round = 0; round < 200; round++)
        {
            final Map<String, byte[]> fields = randomFields(random);
            final Map<String, byte[]> back = FieldRecordCodec.decodeAll(FieldRecordCodec.encode(fields));
            assertEquals(fields.keySet().stream().toList(), back.keySet().stream().toList());
            fields.forEach((name, value) -> assertArrayEquals(value, back.get(name), name));
        }
    }

    @Test
    void mergeSetsFieldsInPlaceAndAddsNewOnesAtTheEndLikeDecodeAllPutAllEncode()
    {
        final Random random = new Random(11);
        for (int round = 0; round < 300; round++)
        {
            final Map<String, byte[]> fields = randomFields(random);
            final int n = fields.size();
            final Map<String, byte[]> fresh = new LinkedHashMap<>();
            final int m = random.nextInt(4);
            for (int j = 0; j < m; j++)
            {
                // Names the record has and names it lacks.
                fresh.put("field" + random.nextInt(n + 3) + (random.nextBoolean() ? "é" : ""),
                    randomBytes(random, random.nextInt(200)));
            }
            final byte[] record = FieldRecordCodec.encode(fields);
            final Map<String, byte[]> expected = FieldRecordCodec.decodeAll(record);
            expected.putAll(fresh);
            assertArrayEquals(FieldRecordCodec.encode(expected), FieldRecordCodec.merge(record, fresh), "round " + round);
        }
    }

    @Test
    void mergeOfOneYcsbFieldChangesOnlyThatFieldsBytes()
    {
        final Map<String, byte[]> fields = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++)
        {
            fields.put("field" + i, new byte[100]);
        }
        final byte[] record = FieldRecordCodec.encode(fields);
        final byte[] merged = FieldRecordCodec.merge(record, Map.of("field3", bytes("x".repeat(100))));
        assertEquals(record.length, merged.length);
        final Map<String, byte[]> back = FieldRecordCodec.decodeAll(merged);
        assertEquals(fields.keySet().stream().toList(), back.keySet().stream().toList());
        assertArrayEquals(bytes("x".repeat(100)), back.get("field3"));
        assertArrayEquals(new byte[100], back.get("field4"));
    }

    @Test
    void mergeRefusesABrokenRecordAndAResultLargerThanADmkvValue()
    {
        final byte[] record = FieldRecordCodec.encode(Map.of("a", bytes("1")));
        assertThrows(IllegalArgumentException.class,
            () -> FieldRecordCodec.merge(Arrays.copyOf(record, record.length - 1), Map.of("a", bytes("2"))));
        final IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
            () -> FieldRecordCodec.merge(record, Map.of("b", new byte[KvObject.MAX_VALUE_LENGTH])));
        assertTrue(tooLarge.getMessage().contains(String.valueOf(KvObject.MAX_VALUE_LENGTH)), tooLarge.getMessage());
    }

    /** Up to 11 fields named field0, field1é, ... (every third with a non-ASCII name), of up to 299 random bytes. */
    private static Map<String, byte[]> randomFields(final Random random)
    {
        final Map<String, byte[]> fields = new LinkedHashMap<>();
        final int n = random.nextInt(12);
        for (int i = 0; i < n; i++)
        {
            fields.put("field" + i + (i % 3 == 0 ? "é" : ""), randomBytes(random, random.nextInt(300)));
        }
        return fields;
    }

    private static byte[] randomBytes(final Random random, final int length)
    {
        final byte[] b = new byte[length];
        random.nextBytes(b);
        return b;
    }

    @Test
    void ycsbsDefaultRecordTakes1102Bytes()
    {
        final Map<String, byte[]> fields = new LinkedHashMap<>();
        for (int i = 0; i < 10; i++)
        {
            fields.put("field" + i, new byte[100]);
        }
        assertEquals(1102, FieldRecordCodec.encode(fields).length);
    }

    @Test
    void decodeWithFieldNamesReturnsOnlyThose()
    {
        final byte[] record = FieldRecordCodec.encode(Map.of("a", bytes("1"), "b", bytes("22"), "c", bytes("333")));
        final Map<String, ByteIterator> out = new HashMap<>();
        FieldRecordCodec.decode(record, Set.of("a", "c", "missing"), out);
        assertEquals(Set.of("a", "c"), out.keySet());
        assertEquals("1", out.get("a").toString());
        assertEquals("333", out.get("c").toString());

        final Map<String, ByteIterator> all = new HashMap<>();
        FieldRecordCodec.decode(record, null, all);
        assertEquals(Set.of("a", "b", "c"), all.keySet());
        assertEquals("22", all.get("b").toString());
    }

    @Test
    void toBytesReadsYcsbsIterators()
    {
        final Map<String, byte[]> bytes = FieldRecordCodec.toBytes(StringByteIterator.getByteIteratorMap(
            Map.of("f", "value")));
        assertArrayEquals(bytes("value"), bytes.get("f"));
    }

    @Test
    void aTruncatedOrPaddedRecordIsRefused()
    {
        final byte[] record = FieldRecordCodec.encode(Map.of("name", bytes("value")));
        for (int cut = 0; cut < record.length; cut++)
        {
            final byte[] truncated = Arrays.copyOf(record, cut);
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FieldRecordCodec.decodeAll(truncated));
            assertTrue(e.getMessage().startsWith("not a YCSB field record"), e.getMessage());
        }
        final byte[] padded = Arrays.copyOf(record, record.length + 1);
        assertThrows(IllegalArgumentException.class, () -> FieldRecordCodec.decode(padded, null, new HashMap<>()));
    }

    @Test
    void aRecordLargerThanADmkvValueIsRefusedWithTheLimit()
    {
        final Map<String, byte[]> fields = new LinkedHashMap<>();
        fields.put("a", new byte[40_000]);
        fields.put("b", new byte[40_000]);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> FieldRecordCodec.encode(fields));
        assertTrue(e.getMessage().contains(Integer.toString(KvObject.MAX_VALUE_LENGTH)), e.getMessage());

        final Map<String, byte[]> fits = new LinkedHashMap<>();
        fits.put("a", new byte[KvObject.MAX_VALUE_LENGTH - FieldRecordCodec.FIRST_FIELD_OFFSET - 5]);
        assertEquals(KvObject.MAX_VALUE_LENGTH, FieldRecordCodec.encode(fits).length);
    }

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
