package io.dmkv.computenode.cluster;

import java.util.List;

import org.agrona.concurrent.NanoClock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.KvConfig;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.VerbsTransport;
import io.dmkv.rdma.VerbsTransports;

/**
 * A connection to a cluster from a {@link KvConfig}: the coordinator (when configured), the
 * transport, the verbs client and the joined cluster view. What the store's client and the
 * administration tools share; it claims no client id and owns no memory.
 */
public final class ClusterConnection implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(ClusterConnection.class);

    private final VerbsTransport transport;
    private final VerbsClient verbs;
    private final ClusterView view;
    private final CoordinatedCluster coordination;
    private final ClusterSettings settings;

    private ClusterConnection(final VerbsTransport transport, final VerbsClient verbs, final ClusterView view,
        final CoordinatedCluster coordination, final ClusterSettings settings)
    {
        this.transport = transport;
        this.verbs = verbs;
        this.view = view;
        this.coordination = coordination;
        this.settings = settings;
    }

    /** Connects (bootstrapping an empty cluster); closes what it opened if a step fails. */
    public static ClusterConnection open(final KvConfig config, final NanoClock clock)
    {
        final ClusterSettings settings = new ClusterSettings(config.replication(), config.blockSize(),
            config.bucketGroups(), config.initialDepth(), config.maxDepth(), config.maxClients(),
            config.indexAreaBytes(), config.opTimeout().plusSeconds(20));
        VerbsTransport t = null;
        VerbsClient v = null;
        CoordinatedCluster c = null;
        final ClientSecurity security = ClientSecurity.of(config);
        try
        {
            List<String> endpoints = config.memnodes();
            if (config.coordinated())
            {
                c = CoordinatedCluster.connect(config.coordinator(), config.cluster(), config.sessionTimeout(),
                    config.coordinatorConnectTimeout(), config.mapLease(), config.maxClients(), clock, security.secret());
                endpoints = c.memoryNodes(settings.formatTimeout());
            }
            else
            {
                LOG.info("static mode: memory nodes {} from the configuration, no coordinator (no fail-over, no"
                    + " proxying); set {} to run coordinated", endpoints, KvConfig.COORDINATOR);
            }
            t = VerbsTransports.create(config.transport());
            v = VerbsClient.connect(t, endpoints, security.apply(ClientOptions.builder().requestTimeout(config.requestTimeout())
                .connectTimeout(config.connectTimeout())).build());
            final ClusterView view = c != null ? c.join(v, settings, config.mode(), config.partitions())
                : ClusterBootstrap.join(v, settings);
            return new ClusterConnection(t, v, view, c, settings);
        }
        catch (final RuntimeException e)
        {
            closeQuietly(v, t, c);
            throw e;
        }
    }

    public VerbsClient verbs()
    {
        return verbs;
    }

    public ClusterView view()
    {
        return view;
    }

    public ClusterSettings settings()
    {
        return settings;
    }

    /** The coordinator connection, or null in static mode. */
    public CoordinatedCluster coordination()
    {
        return coordination;
    }

    @Override
    public void close()
    {
        closeQuietly(verbs, transport, coordination);
    }

    /** Closes each part, logging (not throwing) what fails. */
    public static void closeQuietly(final AutoCloseable... parts)
    {
        for (final AutoCloseable p : parts)
        {
            if (p == null)
            {
                continue;
            }
            try
            {
                p.close();
            }
            catch (final Exception e)
            {
                LOG.warn("could not close {}: {}", p.getClass().getSimpleName(), e.getMessage());
            }
        }
    }
}
