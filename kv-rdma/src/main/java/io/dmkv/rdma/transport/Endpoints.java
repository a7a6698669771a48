package io.dmkv.rdma.transport;

/** Memory-node endpoints as {@code host:port}, IPv6 hosts in brackets. */
public final class Endpoints
{
    private Endpoints()
    {
    }

    /** The host of {@code host:port}, without brackets. */
    public static String host(final String endpoint)
    {
        final int colon = colon(endpoint);
        final String host = endpoint.substring(0, colon);
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }

    /** The port of {@code host:port}, checked to be 1..65535. */
    public static int port(final String endpoint)
    {
        final String port = endpoint.substring(colon(endpoint) + 1);
        try
        {
            final int p = Integer.parseInt(port);
            if (p >= 1 && p <= 65_535)
            {
                return p;
            }
        }
        catch (final NumberFormatException e)
        {
            // reported below
        }
        throw new IllegalArgumentException("bad port in memory node endpoint '" + endpoint + "'");
    }

    private static int colon(final String endpoint)
    {
        final int colon = endpoint.lastIndexOf(':');
        if (colon <= 0 || colon == endpoint.length() - 1)
        {
            throw new IllegalArgumentException("memory node endpoint must be HOST:PORT, got '" + endpoint + "'");
        }
        return colon;
    }
}
