package io.dmkv.bench.cli;

import java.nio.file.Path;

import io.dmkv.KvConfig;
import io.dmkv.rdma.security.ClusterSecret;
import io.dmkv.rdma.security.TlsConfig;
import picocli.CommandLine.Option;

/**
 * The cluster secret and TLS files of a command that opens a store (docs/security.md); a picocli
 * mixin. Unset options leave what a {@code --config} file says.
 */
public final class SecurityOptions
{
    @Option(names = "--secret-file", paramLabel = "FILE",
        description = "The cluster secret, as the memory nodes were given it (dmkv.secretFile).")
    String secretFile;

    @Option(names = "--tls-ca", paramLabel = "PEM", description = "Talk TLS; check the memory nodes' certificates"
        + " with this CA certificate (dmkv.tls.ca).")
    String tlsCa;

    @Option(names = "--tls-cert", paramLabel = "PEM", description = "This client's TLS certificate, for nodes that"
        + " require one (dmkv.tls.cert, with --tls-key).")
    String tlsCert;

    @Option(names = "--tls-key", paramLabel = "PEM", description = "PKCS#8 private key of --tls-cert (dmkv.tls.key).")
    String tlsKey;

    /** The cluster secret given, or null. */
    ClusterSecret secret()
    {
        return secretFile == null ? null : ClusterSecret.fromFile(Path.of(secretFile));
    }

    /** The TLS files given, or null. */
    TlsConfig tls()
    {
        return tlsCa == null && tlsCert == null && tlsKey == null ? null
            : new TlsConfig(path(tlsCert), path(tlsKey), path(tlsCa));
    }

    private static Path path(final String p)
    {
        return p == null ? null : Path.of(p);
    }

    /** Sets the options given on {@code b}; returns it. */
    KvConfig.Builder apply(final KvConfig.Builder b)
    {
        if (secretFile != null)
        {
            b.secretFile(secretFile);
        }
        if (tlsCa != null || tlsCert != null || tlsKey != null)
        {
            b.tls(tlsCert, tlsKey, tlsCa);
        }
        return b;
    }
}
