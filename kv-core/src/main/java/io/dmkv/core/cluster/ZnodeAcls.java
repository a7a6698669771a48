package io.dmkv.core.cluster;

import java.nio.charset.StandardCharsets;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

import io.dmkv.rdma.security.ClusterSecret;

/**
 * Who may touch a cluster's znodes when it has a secret: ZooKeeper's {@code digest} scheme, user
 * {@value #USER}, with a password derived from the cluster secret (so the coordinator never sees
 * the secret itself). Every znode under {@code /dmkv/<cluster>} is readable and writable by that
 * user only; {@code /dmkv} itself lets anyone read its list and create under it (other clusters,
 * with other secrets, share it) and nothing more.
 *
 * <p>The digest scheme sends the password in the clear on the ZooKeeper connection: against an
 * attacker on the path between members and ZooKeeper, run ZooKeeper with TLS (docs/security.md).
 */
public final class ZnodeAcls implements ACLProvider
{
    public static final String SCHEME = "digest";
    public static final String USER = "dmkv";

    private final String password;
    private final List<ACL> cluster;
    private final List<ACL> shared;

    public ZnodeAcls(final ClusterSecret secret)
    {
        this.password = secret.derive("zookeeper digest");
        final Id id;
        try
        {
            id = new Id(SCHEME, DigestAuthenticationProvider.generateDigest(USER + ":" + password));
        }
        catch (final NoSuchAlgorithmException e)
        {
            throw new IllegalStateException("SHA1 is not available in this JVM (ZooKeeper's digest scheme)", e);
        }
        // Not List.of: ZooKeeper asks the list whether it contains null, which List.of refuses to answer.
        this.cluster = Collections.unmodifiableList(Arrays.asList(new ACL(ZooDefs.Perms.ALL, id)));
        this.shared = Collections.unmodifiableList(Arrays.asList(new ACL(ZooDefs.Perms.ALL, id),
            new ACL(ZooDefs.Perms.READ | ZooDefs.Perms.CREATE, ZooDefs.Ids.ANYONE_ID_UNSAFE)));
    }

    /** What the session sends with {@code addAuthInfo}: {@code user:password}. */
    public byte[] authorization()
    {
        return (USER + ":" + password).getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public List<ACL> getDefaultAcl()
    {
        return cluster;
    }

    @Override
    public List<ACL> getAclForPath(final String path)
    {
        return ("/" + ZnodePaths.ROOT).equals(path) ? shared : cluster;
    }
}
