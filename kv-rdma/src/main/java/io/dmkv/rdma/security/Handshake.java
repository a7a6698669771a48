package io.dmkv.rdma.security;

import java.security.MessageDigest;
import java.security.SecureRandom;

/**
 * Mutual authentication by challenge and response over fresh nonces, with HMAC-SHA256 under the
 * {@link ClusterSecret}; the secret never crosses the wire. Independent of any frame format: the
 * memory node's hello (tcp, and the control channel of {@code local} and {@code rdma}) carries
 * it, and any other port of the cluster (the compute nodes' proxy port) takes the same two
 * classes.
 *
 * <pre>
 * initiator                                 responder
 *   nonce Ni (32 random bytes)   ──────►
 *                                ◄──────    nonce Nr (32 random bytes)
 *   Pi = HMAC(K, "dmkv initiator" Ni Nr) ──►  checks Pi; a wrong one is refused, nothing else sent
 *                                ◄──────    Pr = HMAC(K, "dmkv responder" Ni Nr) with what was asked for
 *   checks Pr before using anything the responder sent
 * </pre>
 *
 * The initiator proves first, so a peer that merely connects learns nothing computed with the
 * secret. Both nonces are fresh, so no proof can be replayed on another connection, and the
 * labels differ, so a proof cannot be reflected back. What this does not do: encrypt, or stop an
 * attacker on the path from changing frames after the handshake. TLS does that.
 */
public final class Handshake
{
    public static final int NONCE_BYTES = 32;
    public static final int PROOF_BYTES = 32;
    /** Longest nonce or proof field a peer may send; anything longer is refused unread. */
    public static final int MAX_FIELD = 64;
    private static final String INITIATOR = "dmkv initiator";
    private static final String RESPONDER = "dmkv responder";
    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake()
    {
    }

    /** Fresh random bytes for a nonce. */
    public static byte[] nonce()
    {
        final byte[] n = new byte[NONCE_BYTES];
        RANDOM.nextBytes(n);
        return n;
    }

    /** The side that connects: sends its nonce, answers the responder's, checks the responder's proof. */
    public static final class Initiator
    {
        private final ClusterSecret secret;
        private final byte[] nonce = Handshake.nonce();
        private byte[] peerNonce;

        public Initiator(final ClusterSecret secret)
        {
            this.secret = secret;
        }

        /** The nonce to send first. */
        public byte[] nonce()
        {
            return nonce.clone();
        }

        /**
         * The proof answering the responder's nonce.
         *
         * @throws IllegalArgumentException when the nonce has the wrong length.
         */
        public byte[] prove(final byte[] responderNonce)
        {
            if (responderNonce.length != NONCE_BYTES)
            {
                throw new IllegalArgumentException("a challenge of " + responderNonce.length + " bytes, not "
                    + NONCE_BYTES);
            }
            peerNonce = responderNonce.clone();
            return secret.hmac(INITIATOR, nonce, peerNonce);
        }

        /** Whether the responder's proof shows it holds the secret (false before {@link #prove}). */
        public boolean verify(final byte[] responderProof)
        {
            return peerNonce != null && MessageDigest.isEqual(secret.hmac(RESPONDER, nonce, peerNonce), responderProof);
        }
    }

    /** The side that accepts: answers a nonce with its own, checks the initiator's proof, proves itself. */
    public static final class Responder
    {
        private final ClusterSecret secret;
        private final byte[] peerNonce;
        private final byte[] nonce = Handshake.nonce();

        /**
         * @throws IllegalArgumentException when the initiator's nonce has the wrong length (the
         *                                  peer does not hold a secret, or is not a dmkv peer).
         */
        public Responder(final ClusterSecret secret, final byte[] initiatorNonce)
        {
            if (initiatorNonce.length != NONCE_BYTES)
            {
                throw new IllegalArgumentException(initiatorNonce.length == 0
                    ? "the peer sent no nonce: it has no cluster secret configured"
                    : "a nonce of " + initiatorNonce.length + " bytes, not " + NONCE_BYTES);
            }
            this.secret = secret;
            this.peerNonce = initiatorNonce.clone();
        }

        /** The challenge to send back. */
        public byte[] nonce()
        {
            return nonce.clone();
        }

        /** Whether the initiator's proof shows it holds the secret. */
        public boolean verify(final byte[] initiatorProof)
        {
            return MessageDigest.isEqual(secret.hmac(INITIATOR, peerNonce, nonce), initiatorProof);
        }

        /** This side's proof, sent once the initiator's was verified. */
        public byte[] prove()
        {
            return secret.hmac(RESPONDER, peerNonce, nonce);
        }
    }
}
