package io.dmkv.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.KvAdmin;
import io.dmkv.KvConfig;
import io.dmkv.KvConfigException;
import io.dmkv.KvException;
import io.dmkv.KvStore;
import io.dmkv.memnode.EmbeddedCluster;
import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.SelfSignedTls;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * A coordinated cluster with a secret and TLS (docs/security.md): a store configured with both
 * works; one without the secret gets nothing from the coordinator or the memory nodes; FlexKV's
 * proxy ports take the same hello. (Here rather than in kv-computenode: the TLS classes it loads
 * would stop the Lincheck agent of that module's tests from instrumenting the JVM.)
 */
@Timeout(120)
class SecuredStoreTest
{
    @Test
    void aStoreWithTheSecretAndMutualTlsWorksAndOneWithoutTheSecretIsRefused(@TempDir final Path dir) throws Exception
    {
        final Path secretFile = dir.resolve("secret");
        final ClusterSecret secret = ClusterSecret.generate(secretFile);
        final Path wrongFile = dir.resolve("wrong");
        ClusterSecret.generate(wrongFile);
        final TlsConfig tls = SelfSignedTls.create(dir.resolve("tls"));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp", true, secret, tls))
        {
            final KvConfig.Builder base = KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .replication(2).blockSize(64 * 1024).bucketGroups(16).initialDepth(1).indexAreaBytes(2 << 20)
                .connectTimeout(java.time.Duration.ofSeconds(15));
            try (KvStore kv = KvStore.open(base.secretFile(secretFile.toString())
                .tls(tls.cert().toString(), tls.key().toString(), tls.ca().toString()).build()))
            {
                kv.put("k", "v");
                assertEquals("v", kv.get("k"));
            }
            final KvException noSecret = assertThrows(KvException.class,
                () -> KvStore.open(base.secretFile("").tls(tls.cert().toString(), tls.key().toString(), tls.ca().toString()).build()).close());
            assertTrue(noSecret.getMessage().contains("the coordinator refused access")
                && noSecret.getMessage().contains("dmkv.secretFile"), noSecret.getMessage());
            final KvException wrongSecret = assertThrows(KvException.class,
                () -> KvStore.open(base.secretFile(wrongFile.toString()).tls(tls.cert().toString(), tls.key().toString(), tls.ca().toString()).build())
                    .close());
            assertTrue(wrongSecret.getMessage().contains("the coordinator refused access"), wrongSecret.getMessage());
        }
    }

    @Test
    void flexKvProxyPortsRequireTheSecretAndServeTls(@TempDir final Path dir) throws Exception
    {
        final Path secretFile = dir.resolve("secret");
        final ClusterSecret secret = ClusterSecret.generate(secretFile);
        final TlsConfig tls = SelfSignedTls.create(dir.resolve("tls"));
        try (EmbeddedCluster cluster = EmbeddedCluster.start(2, 32L << 20, 8L << 20, "tcp", true, secret, tls))
        {
            final KvConfig.Builder base = KvConfig.builder().coordinator(cluster.coordinatorConnectString())
                .replication(2).blockSize(64 * 1024).bucketGroups(64).initialDepth(2).indexAreaBytes(4 << 20)
                .mode("flexkv").partitions(8).connectTimeout(java.time.Duration.ofSeconds(15))
                .secretFile(secretFile.toString())
                .tls(tls.cert().toString(), tls.key().toString(), tls.ca().toString());
            try (KvStore a = KvStore.open(base.proxyEnabled(true).build());
                KvStore b = KvStore.open(base.proxyEnabled(true).build());
                KvStore plain = KvStore.open(base.proxyEnabled(false).mode("").build());
                KvAdmin admin = KvAdmin.open(base.proxyEnabled(false).mode("").build()))
            {
                final long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
                while (!(admin.proxies().size() == 2 && admin.partitions().stream()
                    .allMatch(p -> p.handoverFrom().isEmpty() && admin.proxies().containsKey(p.owner()))))
                {
                    assertTrue(System.nanoTime() < deadline, "both proxies own partitions: " + admin.partitions());
                    Thread.sleep(20);
                }
                for (int i = 0; i < 32; i++)
                {
                    plain.put("key-" + i, "value-" + i);
                }
                for (int i = 0; i < 32; i++)
                {
                    assertEquals("value-" + i, a.get("key-" + i), "through the proxies, over TLS, authenticated");
                }
                for (final String endpoint : admin.proxies().values())
                {
                    try (TcpVerbsTransport tcp = new TcpVerbsTransport())
                    {
                        final HandshakeException e = assertThrows(HandshakeException.class, () -> tcp.connect(endpoint,
                            ClientOptions.builder().tls(tls).connectTimeout(java.time.Duration.ofSeconds(15)).build()));
                        assertTrue(e.getMessage().contains("authentication required"), e.getMessage());
                    }
                }
            }
        }
    }

    @Test
    void aSecretFileThatCannotBeUsedIsReportedByItsProperty(@TempDir final Path dir) throws Exception
    {
        final Path shortFile = dir.resolve("short");
        Files.writeString(shortFile, "too short\n");
        final KvConfigException e = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes("127.0.0.1:1").secretFile(shortFile.toString()).build());
        assertTrue(e.getMessage().startsWith(KvConfig.SECRET_FILE) && e.getMessage().contains("at least 16"),
            e.getMessage());
        final KvConfigException half = assertThrows(KvConfigException.class,
            () -> KvConfig.builder().memnodes("127.0.0.1:1").tls(shortFile.toString(), null, null).build());
        assertTrue(half.getMessage().contains("go together"), half.getMessage());
    }
}
