package io.dmkv.rdma;

import java.util.List;
import java.util.Locale;

import io.dmkv.rdma.transport.local.LocalVerbsTransport;
import io.dmkv.rdma.transport.rdma.RdmaVerbsTransport;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/** Creates transports by their configuration name. */
public final class VerbsTransports
{
    public static final List<String> NAMES = List.of(LocalVerbsTransport.NAME, TcpVerbsTransport.NAME,
        RdmaVerbsTransport.NAME);

    private VerbsTransports()
    {
    }

    /**
     * @throws IllegalArgumentException        for an unknown name.
     * @throws TransportUnavailableException   when the transport cannot start on this machine.
     */
    public static VerbsTransport create(final String name)
    {
        final String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        switch (n)
        {
            case LocalVerbsTransport.NAME:
                return new LocalVerbsTransport();
            case TcpVerbsTransport.NAME:
                return new TcpVerbsTransport();
            case RdmaVerbsTransport.NAME:
                return new RdmaVerbsTransport();
            default:
                throw new IllegalArgumentException("unknown transport '" + name + "'; choose one of " + NAMES);
        }
    }
}
