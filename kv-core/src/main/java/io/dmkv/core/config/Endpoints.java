package io.dmkv.core.config;

/**
 * Checks memory-node addresses as users write them: {@code HOST:PORT} ({@code [v6]:PORT} for an
 * IPv6 host), or {@code mem:NAME} for a node in this JVM. Checked where they are given, so a
 * missing port is a usage error that names the entry, not a connection failure later.
 */
public final class Endpoints
{
    /** Prefix of an in-JVM node's endpoint. */
    public static final String IN_JVM_PREFIX = "mem:";

    private Endpoints()
    {
    }

    /** What is wrong with {@code endpoint}, or null when it is a usable address. */
    public static String problem(final String endpoint)
    {
        if (endpoint == null || endpoint.isBlank())
        {
            return "an empty memory node address";
        }
        final String e = endpoint.trim();
        if (e.startsWith(IN_JVM_PREFIX))
        {
            return e.length() > IN_JVM_PREFIX.length() ? null : "'" + e + "' names no in-JVM node (mem:NAME)";
        }
        final int colon = e.lastIndexOf(':');
        final boolean bareV6 = colon > 0 && e.indexOf(':') != colon && !e.startsWith("[");
        if (colon <= 0 || bareV6 || colon == e.length() - 1)
        {
            return "'" + e + "' has no port: write HOST:PORT (e.g. " + (bareV6 ? "[" + e + "]" : e) + ":7410)";
        }
        final String port = e.substring(colon + 1);
        try
        {
            final int p = Integer.parseInt(port);
            return p >= 1 && p <= 65_535 ? null : "'" + e + "' has port " + p + ", not in 1..65535";
        }
        catch (final NumberFormatException x)
        {
            return "'" + e + "' has no port: write HOST:PORT (the part after the last ':' is '" + port + "')";
        }
    }

    /** {@code endpoint}, trimmed; {@link IllegalArgumentException} with {@link #problem} if it is unusable. */
    public static String require(final String endpoint)
    {
        final String problem = problem(endpoint);
        if (problem != null)
        {
            throw new IllegalArgumentException(problem);
        }
        return endpoint.trim();
    }
}
