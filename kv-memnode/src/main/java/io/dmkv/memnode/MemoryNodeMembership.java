package io.dmkv.memnode;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;

import org.apache.curator.framework.state.ConnectionState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.dmkv.core.cluster.Coordinator;
import io.dmkv.core.cluster.CoordinatorSettings;
import io.dmkv.core.cluster.MemberInfo;
import io.dmkv.core.cluster.LeaderElection;
import io.dmkv.core.cluster.Membership;
import io.dmkv.rdma.server.MemoryRegion;
import io.dmkv.rdma.server.RegionTable;

/**
 * A memory node's place in a coordinated cluster: its membership znode, and fencing of its own
 * keys by the state of its coordinator session.
 *
 * <ul>
 * <li>SUSPENDED (no answer from ZooKeeper; the session may expire without us hearing of it):
 *     revoke every key at once, so no verb is served while the cluster may be moving on.</li>
 * <li>RECONNECTED on the same session: nobody can have declared us dead (that takes the session's
 *     expiry), so the published keys come back and clients go on.</li>
 * <li>LOST (the session expired): the cluster may have moved on. When a new session connects,
 *     every region is re-keyed (its key generation goes up) and the node registers again;
 *     clients must say hello again, and a stale client's verbs are refused.</li>
 * </ul>
 * The node cannot be trusted to do this in time (it may be the one that is stalled), so the
 * survivors re-key too: {@link RegionRekeyer} re-keys every region whose replica list changes
 * in the region map (see docs/coordination.md).
 */
public final class MemoryNodeMembership implements AutoCloseable
{
    private static final Logger LOG = LoggerFactory.getLogger(MemoryNodeMembership.class);

    private static final SecureRandom INCARNATIONS = new SecureRandom();

    private final MemoryNode node;
    private final String endpoint;
    private final Coordinator coordinator;
    /** Drawn when this process joins: a node that restarts has lost its memory and comes back as another. */
    private final long incarnation = INCARNATIONS.nextLong() | 1;
    private final Membership.Registration registration;
    private final LeaderElection election;
    private final RegionRekeyer rekeyer;
    private boolean sessionLost;

    private MemoryNodeMembership(final MemoryNode node, final String endpoint, final Coordinator coordinator)
    {
        this.node = node;
        this.endpoint = endpoint;
        this.coordinator = coordinator;
        this.registration = coordinator.members().register(info());
        // Memory nodes stand for leader too, so a cluster with no compute node running still has one
        // (the fail-over itself is run by a client: it needs the index, docs/recovery.md).
        this.election = coordinator.election("mn-" + node.name());
        coordinator.onConnectionStateChange(this::stateChanged);
        this.rekeyer = new RegionRekeyer(coordinator, node.name(), incarnation, node.service().regions(),
            this::republish, new RegionRekeyer.Roles()
            {
                @Override
                public void changed(final int phys)
                {
                    node.regionRoleChanged(phys);
                }

                @Override
                public void writeProtected(final int phys, final boolean on)
                {
                    node.service().regions().protect(phys, on);
                }

                @Override
                public void grants(final int phys, final boolean on, final String why)
                {
                    node.regionGrants(phys, on, why);
                }
            });
    }

    /**
     * Registers {@code node}, reachable at {@code endpoint}, with the coordinator of {@code settings}.
     * The caller closes the membership before the node.
     */
    public static MemoryNodeMembership join(final MemoryNode node, final String endpoint,
        final CoordinatorSettings settings)
    {
        final Coordinator c = Coordinator.open(settings);
        try
        {
            final MemoryNodeMembership m = new MemoryNodeMembership(node, endpoint, c);
            LOG.info("memory node {} registered with coordinator {} (cluster {}) as {}", node.name(),
                settings.connectString(), settings.cluster(), endpoint);
            return m;
        }
        catch (final RuntimeException e)
        {
            c.close();
            throw e;
        }
    }

    private MemberInfo info()
    {
        final RegionTable table = node.service().regions();
        final List<Integer> ids = new ArrayList<>();
        long generation = 0;
        for (final MemoryRegion r : table.regions())
        {
            ids.add(r.id());
            generation = Math.max(generation, r.keyGeneration());
        }
        return MemberInfo.memoryNode(node.name(), endpoint, ids, generation, incarnation);
    }

    private void republish()
    {
        try
        {
            registration.update(info());
        }
        catch (final RuntimeException e)
        {
            LOG.warn("memory node {}: publishing its key generation failed: {}", node.name(), e.getMessage());
        }
    }

    private synchronized void stateChanged(final ConnectionState state)
    {
        final RegionTable table = node.service().regions();
        switch (state)
        {
            case SUSPENDED:
                table.revokeAll();
                LOG.warn("memory node {}: coordinator connection suspended; keys revoked until it is back", node.name());
                break;
            case LOST:
                table.revokeAll();
                sessionLost = true;
                LOG.warn("memory node {}: coordinator session lost; the cluster may have moved on, regions will be"
                    + " re-keyed", node.name());
                break;
            case RECONNECTED:
                if (sessionLost)
                {
                    table.rekeyAll();
                    sessionLost = false;
                    republish();
                    LOG.warn("memory node {}: new coordinator session; every region re-keyed, old keys are refused",
                        node.name());
                }
                else
                {
                    table.restoreAll();
                    LOG.info("memory node {}: coordinator connection back on the same session; keys restored",
                        node.name());
                }
                break;
            default:
                break;
        }
    }

    /** Whether the node follows the cluster's region map (the cluster is formatted and it read the map). */
    boolean followsRegionMap()
    {
        return rekeyer.follows();
    }

    public Coordinator coordinator()
    {
        return coordinator;
    }

    /** This process's incarnation (the number it registered with). */
    public long incarnation()
    {
        return incarnation;
    }

    public String endpoint()
    {
        return endpoint;
    }

    /** This node's candidacy in the cluster's leader election. */
    public LeaderElection election()
    {
        return election;
    }

    /** Leaves the cluster cleanly (the membership record goes) and ends the session. */
    @Override
    public void close()
    {
        rekeyer.close();
        try
        {
            election.close();
            registration.close();
        }
        catch (final RuntimeException e)
        {
            LOG.warn("memory node {}: leaving the cluster cleanly failed: {}", node.name(), e.getMessage());
        }
        coordinator.close();
    }
}
