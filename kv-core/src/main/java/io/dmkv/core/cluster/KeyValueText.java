package io.dmkv.core.cluster;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The znode payload format for records people read with ZooKeeper's own tools: UTF-8
 * {@code key=value} lines, in insertion order. Values may not hold line breaks.
 */
public final class KeyValueText
{
    private KeyValueText()
    {
    }

    public static byte[] encode(final Map<String, String> fields)
    {
        final StringBuilder sb = new StringBuilder();
        fields.forEach((k, v) ->
        {
            if (v.indexOf('\n') >= 0 || k.indexOf('=') >= 0)
            {
                throw new IllegalArgumentException("field " + k + " cannot be stored: line break or '=' in it");
            }
            sb.append(k).append('=').append(v).append('\n');
        });
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static Map<String, String> decode(final byte[] data)
    {
        final Map<String, String> out = new LinkedHashMap<>();
        if (data == null)
        {
            return out;
        }
        for (final String line : new String(data, StandardCharsets.UTF_8).split("\n"))
        {
            final int eq = line.indexOf('=');
            if (eq > 0)
            {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return out;
    }
}
