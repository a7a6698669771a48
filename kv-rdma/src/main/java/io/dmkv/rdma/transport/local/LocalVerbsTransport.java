package io.dmkv.rdma.transport.local;

import java.nio.file.Files;
import java.nio.file.Path;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.ConnectionException;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.ProtocolVersion;
import io.dmkv.rdma.VerbsChannel;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.server.MemoryNodeService;
import io.dmkv.rdma.server.RegionTable;
import io.dmkv.rdma.transport.control.ControlChannels;

/**
 * The {@code local} transport: verbs run on the memory node's memory directly, with CPU atomics.
 * {@code mem:NAME} reaches a memory node in this JVM; {@code host:port} reaches a daemon on this
 * host started with {@code --shm-file}: the hello (and every RPC) goes over the control channel,
 * and the verbs work on the daemon's shared file mapping.
 */
public final class LocalVerbsTransport implements VerbsTransport
{
    public static final String NAME = "local";

    private final ControlChannels control = new ControlChannels(NAME, null);

    @Override
    public String name()
    {
        return NAME;
    }

    @Override
    public VerbsChannel connect(final String endpoint, final ClientOptions options)
    {
        if (endpoint.startsWith(LocalMemoryNodes.SCHEME))
        {
            final String name = endpoint.substring(LocalMemoryNodes.SCHEME.length());
            final MemoryNodeService service = LocalMemoryNodes.lookup(name);
            if (service == null)
            {
                throw new ConnectionException("no memory node named '" + name + "' in this JVM (endpoint " + endpoint + ")");
            }
            // In this JVM: no secret to prove, the caller already holds the node itself.
            final String refused = service.checkHello(ProtocolVersion.MAGIC, ProtocolVersion.PROTOCOL,
                options.layoutVersion());
            if (refused != null)
            {
                throw new HandshakeException("memory node " + name + " refused the hello: " + refused);
            }
            return LocalVerbsChannel.inProcess(endpoint, service);
        }
        final VerbsChannel control = this.control.connect(endpoint, options);
        final String shm = control.node().shmFile();
        if (shm.isEmpty())
        {
            control.close();
            throw new ConnectionException(control.node() + " has no shared memory file; the local transport needs a "
                + "daemon started with --shm-file on this host (or use the tcp transport)");
        }
        final Path file = Path.of(shm);
        if (!Files.isReadable(file) || !Files.isWritable(file))
        {
            control.close();
            throw new ConnectionException(control.node() + " shares " + shm + ", which this process cannot open "
                + "read-write: is the daemon on another host? Use the tcp transport there");
        }
        final RegionTable mapped;
        try
        {
            mapped = RegionTable.attach(file);
        }
        catch (final RuntimeException e)
        {
            control.close();
            throw new ConnectionException("cannot map " + shm + " of " + control.node() + ": " + e.getMessage(), e);
        }
        return LocalVerbsChannel.shared(control, mapped);
    }

    @Override
    public void close()
    {
        control.close();
    }
}
