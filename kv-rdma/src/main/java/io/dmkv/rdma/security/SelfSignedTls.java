package io.dmkv.rdma.security;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes a throwaway self-signed certificate for this host's loopback ({@code 127.0.0.1},
 * {@code localhost}) and writes it as PEM files a {@link TlsConfig} reads: the certificate serves
 * as every party's certificate and as the CA. For tests, benchmarks and trying TLS out, never for
 * a deployment (which takes certificates from its own CA; docs/security.md). Uses the JDK's
 * {@code keytool}, so it needs nothing beyond the JDK.
 */
public final class SelfSignedTls
{
    private static final String PASSWORD = "dmkv-throwaway";

    private SelfSignedTls()
    {
    }

    /** Writes {@code cert.pem} and {@code key.pem} into {@code dir}; returns the config using them (CA included). */
    public static TlsConfig create(final Path dir)
    {
        final Path store = dir.resolve("keystore.p12");
        final Path cert = dir.resolve("cert.pem");
        final Path key = dir.resolve("key.pem");
        try
        {
            Files.createDirectories(dir);
            Files.deleteIfExists(store);
            final Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            final Process p = new ProcessBuilder(List.of(keytool.toString(), "-genkeypair", "-alias", "dmkv",
                "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=dmkv-throwaway", "-ext",
                "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2", "-keystore", store.toString(), "-storetype",
                "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD)).redirectErrorStream(true).start();
            final byte[] output = p.getInputStream().readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0)
            {
                throw new IllegalStateException("keytool failed: " + new String(output, StandardCharsets.UTF_8));
            }
            final KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store))
            {
                ks.load(in, PASSWORD.toCharArray());
            }
            final Certificate c = ks.getCertificate("dmkv");
            final PrivateKey k = (PrivateKey)ks.getKey("dmkv", PASSWORD.toCharArray());
            Files.writeString(cert, pem("CERTIFICATE", c.getEncoded()));
            Files.writeString(key, pem("PRIVATE KEY", k.getEncoded()));
            Files.delete(store);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot write throwaway TLS files into " + dir, e);
        }
        catch (final GeneralSecurityException e)
        {
            throw new IllegalStateException("cannot read the keystore keytool made", e);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while making a certificate", e);
        }
        return new TlsConfig(cert, key, cert);
    }

    private static String pem(final String type, final byte[] der)
    {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
            + "\n-----END " + type + "-----\n";
    }
}
