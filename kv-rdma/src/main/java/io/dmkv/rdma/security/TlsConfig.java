package io.dmkv.rdma.security;

import java.nio.file.Files;
import java.nio.file.Path;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;

/**
 * TLS for tcp connections (Netty's {@link SslHandler}), from PEM files: a certificate chain and
 * its PKCS#8 private key, and the certificate of the CA that signs the cluster's certificates.
 *
 * <p>A memory node needs {@code cert} and {@code key}; with {@code ca} it also requires every
 * client to present a certificate that CA signed (mutual TLS). A client needs {@code ca} to check
 * the node's certificate, including that it names the host the client dialled (its subject
 * alternative names); with {@code cert} and {@code key} it presents its own.
 *
 * @param cert PEM certificate chain (null: none).
 * @param key  PEM PKCS#8 private key of {@code cert} (null: none).
 * @param ca   PEM certificate(s) of the trusted CA (null: none).
 */
public record TlsConfig(Path cert, Path key, Path ca)
{
    public TlsConfig
    {
        if ((cert == null) != (key == null))
        {
            throw new IllegalArgumentException("TLS needs a certificate and its key together (cert " + cert + ", key "
                + key + ")");
        }
        for (final Path p : new Path[] {cert, key, ca})
        {
            if (p != null && !Files.isReadable(p))
            {
                throw new IllegalArgumentException("TLS file " + p + " does not exist or cannot be read");
            }
        }
    }

    /** The context of a memory node (or any server side). */
    public SslContext serverContext()
    {
        if (cert == null)
        {
            throw new IllegalArgumentException("a TLS server needs a certificate and key (--tls-cert, --tls-key)");
        }
        try
        {
            final SslContextBuilder b = SslContextBuilder.forServer(cert.toFile(), key.toFile());
            if (ca != null)
            {
                b.trustManager(ca.toFile()).clientAuth(ClientAuth.REQUIRE);
            }
            return b.build();
        }
        catch (final SSLException | IllegalArgumentException e)
        {
            throw new IllegalArgumentException("cannot use TLS files " + this + ": " + e.getMessage(), e);
        }
    }

    /** The context of a client (or any connecting side). */
    public SslContext clientContext()
    {
        if (ca == null)
        {
            throw new IllegalArgumentException("a TLS client needs the CA certificate to check nodes with (dmkv.tls.ca)");
        }
        try
        {
            final SslContextBuilder b = SslContextBuilder.forClient().trustManager(ca.toFile());
            if (cert != null)
            {
                b.keyManager(cert.toFile(), key.toFile());
            }
            return b.build();
        }
        catch (final SSLException | IllegalArgumentException e)
        {
            throw new IllegalArgumentException("cannot use TLS files " + this + ": " + e.getMessage(), e);
        }
    }

    /** A client's handler for a connection to {@code host:port} that checks the host name too. */
    public static SslHandler clientHandler(final SslContext context, final ByteBufAllocator alloc, final String host,
        final int port)
    {
        final SslHandler h = context.newHandler(alloc, host, port);
        final SSLEngine engine = h.engine();
        final SSLParameters p = engine.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        engine.setSSLParameters(p);
        return h;
    }

    @Override
    public String toString()
    {
        return "cert=" + cert + ", key=" + key + ", ca=" + ca;
    }
}
