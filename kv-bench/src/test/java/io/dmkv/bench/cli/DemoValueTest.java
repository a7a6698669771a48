package io.dmkv.bench.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.junit.jupiter.api.Test;

/** The demo's self-checking values. */
class DemoValueTest
{
    @Test
    void aValueChecksAsItsOwnKeyAndTicket()
    {
        for (final int length : new int[] {16, 17, 24, 1024, 1031})
        {
            assertEquals(42, DemoValue.check(7, DemoValue.encode(7, 42, length), length), "length " + length);
        }
    }

    @Test
    void keysHaveTheirFixedLength()
    {
        final byte[] key = DemoValue.key(1_234_567_890L);
        assertEquals(DemoValue.KEY_LENGTH, key.length);
        assertEquals("key:1234567890", new String(key, StandardCharsets.US_ASCII));
        assertEquals(DemoValue.KEY_LENGTH, DemoValue.key(0).length);
    }

    @Test
    void anotherKeysValueIsRejected()
    {
        final IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> DemoValue.check(8, DemoValue.encode(7, 1, 64), 64));
        assertTrue(e.getMessage().contains("holds the value of key 7"), e.getMessage());
    }

    @Test
    void everyCorruptedByteIsNoticed()
    {
        final byte[] good = DemoValue.encode(3, 9, 100);
        for (int at = DemoValue.HEADER_LENGTH; at < good.length; at++)
        {
            final byte[] bad = good.clone();
            bad[at] ^= 1;
            final int i = at;
            assertThrows(IllegalStateException.class, () -> DemoValue.check(3, bad, 100), "byte " + i);
        }
        final byte[] torn = good.clone();
        System.arraycopy(DemoValue.encode(3, 10, 100), 50, torn, 50, 50);
        assertThrows(IllegalStateException.class, () -> DemoValue.check(3, torn, 100), "half of another write");
    }

    @Test
    void missingOrMisSizedValuesAreRejected()
    {
        assertThrows(IllegalStateException.class, () -> DemoValue.check(1, null, 64));
        assertThrows(IllegalStateException.class, () -> DemoValue.check(1, DemoValue.encode(1, 0, 63), 64));
    }
}
