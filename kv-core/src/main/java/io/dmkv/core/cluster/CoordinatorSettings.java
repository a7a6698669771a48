package io.dmkv.core.cluster;

import java.time.Duration;
import java.util.Objects;
import java.util.Properties;

import org.agrona.concurrent.NanoClock;
import org.agrona.concurrent.SystemNanoClock;

import io.dmkv.core.config.Durations;
import io.dmkv.rdma.security.ClusterSecret;

/**
 * How to reach the coordinator and how long things may take. Defaults suit a disaggregated
 * store: a dead node must be noticed in seconds, not in Curator's default 60 s.
 *
 * @param connectString     ZooKeeper's connect string, {@code host:port[,host:port...][/chroot]}.
 * @param cluster           the cluster's name: its znodes live under {@code /dmkv/<cluster>}.
 * @param sessionTimeout    how long a member may be silent before ZooKeeper declares it dead (its
 *                          ephemeral znodes go); ZooKeeper clamps it to 2..20 of its ticks.
 * @param connectionTimeout how long to wait for a connection before an operation fails.
 * @param mapLease          how long a cached map may be used after the coordinator last
 *                          confirmed it; shorter than the session timeout, so that a client cut
 *                          off from the coordinator stops using a map before the cluster can
 *                          have moved on without it.
 * @param maxClients        client ids are claimed in 1..maxClients (u16 in block tables and log heads).
 * @param clock             the clock leases are measured with (tests inject a manual one).
 * @param secret            the cluster secret (null: none): with one, the session authenticates
 *                          (ZooKeeper's digest scheme, with a credential derived from the secret)
 *                          and every znode of the cluster is readable and writable only with it
 *                          ({@link ZnodeAcls}).
 */
public record CoordinatorSettings(String connectString, String cluster, Duration sessionTimeout,
    Duration connectionTimeout, Duration mapLease, int maxClients, NanoClock clock, ClusterSecret secret)
{
    public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(4);
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(3);
    public static final Duration DEFAULT_MAP_LEASE = Duration.ofSeconds(2);
    public static final String DEFAULT_CLUSTER = "default";
    public static final int DEFAULT_MAX_CLIENTS = 1024;
    public static final int MAX_CLIENT_ID = 0xFFFF;

    /** Property names, as in a dmkv properties file. */
    public static final String CONNECT = "dmkv.coordinator";
    public static final String CLUSTER = "dmkv.cluster";
    public static final String SESSION_TIMEOUT = "dmkv.coordinator.sessionTimeout";
    public static final String CONNECTION_TIMEOUT = "dmkv.coordinator.connectionTimeout";
    public static final String MAP_LEASE = "dmkv.mapLease";
    public static final String MAX_CLIENTS = "dmkv.maxClients";

    /** Settings without a cluster secret. */
    public CoordinatorSettings(final String connectString, final String cluster, final Duration sessionTimeout,
        final Duration connectionTimeout, final Duration mapLease, final int maxClients, final NanoClock clock)
    {
        this(connectString, cluster, sessionTimeout, connectionTimeout, mapLease, maxClients, clock, null);
    }

    public CoordinatorSettings
    {
        if (connectString == null || connectString.isBlank())
        {
            throw new IllegalArgumentException(CONNECT + " is empty: give host:port[,host:port...] of ZooKeeper");
        }
        if (cluster == null || !cluster.matches("[A-Za-z0-9._-]{1,64}"))
        {
            throw new IllegalArgumentException(CLUSTER + " must be 1..64 letters, digits, '.', '_' or '-', got '"
                + cluster + "'");
        }
        requirePositive(SESSION_TIMEOUT, sessionTimeout);
        requirePositive(CONNECTION_TIMEOUT, connectionTimeout);
        requirePositive(MAP_LEASE, mapLease);
        if (mapLease.compareTo(sessionTimeout) >= 0)
        {
            throw new IllegalArgumentException(MAP_LEASE + " (" + mapLease.toMillis() + " ms) must be shorter than "
                + SESSION_TIMEOUT + " (" + sessionTimeout.toMillis() + " ms): a client cut off from the coordinator must"
                + " stop using its map before the cluster can move on without it");
        }
        if (maxClients < 1 || maxClients > MAX_CLIENT_ID)
        {
            throw new IllegalArgumentException(MAX_CLIENTS + " must be in 1.." + MAX_CLIENT_ID + ", got " + maxClients);
        }
        Objects.requireNonNull(clock, "clock");
    }

    /** The defaults for {@code connectString}. */
    public static CoordinatorSettings of(final String connectString)
    {
        return new CoordinatorSettings(connectString, DEFAULT_CLUSTER, DEFAULT_SESSION_TIMEOUT,
            DEFAULT_CONNECTION_TIMEOUT, DEFAULT_MAP_LEASE, DEFAULT_MAX_CLIENTS, new SystemNanoClock());
    }

    /**
     * Reads the {@code dmkv.coordinator*}, {@code dmkv.cluster}, {@code dmkv.mapLease} and
     * {@code dmkv.maxClients} properties; the others keep their defaults.
     */
    public static CoordinatorSettings fromProperties(final Properties p)
    {
        final String connect = p.getProperty(CONNECT);
        if (connect == null)
        {
            throw new IllegalArgumentException(CONNECT + " is not set");
        }
        return new CoordinatorSettings(connect.trim(), p.getProperty(CLUSTER, DEFAULT_CLUSTER).trim(),
            duration(p, SESSION_TIMEOUT, DEFAULT_SESSION_TIMEOUT), duration(p, CONNECTION_TIMEOUT, DEFAULT_CONNECTION_TIMEOUT),
            duration(p, MAP_LEASE, DEFAULT_MAP_LEASE), integer(p, MAX_CLIENTS, DEFAULT_MAX_CLIENTS), new SystemNanoClock());
    }

    public CoordinatorSettings withCluster(final String name)
    {
        return new CoordinatorSettings(connectString, name, sessionTimeout, connectionTimeout, mapLease, maxClients, clock,
            secret);
    }

    public CoordinatorSettings withSessionTimeout(final Duration timeout, final Duration lease)
    {
        return new CoordinatorSettings(connectString, cluster, timeout, connectionTimeout, lease, maxClients, clock,
            secret);
    }

    public CoordinatorSettings withMaxClients(final int max)
    {
        return new CoordinatorSettings(connectString, cluster, sessionTimeout, connectionTimeout, mapLease, max, clock,
            secret);
    }

    public CoordinatorSettings withClock(final NanoClock c)
    {
        return new CoordinatorSettings(connectString, cluster, sessionTimeout, connectionTimeout, mapLease, maxClients, c,
            secret);
    }

    /** These settings with {@code clusterSecret} (null: none). */
    public CoordinatorSettings withSecret(final ClusterSecret clusterSecret)
    {
        return new CoordinatorSettings(connectString, cluster, sessionTimeout, connectionTimeout, mapLease, maxClients,
            clock, clusterSecret);
    }

    private static void requirePositive(final String name, final Duration d)
    {
        if (d == null || d.isNegative() || d.isZero())
        {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }

    private static Duration duration(final Properties p, final String name, final Duration dflt)
    {
        final String v = p.getProperty(name);
        try
        {
            return v == null ? dflt : Durations.parse(v);
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
    }

    private static int integer(final Properties p, final String name, final int dflt)
    {
        final String v = p.getProperty(name);
        try
        {
            return v == null ? dflt : Integer.parseInt(v.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException(name + " is not a whole number: '" + v + "'", e);
        }
    }
}
