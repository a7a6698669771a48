package io.dmkv.memnode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.VerbBatch;
import io.dmkv.rdma.VerbsClient;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.SelfSignedTls;
import io.dmkv.rdma.security.TlsConfig;
import io.dmkv.rdma.transport.tcp.TcpVerbsTransport;

/**
 * The daemon as operators run it: {@code --secret-file} and {@code --tls-*} protect it, and
 * without a secret it listens on loopback and says it is unauthenticated.
 */
@Timeout(120)
class MemoryNodeSecurityTest
{
    @Test
    void aDaemonWithASecretAndTlsServesClientsWithBothAndRefusesOthers(@TempDir final Path dir) throws Exception
    {
        final Path secretFile = dir.resolve("secret");
        final ClusterSecret secret = ClusterSecret.generate(secretFile);
        final TlsConfig tls = SelfSignedTls.create(dir.resolve("tls"));
        final Process p = MemoryNodeMainTest.start("--host", "127.0.0.1", "--port", "0", "--memory", "1M",
            "--secret-file", secretFile.toString(), "--tls-cert", tls.cert().toString(), "--tls-key",
            tls.key().toString());
        try
        {
            final String endpoint = MemoryNodeMainTest.awaitReady(p);
            try (TcpVerbsTransport tcp = new TcpVerbsTransport();
                VerbsClient c = VerbsClient.connect(tcp, List.of(endpoint),
                    ClientOptions.builder().secret(secret).tls(tls)
                    .connectTimeout(java.time.Duration.ofSeconds(20)).build()))
            {
                final VerbBatch b = new VerbBatch();
                final int at = b.faa(c.channel(0).region(0), 8, 3);
                c.execute(b);
                assertEquals(0, b.result(at));
            }
            try (TcpVerbsTransport tcp = new TcpVerbsTransport())
            {
                final HandshakeException noSecret = assertThrows(HandshakeException.class,
                    () -> tcp.connect(endpoint, ClientOptions.builder().tls(tls)
                        .connectTimeout(java.time.Duration.ofSeconds(20)).build()));
                assertTrue(noSecret.getMessage().contains("authentication required"), noSecret.getMessage());
                assertThrows(RuntimeException.class, () -> tcp.connect(endpoint, ClientOptions.builder().secret(secret)
                    .connectTimeout(java.time.Duration.ofSeconds(3)).build()), "a plain client gets no answer");
            }
        }
        finally
        {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
    }

    @Test
    void withoutASecretTheDaemonListensOnLoopbackAndSaysItIsUnauthenticated(@TempDir final Path dir)
        throws Exception
    {
        final Path log = dir.resolve("log");
        final Process p = MemoryNodeMainTest.start(ProcessBuilder.Redirect.to(log.toFile()), MemoryNodeMain.class,
            "--port", "0", "--memory", "1M");
        try
        {
            final String endpoint = MemoryNodeMainTest.awaitReady(p);
            final String logged = Files.readString(log);
            assertTrue(logged.contains("on tcp 127.0.0.1:"), "bound to loopback: " + logged);
            assertTrue(logged.contains("is UNAUTHENTICATED: anyone who reaches"), logged);
            assertFalse(logged.contains("listens beyond loopback"), logged);
            try (TcpVerbsTransport tcp = new TcpVerbsTransport();
                VerbsClient c = VerbsClient.connect(tcp, List.of(endpoint), ClientOptions.defaults()))
            {
                assertTrue(c.channel(0).regions().size() > 0, "a client without a secret works as before");
            }
        }
        finally
        {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
    }
}
