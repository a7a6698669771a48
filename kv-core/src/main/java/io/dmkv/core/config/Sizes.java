package io.dmkv.core.config;

import java.util.Locale;

/**
 * Parses and prints byte sizes as users write them: {@code 4096}, {@code 64K}, {@code 256M},
 * {@code 4G}, {@code 1T} (binary units; an optional trailing {@code B} or {@code iB} is allowed).
 */
public final class Sizes
{
    private Sizes()
    {
    }

    /** @throws IllegalArgumentException with a message naming the bad text. */
    public static long parse(final String text)
    {
        if (text == null || text.isBlank())
        {
            throw new IllegalArgumentException("empty size");
        }
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB"))
        {
            s = s.substring(0, s.length() - 2);
        }
        else if (s.endsWith("B"))
        {
            s = s.substring(0, s.length() - 1);
        }
        int shift = 0;
        if (!s.isEmpty())
        {
            switch (s.charAt(s.length() - 1))
            {
                case 'K': shift = 10; break;
                case 'M': shift = 20; break;
                case 'G': shift = 30; break;
                case 'T': shift = 40; break;
                default: break;
            }
        }
        if (shift > 0)
        {
            s = s.substring(0, s.length() - 1);
        }
        final long n;
        try
        {
            n = Long.parseLong(s.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("not a size: '" + text + "' (use e.g. 4096, 64K, 256M, 4G)");
        }
        if (n < 0)
        {
            throw new IllegalArgumentException("size must not be negative: '" + text + "'");
        }
        if (shift > 0 && n > (Long.MAX_VALUE >> shift))
        {
            throw new IllegalArgumentException("size too large: '" + text + "'");
        }
        return n << shift;
    }

    /** A size in the largest binary unit that divides it, or with one decimal otherwise. */
    public static String format(final long bytes)
    {
        final String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        double v = bytes;
        while (v >= 1024 && u < units.length - 1)
        {
            v /= 1024;
            u++;
        }
        return (v == Math.rint(v) ? String.valueOf((long)v) : String.format(Locale.ROOT, "%.1f", v)) + " " + units[u];
    }
}
