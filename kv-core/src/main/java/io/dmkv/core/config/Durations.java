package io.dmkv.core.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Parses durations as users write them: {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}, or ISO {@code PT10S}. */
public final class Durations
{
    private Durations()
    {
    }

    public static Duration parse(final String text)
    {
        if (text == null || text.isBlank())
        {
            throw new IllegalArgumentException("empty duration");
        }
        final String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.startsWith("pt") || s.startsWith("p"))
        {
            try
            {
                return Duration.parse(s.toUpperCase(Locale.ROOT));
            }
            catch (final DateTimeParseException e)
            {
                throw new IllegalArgumentException("not a duration: '" + text + "'");
            }
        }
        int split = 0;
        while (split < s.length() && (Character.isDigit(s.charAt(split)) || s.charAt(split) == '.'))
        {
            split++;
        }
        if (split == 0)
        {
            throw new IllegalArgumentException("not a duration: '" + text + "' (use e.g. 500ms, 10s, 2m)");
        }
        final double n;
        try
        {
            n = Double.parseDouble(s.substring(0, split));
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("not a duration: '" + text + "'");
        }
        final String unit = s.substring(split).trim();
        final double nanos;
        switch (unit)
        {
            case "ns": nanos = n; break;
            case "us": nanos = n * 1e3; break;
            case "ms": nanos = n * 1e6; break;
            case "":
            case "s": nanos = n * 1e9; break;
            case "m":
            case "min": nanos = n * 60e9; break;
            case "h": nanos = n * 3600e9; break;
            default: throw new IllegalArgumentException("unknown unit '" + unit + "' in duration '" + text + "'");
        }
        if (nanos > Long.MAX_VALUE)
        {
            throw new IllegalArgumentException("duration too long: '" + text + "'");
        }
        return Duration.ofNanos((long)nanos);
    }
}
