package io.dmkv.rdma.transport.control;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * The control channel of the transports whose verbs do not travel over a connection of their own
 * ({@code local} on a shared file, {@code rdma} on queue pairs): the hello, which tells the
 * client the node's regions and keys, its shared file and its rdma port, and the node's RPCs. It
 * runs over a tcp connection to the memory-node daemon (the tcp transport's frames; no verbs go
 * over it). The tcp transport behind it starts with the first connection and closes with this.
 */
public final class ControlChannels implements AutoCloseable
{
    private final String owner;
    private VerbsTransport transport;
    private boolean closed;

    /**
     * @param owner     name of the transport using it, for messages ("local transport is closed").
     * @param transport where control channels connect (tests: a stub); null for a tcp transport of
     *                  its own. Owned by this: closed with it.
     */
    public ControlChannels(final String owner, final VerbsTransport transport)
    {
        this.owner = owner;
        this.transport = transport;
    }

    /** Connects to the daemon at {@code endpoint} ({@code host:port}) and says hello. */
    public VerbsChannel connect(final String endpoint, final ClientOptions options)
    {
        return transport().connect(endpoint, options);
    }

    private synchronized VerbsTransport transport()
    {
        if (closed)
        {
            throw new ConnectionException(owner + " transport is closed");
        }
        if (transport == null)
        {
            transport = new TcpVerbsTransport();
        }
        return transport;
    }

    /** Closes the transport behind the control channels; idempotent. */
    @Override
    public void close()
    {
        final VerbsTransport t;
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            t = transport;
        }
        if (t != null)
        {
            t.close();
        }
    }
}
