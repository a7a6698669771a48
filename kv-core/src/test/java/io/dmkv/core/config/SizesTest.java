package io.dmkv.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizesTest
{
    @Test
    void parsesPlainAndBinaryUnits()
    {
        assertEquals(4096, Sizes.parse("4096"));
        assertEquals(64 * 1024, Sizes.parse("64K"));
        assertEquals(256L << 20, Sizes.parse("256m"));
        assertEquals(4L << 30, Sizes.parse("4G"));
        assertEquals(4L << 30, Sizes.parse("4GiB"));
        assertEquals(1L << 40, Sizes.parse(" 1T "));
        assertEquals(512, Sizes.parse("512B"));
    }

    @Test
    void rejectsGarbageWithTheTextInTheMessage()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse("lots"));
        assertTrue(e.getMessage().contains("lots"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse(""));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("-5M"));
        assertThrows(IllegalArgumentException.class, () -> Sizes.parse("99999999999T"));
    }

    @Test
    void formatsInTheLargestUnit()
    {
        assertEquals("4 GiB", Sizes.format(4L << 30));
        assertEquals("1.5 KiB", Sizes.format(1536));
        assertEquals("100 B", Sizes.format(100));
    }
}
