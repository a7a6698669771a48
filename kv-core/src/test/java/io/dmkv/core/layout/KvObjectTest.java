package io.dmkv.core.layout;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;

import io.dmkv.core.TestBuffers;
import io.dmkv.core.address.GlobalAddress;
import io.dmkv.core.hash.Crc32cDigest;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class KvObjectTest
{
    private static final long NEXT = GlobalAddress.pack(4, 0x10_0000);
    private static final long PREV = GlobalAddress.pack(GlobalAddress.MAX_REGIONS - 1, (1 << 30) - 256);
    private static final int AT = 512;

    private final Crc32cDigest digest = new Crc32cDigest();

    @Test
    void limitsFollowFromTheLargestObject()
    {
        assertEquals(40, KvObject.OVERHEAD);
        assertEquals(1024, KvObject.MAX_KEY_LENGTH);
        assertEquals(63_960, KvObject.MAX_VALUE_LENGTH);
        assertEquals(SizeClasses.MAX_OBJECT_SIZE,
            KvObject.requiredLength(KvObject.MAX_KEY_LENGTH, KvObject.MAX_VALUE_LENGTH));
    }

    @Test
    void encodeThenValidateAndDecodeAtTheEdgesInEveryKindOfBuffer()
    {
        final int[][] lengths = {{0, 0}, {1, 1}, {0, 216}, {8, 1024}, {1024, 0}, {1024, 63_960}};
        for (final UnsafeBuffer buffer : TestBuffers.allKinds(AT + SizeClasses.MAX_OBJECT_SIZE))
        {
            for (final int[] kv : lengths)
            {
                final byte[] key = bytes(kv[0], kv[0]);
                final byte[] value = bytes(kv[1], kv[1] + 1);
                final int sizeClass = SizeClasses.sizeClassFor(key.length, value.length);
                final int size = KvObject.encode(buffer, AT, sizeClass, key, value, LogEntry.OP_UPDATE, NEXT, PREV,
                    digest);
                final String what = TestBuffers.kind(buffer) + " buffer, key " + kv[0] + ", value " + kv[1];
                assertEquals(KvObject.usedLength(kv[0], kv[1]), size, what);
                assertEquals(ObjectStatus.OK, KvObject.validate(buffer, AT, size, digest), what);
                assertEquals(ObjectStatus.OK, KvObject.validate(buffer, AT, SizeClasses.objectSize(sizeClass), digest),
                    what + ", read as its whole class");
                assertEquals(ObjectStatus.OK, KvObject.validate(buffer, AT,
                    Slot.codeLength(Slot.lengthCode(sizeClass, size)), digest), what + ", read by its slot's length");
                assertEquals(sizeClass, KvObject.sizeClass(buffer, AT));
                assertArrayEquals(key, KvObject.keyBytes(buffer, AT), what);
                assertArrayEquals(value, KvObject.valueBytes(buffer, AT), what);
                assertTrue(KvObject.keyEquals(buffer, AT, key), what);
                assertArrayEquals(value, KvObject.valueIfHolds(buffer, AT, size, key, digest), what);
                assertArrayEquals(value, KvObject.valueIfHolds(buffer, AT, SizeClasses.objectSize(sizeClass), key,
                    digest), what + ", read as its whole class");
                if (kv[0] > 0)
                {
                    final byte[] other = key.clone();
                    other[kv[0] - 1] ^= 1;
                    assertNull(KvObject.valueIfHolds(buffer, AT, size, other, digest), what + ", another key");
                }
                assertNull(KvObject.valueIfHolds(buffer, AT, size, bytes(kv[0] + 1, 9), digest), what + ", a longer key");
                final int entry = KvObject.entryOffset(buffer, AT);
                assertEquals(AT + size - LogEntry.LENGTH, entry, what);
                assertEquals(NEXT, LogEntry.next(buffer, entry));
                assertEquals(PREV, LogEntry.prev(buffer, entry));
                assertEquals(LogEntry.OP_UPDATE, LogEntry.op(buffer, entry));
                assertTrue(LogEntry.isUsed(buffer, entry));
                assertEquals(0L, LogEntry.oldValue(buffer, entry));
                assertFalse(LogEntry.isCommitted(buffer, entry, digest), what);
            }
        }
        assertEquals(0, SizeClasses.sizeClassFor(0, 216), "216 bytes of value exactly fill 256");
    }

    @Test
    void encodingFromBuffersWritesTheSameBytesAsFromArrays()
    {
        final byte[] key = bytes(33, 1);
        final byte[] value = bytes(700, 2);
        final UnsafeBuffer fromArrays = new UnsafeBuffer(new byte[1024]);
        final UnsafeBuffer fromBuffers = new UnsafeBuffer(new byte[1024]);
        final UnsafeBuffer source = TestBuffers.raw(2000);
        source.putBytes(100, key);
        source.putBytes(1000, value);
        final int sizeClass = SizeClasses.sizeClassFor(33, 700);
        KvObject.encode(fromArrays, 0, sizeClass, key, value, LogEntry.OP_INSERT, 0, PREV, digest);
        KvObject.encode(fromBuffers, 0, sizeClass, source, 100, 33, source, 1000, 700, LogEntry.OP_INSERT, 0, PREV,
            digest);
        assertArrayEquals(fromArrays.byteArray(), fromBuffers.byteArray());
    }

    @Test
    void flippingAnyBitOfAnyProtectedByteIsDetected()
    {
        final UnsafeBuffer original = smallObject();
        final int size = KvObject.usedLength(20, 100);
        final List<Integer> protectedBytes = new ArrayList<>();
        for (int b = 1; b < KvObject.dataLength(20, 100); b++)
        {
            protectedBytes.add(b);
        }
        for (int b = 0; b < 8; b++)
        {
            protectedBytes.add(size - LogEntry.LENGTH + LogEntry.NEXT_OFFSET + b);
            protectedBytes.add(size - LogEntry.LENGTH + LogEntry.TAIL_OFFSET + b);
        }
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[512]);
        for (final int b : protectedBytes)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                final ObjectStatus status = KvObject.validate(flip(original, copy, b, bit), 0, size, digest);
                assertTrue(EnumSet.of(ObjectStatus.BAD_CHECKSUM, ObjectStatus.BAD_HEADER, ObjectStatus.NOT_USED)
                    .contains(status), "byte " + b + " bit " + bit + " gave " + status);
                if (b >= KvObject.KEY_OFFSET && b < KvObject.dataLength(20, 100))
                {
                    assertEquals(ObjectStatus.BAD_CHECKSUM, status, "key/value byte " + b);
                }
            }
        }
    }

    @Test
    void valueIfHoldsAgreesWithValidateAndKeyEqualsWhateverByteIsDamaged()
    {
        final byte[] key = bytes(20, 3);
        final byte[] value = bytes(100, 4);
        final UnsafeBuffer original = smallObject();
        final int size = KvObject.usedLength(20, 100);
        final UnsafeBuffer copy = new UnsafeBuffer(new byte[512]);
        int refused = 0;
        for (int b = 0; b < size; b++)
        {
            for (int bit = 0; bit < 8; bit++)
            {
                flip(original, copy, b, bit);
                final boolean holds = KvObject.validate(copy, 0, size, digest) == ObjectStatus.OK
                    && KvObject.keyEquals(copy, 0, key);
                final byte[] got = KvObject.valueIfHolds(copy, 0, size, key, digest);
                assertEquals(holds, got != null, "byte " + b + " bit " + bit);
                if (got != null)
                {
                    assertArrayEquals(value, got, "byte " + b + " bit " + bit);
                }
                else
                {
                    refused++;
                }
            }
        }
        assertTrue(refused > 8 * (KvObject.dataLength(20, 100) - 1), "every protected byte's flips are refused");
        for (final int length : new int[] {size - 1, 0, KvObject.OVERHEAD - 1, 256 + 64})
        {
            assertNull(KvObject.valueIfHolds(original, 0, length, key, digest), "read length " + length);
        }
    }

    /**
     * Memory that a writer reuses while it is read (the local transport lends a node's own memory):
     * the object is replaced right when the value is copied out. What comes back is either nothing
     * or the whole value of an object of this key, never a mix.
     */
    @Test
    void anObjectReusedWhileItsValueIsCopiedIsNeverReturnedTorn()
    {
        final byte[] key = bytes(16, 5);
        final byte[] first = bytes(300, 6);
        final byte[] second = bytes(300, 7);
        final byte[] otherKey = bytes(16, 8);
        final int sizeClass = SizeClasses.sizeClassFor(16, 300);
        for (int scenario = 0; scenario < 4; scenario++)
        {
            final int s = scenario;
            final Crc32cDigest writerDigest = new Crc32cDigest();
            final UnsafeBuffer memory = new UnsafeBuffer(new byte[1024])
            {
                @Override
                public void getBytes(final int index, final byte[] dst)
                {
                    switch (s)
                    {
                        case 0: // the same key with another value and another log link
                            KvObject.encode(this, 0, sizeClass, key, second, LogEntry.OP_UPDATE, NEXT, 0, writerDigest);
                            break;
                        case 1: // another key
                            KvObject.encode(this, 0, sizeClass, otherKey, second, LogEntry.OP_INSERT, NEXT, PREV,
                                writerDigest);
                            break;
                        case 2: // half the value written when the copy runs
                            KvObject.encode(this, 0, sizeClass, key, second, LogEntry.OP_UPDATE, NEXT, PREV, writerDigest);
                            putBytes(KvObject.KEY_OFFSET + 16 + 150, first, 150, 150);
                            break;
                        default: // the same key and value again: the value read is whole either way
                            KvObject.encode(this, 0, sizeClass, key, first, LogEntry.OP_INSERT, NEXT, PREV, writerDigest);
                            break;
                    }
                    super.getBytes(index, dst);
                }
            };
            final int size = KvObject.encode(memory, 0, sizeClass, key, first, LogEntry.OP_INSERT, NEXT, PREV, digest);
            final byte[] got = KvObject.valueIfHolds(memory, 0, size, key, digest);
            if (scenario == 0)
            {
                assertTrue(got == null || Arrays.equals(got, second), "nothing, or the new object's whole value");
            }
            else if (scenario == 3)
            {
                assertArrayEquals(first, got);
            }
            else
            {
                assertNull(got, "scenario " + scenario);
            }
        }
    }

    @Test
    void paddingAndTheCommitAreOutsideTheChecksum()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[1024]);
        final int size = KvObject.encode(buffer, 0, 2, bytes(10, 5), bytes(10, 6), LogEntry.OP_INSERT, NEXT, PREV,
            digest);
        buffer.putByte(100, (byte)0x55);
        buffer.putByte(size - LogEntry.LENGTH - 1, (byte)0x66);
        final int entry = KvObject.entryOffset(buffer, 0);
        LogEntry.commit(buffer, entry, Slot.pack(7, 1, NEXT), digest);
        assertEquals(ObjectStatus.OK, KvObject.validate(buffer, 0, SizeClasses.objectSize(2), digest));
        assertEquals(ObjectStatus.BAD_HEADER, KvObject.validate(buffer, 0, size, digest),
            "a read of class 0's length never takes a class-2 object");
        assertTrue(LogEntry.isCommitted(buffer, entry, digest));
    }

    @Test
    void theUsedBitIsTheLastByteSoAnObjectMissingOnlyItsLastByteIsNotUsed()
    {
        for (int sizeClass = 0; sizeClass < SizeClasses.COUNT; sizeClass++)
        {
            final UnsafeBuffer source = new UnsafeBuffer(new byte[SizeClasses.MAX_OBJECT_SIZE]);
            final int size = KvObject.encode(source, 0, sizeClass, bytes(16, 7), bytes(200, 8), LogEntry.OP_DELETE, 0, 0,
                digest);
            assertEquals(LogEntry.USED_BIT, source.getByte(size - 1) & LogEntry.USED_BIT, "class " + sizeClass);
            final UnsafeBuffer landing = new UnsafeBuffer(new byte[SizeClasses.MAX_OBJECT_SIZE]);
            landing.putBytes(0, source, 0, size - 1);
            final int read = Slot.codeLength(Slot.lengthCode(sizeClass, size));
            assertEquals(ObjectStatus.NOT_USED, KvObject.validate(landing, 0, read, digest), "class " + sizeClass);
            landing.putByte(size - 1, source.getByte(size - 1));
            assertEquals(ObjectStatus.OK, KvObject.validate(landing, 0, read, digest), "class " + sizeClass);
        }
    }

    @Test
    void theValidByteSeparatesCurrentFromSupersededObjects()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[256]);
        KvObject.encode(buffer, 0, 0, bytes(4, 9), bytes(4, 10), LogEntry.OP_INSERT, 0, 0, digest);
        assertTrue(KvObject.isValid(buffer, 0));
        KvObject.invalidate(buffer, 0);
        assertFalse(KvObject.isValid(buffer, 0));
        assertEquals(ObjectStatus.INVALID, KvObject.validate(buffer, 0, 256, digest));
        buffer.putByte(KvObject.VALID_OFFSET, (byte)7);
        assertEquals(ObjectStatus.BAD_HEADER, KvObject.validate(buffer, 0, 256, digest));
    }

    @Test
    void aReadOfTheWrongLengthIsNeverOk()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[2048]);
        final int size = KvObject.encode(buffer, 0, 1, bytes(10, 1), bytes(300, 2), LogEntry.OP_INSERT, 0, 0, digest);
        assertEquals(352, size, "8 + 10 + 300 rounded up to 320, + 32");
        assertEquals(ObjectStatus.OK, KvObject.validate(buffer, 0, 352, digest));
        assertEquals(ObjectStatus.OK, KvObject.validate(buffer, 0, 512, digest));
        assertEquals(ObjectStatus.BAD_HEADER, KvObject.validate(buffer, 0, 320, digest), "shorter than the object");
        assertEquals(ObjectStatus.BAD_HEADER, KvObject.validate(buffer, 0, 768, digest), "a class-2 length");
        buffer.putByte(KvObject.SIZE_CLASS_OFFSET, (byte)2);
        assertEquals(ObjectStatus.BAD_HEADER, KvObject.validate(buffer, 0, 512, digest), "header says class 2");
    }

    @Test
    void randomGarbageWithTheUsedBitSetIsNeverOk()
    {
        final SplittableRandom random = new SplittableRandom(99);
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[512]);
        for (int i = 0; i < 5000; i++)
        {
            final byte[] garbage = new byte[512];
            random.nextBytes(garbage);
            garbage[0] = KvObject.VALID;
            garbage[511] = (byte)(0x80 | (1 + random.nextInt(3)));
            buffer.putBytes(0, garbage);
            assertNotEquals(ObjectStatus.OK, KvObject.validate(buffer, 0, 512, digest));
        }
    }

    @Test
    void keyEqualsComparesEveryByteWithoutAllocating()
    {
        final byte[] key = bytes(29, 11);
        final UnsafeBuffer object = new UnsafeBuffer(new byte[256]);
        KvObject.encode(object, 0, 0, key, new byte[0], LogEntry.OP_INSERT, 0, 0, digest);
        assertTrue(KvObject.keyEquals(object, 0, key));
        for (final int i : new int[] {0, 7, 8, 15, 28})
        {
            final byte[] other = key.clone();
            other[i] ^= 1;
            assertFalse(KvObject.keyEquals(object, 0, other), "differs at " + i);
        }
        assertFalse(KvObject.keyEquals(object, 0, java.util.Arrays.copyOf(key, 28)));
        assertFalse(KvObject.keyEquals(object, 0, java.util.Arrays.copyOf(key, 30)));
        final UnsafeBuffer raw = TestBuffers.raw(64);
        raw.putBytes(3, key);
        assertTrue(KvObject.keyEquals(object, 0, raw, 3, 29));
        raw.putByte(3 + 28, (byte)(key[28] ^ 1));
        assertFalse(KvObject.keyEquals(object, 0, raw, 3, 29));
        KvObject.encode(object, 0, 0, new byte[0], new byte[0], LogEntry.OP_DELETE, 0, 0, digest);
        assertTrue(KvObject.keyEquals(object, 0, new byte[0]));
    }

    @Test
    void encodeRejectsWhatCannotBeStoredWithClearMessages()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[SizeClasses.MAX_OBJECT_SIZE]);
        assertEquals("a 10-byte key and a 300-byte value need 352 bytes (size class 1), but size class 0 holds 256",
            assertThrows(IllegalArgumentException.class,
                () -> KvObject.encode(buffer, 0, 0, bytes(10, 0), bytes(300, 0), LogEntry.OP_INSERT, 0, 0, digest))
                .getMessage());
        assertThrows(IllegalArgumentException.class,
            () -> KvObject.encode(buffer, 0, 0, bytes(1, 0), bytes(1, 0), 0, 0, 0, digest));
        final String next = assertThrows(IllegalArgumentException.class,
            () -> KvObject.encode(buffer, 0, 0, bytes(1, 0), bytes(1, 0), LogEntry.OP_INSERT, NEXT + 8, 0, digest))
            .getMessage();
        assertTrue(next.startsWith("next pointer r4+0x100008 is not an object address"), next);
        assertThrows(IllegalArgumentException.class,
            () -> KvObject.encode(buffer, 0, 0, bytes(1025, 0), bytes(1, 0), LogEntry.OP_INSERT, 0, 0, digest));
        assertThrows(IndexOutOfBoundsException.class,
            () -> KvObject.encode(buffer, SizeClasses.MAX_OBJECT_SIZE - 40, 0, bytes(1, 0), bytes(1, 0),
                LogEntry.OP_INSERT, 0, 0, digest));
    }

    @Property(tries = 300)
    void anyKeyAndValueRoundTripAndAnyFlippedKeyOrValueByteIsCaught(
        @ForAll @Size(max = 1024) final byte[] key, @ForAll @Size(max = 3000) final byte[] value,
        @ForAll @IntRange(min = 1, max = 3) final int op, @ForAll @IntRange(min = 0, max = 1_000_000) final int flipSeed)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[8192]);
        final int sizeClass = SizeClasses.sizeClassFor(key.length, value.length);
        final int size = KvObject.encode(buffer, 0, sizeClass, key, value, op, NEXT, PREV, digest);
        assertEquals(ObjectStatus.OK, KvObject.validate(buffer, 0, size, digest));
        assertArrayEquals(key, KvObject.keyBytes(buffer, 0));
        assertArrayEquals(value, KvObject.valueBytes(buffer, 0));
        assertArrayEquals(value, KvObject.valueIfHolds(buffer, 0, size, key, digest));
        assertEquals(op, LogEntry.op(buffer, KvObject.entryOffset(buffer, 0)));
        if (key.length + value.length > 0)
        {
            final int b = KvObject.KEY_OFFSET + flipSeed % (key.length + value.length);
            buffer.putByte(b, (byte)(buffer.getByte(b) ^ (1 << (flipSeed % 8))));
            assertEquals(ObjectStatus.BAD_CHECKSUM, KvObject.validate(buffer, 0, size, digest));
            assertNull(KvObject.valueIfHolds(buffer, 0, size, key, digest));
        }
    }

    /** A 20-byte key ({@code bytes(20, 3)}) and a 100-byte value ({@code bytes(100, 4)}) at 0 of a 512-byte buffer. */
    private UnsafeBuffer smallObject()
    {
        final UnsafeBuffer b = new UnsafeBuffer(new byte[512]);
        KvObject.encode(b, 0, 0, bytes(20, 3), bytes(100, 4), LogEntry.OP_INSERT, NEXT, PREV, digest);
        return b;
    }

    /** {@code copy} made equal to {@code original}, then bit {@code bit} of byte {@code b} flipped. */
    private static UnsafeBuffer flip(final UnsafeBuffer original, final UnsafeBuffer copy, final int b, final int bit)
    {
        copy.putBytes(0, original, 0, original.capacity());
        copy.putByte(b, (byte)(copy.getByte(b) ^ (1 << bit)));
        return copy;
    }

    private static byte[] bytes(final int length, final int seed)
    {
        final byte[] b = new byte[length];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }
}
