package io.dmkv;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.agrona.concurrent.SystemNanoClock;

import io.dmkv.computenode.cluster.ClusterConnection;
import io.dmkv.computenode.cluster.CoordinatedCluster;
import io.dmkv.computenode.index.IndexDirectory;
import io.dmkv.computenode.recovery.BlockTableScan;
import io.dmkv.computenode.recovery.ClientAliveException;
import io.dmkv.computenode.recovery.ClientRecovery;
import io.dmkv.computenode.recovery.ClusterVerifier;
import io.dmkv.core.layout.BlockAllocationTable;

/**
 * Operator's access to a cluster, beside the store: recovers a crashed client from its log,
 * verifies the cluster's consistency, and shows who holds which memory. It joins the cluster of
 * a {@link KvConfig} as a store does but claims no client id and holds no memory.
 *
 * <pre>{@code
 * try (KvAdmin admin = KvAdmin.open(config)) {
 *     KvAdmin.Recovery r = admin.recover(7);   // client 7 crashed
 *     List<String> problems = admin.verify(false);
 * }
 * }</pre>
 */
public final class KvAdmin implements AutoCloseable
{
    /** What recovering one client did (docs/recovery.md). */
    public record Recovery(int clientId, int logEntries, int committedEntries, int slotsSettled, int locksReleased,
        int blocksHandedOver, int blocksReleased, int objectsFreed, Duration took)
    {
    }

    /** Blocks of the whole cluster by state, and blocks owned per client id. */
    public record Blocks(int total, int free, int handedOver, Map<Integer, Integer> ownedPerClient)
    {
        /** Blocks owned by any client. */
        public int owned()
        {
            return ownedPerClient.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    private final ClusterConnection connection;
    private final IndexDirectory directory;
    private final ClientRecovery recovery;
    private final Duration settle;

    private KvAdmin(final ClusterConnection connection, final KvConfig config)
    {
        this.connection = connection;
        this.directory = new IndexDirectory(connection.view(), connection.verbs());
        this.recovery = new ClientRecovery(connection.view(), connection.verbs(), directory,
            config.recoveryGrace().toMillis(), config.heartbeatPeriod());
        this.settle = config.opTimeout();
    }

    /**
     * Joins the cluster of {@code config}.
     *
     * @throws KvConfigException   for a bad configuration.
     * @throws KvException         if the cluster cannot be reached.
     */
    public static KvAdmin open(final KvConfig config)
    {
        try
        {
            return new KvAdmin(ClusterConnection.open(config, SystemNanoClock.INSTANCE), config);
        }
        catch (final KvException e)
        {
            throw e;
        }
        catch (final RuntimeException e)
        {
            throw new KvException("cannot reach the cluster: " + e.getMessage(), e);
        }
    }

    /**
     * Recovers client {@code clientId} from its log (idempotent). The client must be dead: in
     * coordinated mode a client whose session is live is refused; in either mode a client whose
     * heartbeat moves while recovery watches it (3 heartbeat periods) is refused.
     *
     * @throws InvalidInputException if the id is outside 1..65,535 or belongs to a live client.
     */
    public Recovery recover(final int clientId)
    {
        if (clientId < 1 || clientId > BlockAllocationTable.MAX_CLIENT_ID)
        {
            throw new InvalidInputException("client id " + clientId + " is outside 1.."
                + BlockAllocationTable.MAX_CLIENT_ID);
        }
        final CoordinatedCluster c = connection.coordination();
        if (c != null && c.liveClientIds().contains(clientId))
        {
            throw new InvalidInputException("client " + clientId + " is alive (its coordinator session is open): it"
                + " cannot be recovered while it runs");
        }
        final ClientRecovery.Report r;
        try
        {
            r = recovery.recover(clientId);
        }
        catch (final ClientAliveException e)
        {
            throw new KvException(e.getMessage(), e);
        }
        if (c != null && c.deadClientIds().contains(clientId))
        {
            c.releaseClientId(clientId);
        }
        return new Recovery(r.clientId(), r.logEntries(), r.committedEntries(), r.slotsSettled(), r.locksReleased(),
            r.blocksHandedOver(), r.blocksReleased(), r.objectsFreed(), Duration.ofNanos(r.nanos()));
    }

    /**
     * Checks the cluster (see docs/recovery.md, "Verify"). On a live cluster, a suspicious slot is
     * re-checked after {@code dmkv.timeout} before it is reported; {@code quiesced} (no client
     * running) skips that wait.
     *
     * @return the problems found; empty if the cluster is consistent.
     */
    public List<String> verify(final boolean quiesced)
    {
        final CoordinatedCluster c = connection.coordination();
        final Set<Integer> live = c != null ? new HashSet<>(c.liveClientIds()) : null;
        return new ClusterVerifier(connection.view(), connection.verbs(), directory)
            .verify(live, quiesced ? 0 : settle.toMillis());
    }

    /** The blocks of every region, as their primaries' allocation tables say. */
    public Blocks blocks()
    {
        final BlockTableScan t = BlockTableScan.read(connection.view(), connection.verbs());
        return new Blocks(t.blocks().size(), t.count(BlockAllocationTable.FREE),
            t.count(BlockAllocationTable.HANDED_OVER), Map.copyOf(t.ownedPerClient()));
    }

    /** Ids of clients the coordinator holds for recovery (empty in static mode, which cannot tell). */
    public List<Integer> deadClients()
    {
        final CoordinatedCluster c = connection.coordination();
        return c != null ? c.deadClientIds() : List.of();
    }

    @Override
    public void close()
    {
        connection.close();
    }
}
