package io.dmkv.rdma.transport.tcp;

import io.dmkv.rdma.ClientOptions;
import io.dmkv.rdma.HandshakeException;
import io.dmkv.rdma.security.Handshake;
import io.netty.buffer.ByteBuf;

/**
 * The client's side of the hello on one connection (docs/transports.md): the HELLO with its
 * nonce, the proof that answers a node's challenge, and the check of the node's HELLO_OK. The
 * event-loop connection ({@link TcpVerbsChannel}) and a caller's lane ({@link TcpLane}) both say
 * hello through it, so both refuse the same peers in the same words. Not thread-safe: one
 * connection's thread uses it.
 */
final class TcpHello
{
    private final String endpoint;
    /** The client's side of the handshake; null without a cluster secret. */
    private final Handshake.Initiator initiator;
    /** The node has challenged once (a second challenge is refused). */
    private boolean challenged;

    TcpHello(final String endpoint, final ClientOptions options)
    {
        this.endpoint = endpoint;
        this.initiator = options.secret() == null ? null : new Handshake.Initiator(options.secret());
    }

    /** Writes the HELLO (with this connection's nonce, empty without a cluster secret) into {@code out}. */
    void writeHello(final ByteBuf out, final int layoutVersion)
    {
        TcpFrames.encodeHello(out, layoutVersion, initiator == null ? new byte[0] : initiator.nonce());
    }

    /**
     * Answers a HELLO_CHALLENGE (its type byte read from {@code in}): writes the HELLO_PROOF into
     * {@code out}.
     *
     * @throws HandshakeException for a second challenge, a challenge this client cannot answer
     *         (it has no cluster secret) or a malformed one.
     */
    void answerChallenge(final ByteBuf in, final ByteBuf out)
    {
        if (challenged)
        {
            // One proof per connection: a peer asking again wants proofs for other challenges.
            throw new HandshakeException("memory node at " + endpoint + " sent a second challenge");
        }
        challenged = true;
        if (initiator == null)
        {
            throw new HandshakeException("memory node at " + endpoint
                + " requires the cluster secret: configure dmkv.secretFile");
        }
        in.skipBytes(4);
        final byte[] proof;
        try
        {
            proof = initiator.prove(TcpFrames.readField(in));
        }
        catch (final IllegalArgumentException e)
        {
            throw new HandshakeException("memory node at " + endpoint + " sent a bad challenge: " + e.getMessage());
        }
        TcpFrames.encodeHelloField(out, TcpFrames.HELLO_PROOF, proof);
    }

    /**
     * Checks a HELLO_OK (its type byte read from {@code in}) up to the node's description, which
     * {@link TcpFrames#decodeHelloOk} reads next: with a cluster secret, the node's proof is
     * checked before anything it sent is used.
     *
     * @throws HandshakeException if the node did not prove the secret this client has.
     */
    void checkOk(final ByteBuf in)
    {
        in.skipBytes(4);
        final byte[] proof = TcpFrames.readField(in);
        if (initiator != null && !initiator.verify(proof))
        {
            throw new HandshakeException(proof.length == 0
                ? "memory node at " + endpoint + " runs without a cluster secret, and this client requires one (it"
                    + " has dmkv.secretFile): start the node with --secret-file"
                : "memory node at " + endpoint + " failed to prove the cluster secret: its secret differs from"
                    + " dmkv.secretFile");
        }
    }

    /** The error of a HELLO_REFUSED (its type byte read from {@code in}). */
    HandshakeException refused(final ByteBuf in)
    {
        in.skipBytes(4);
        return new HandshakeException("memory node at " + endpoint + " refused the hello: " + TcpFrames.readString(in));
    }

    /**
     * Why the hello with the node at {@code endpoint} failed, in words the user can act on, if
     * {@code cause} is one of the failures a user must fix (not a dmkv peer, TLS refused); null
     * for any other failure.
     */
    static String refusal(final String endpoint, final Throwable cause)
    {
        if (cause instanceof HelloGuard.NotDmkvPeerException)
        {
            return "not a dmkv memory node at " + endpoint + ": " + cause.getMessage();
        }
        for (Throwable c = cause; c != null; c = c.getCause() == c ? null : c.getCause())
        {
            if (c instanceof javax.net.ssl.SSLException)
            {
                return "TLS with memory node at " + endpoint + " failed: " + rootMessage(cause)
                    + " (check dmkv.tls.ca, dmkv.tls.cert and dmkv.tls.key against the node's --tls-* files, and that"
                    + " both sides use TLS)";
            }
        }
        return null;
    }

    private static String rootMessage(final Throwable cause)
    {
        Throwable c = cause;
        while (c.getCause() != null && c.getCause() != c)
        {
            c = c.getCause();
        }
        return c.getMessage() != null ? c.getMessage() : c.toString();
    }
}
