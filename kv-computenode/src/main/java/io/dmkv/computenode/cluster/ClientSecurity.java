package io.dmkv.computenode.cluster;

import java.nio.file.Path;

import io.dmkv.KvConfig;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.TlsConfig;

/**
 * A compute node's cluster secret and TLS files, from {@code dmkv.secretFile} and
 * {@code dmkv.tls.*}: what its connections to memory nodes, the coordinator and other compute
 * nodes' proxy ports prove and check, and what its own proxy port requires (docs/security.md).
 *
 * @param secret the cluster secret, or null.
 * @param tls    the TLS files, or null for plain tcp.
 */
public record ClientSecurity(ClusterSecret secret, TlsConfig tls)
{
    /** The security {@code config} asks for; reads the secret file. */
    public static ClientSecurity of(final KvConfig config)
    {
        final ClusterSecret secret = config.secretFile().isEmpty() ? null
            : ClusterSecret.fromFile(Path.of(config.secretFile()));
        final TlsConfig tls = config.tlsCa().isEmpty() ? null : new TlsConfig(path(config.tlsCert()),
            path(config.tlsKey()), Path.of(config.tlsCa()));
        return new ClientSecurity(secret, tls);
    }

    private static Path path(final String p)
    {
        return p.isEmpty() ? null : Path.of(p);
    }

    /** {@code b} with this secret and TLS. */
    public ClientOptions.Builder apply(final ClientOptions.Builder b)
    {
        return b.secret(secret).tls(tls);
    }
}
