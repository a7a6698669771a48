package io.dmkv.rdma.security;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HandshakeTest
{
    private static final ClusterSecret SECRET = ClusterSecret.of("correct horse battery staple".getBytes());
    private static final ClusterSecret OTHER = ClusterSecret.of("incorrect horse battery staple".getBytes());

    @Test
    void peersWithTheSameSecretVerifyEachOther()
    {
        final Handshake.Initiator i = new Handshake.Initiator(SECRET);
        final Handshake.Responder r = new Handshake.Responder(SECRET, i.nonce());
        assertTrue(r.verify(i.prove(r.nonce())));
        assertTrue(i.verify(r.prove()));
    }

    @Test
    void aResponderWithAnotherSecretRefusesTheInitiatorAndIsRefusedByIt()
    {
        final Handshake.Initiator i = new Handshake.Initiator(SECRET);
        final Handshake.Responder r = new Handshake.Responder(OTHER, i.nonce());
        assertFalse(r.verify(i.prove(r.nonce())));
        assertFalse(i.verify(r.prove()));
    }

    @Test
    void aProofIsBoundToBothNoncesSoItCannotBeReplayed()
    {
        final Handshake.Initiator i = new Handshake.Initiator(SECRET);
        final Handshake.Responder first = new Handshake.Responder(SECRET, i.nonce());
        final byte[] proof = i.prove(first.nonce());
        final Handshake.Responder second = new Handshake.Responder(SECRET, i.nonce());
        assertFalse(second.verify(proof), "a proof for one challenge answers no other");
        assertFalse(Arrays.equals(first.nonce(), second.nonce()), "challenges are fresh");
    }

    @Test
    void aResponderProofIsNotAnInitiatorProof()
    {
        final Handshake.Initiator i = new Handshake.Initiator(SECRET);
        final Handshake.Responder r = new Handshake.Responder(SECRET, i.nonce());
        assertFalse(r.verify(r.prove()), "reflecting the node's own proof back fails");
    }

    @Test
    void aMissingNonceMeansThePeerHasNoSecret()
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> new Handshake.Responder(SECRET, new byte[0]));
        assertTrue(e.getMessage().contains("no cluster secret"), e.getMessage());
    }

    @Test
    void theInitiatorChecksNothingBeforeItProved()
    {
        final Handshake.Initiator i = new Handshake.Initiator(SECRET);
        assertFalse(i.verify(new byte[Handshake.PROOF_BYTES]));
    }

    @Test
    void aSecretFileIsReadWithoutItsTrailingNewlineAndShortOnesAreRefused(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("secret");
        Files.writeString(file, "correct horse battery staple\n");
        final ClusterSecret fromFile = ClusterSecret.fromFile(file);
        final Handshake.Initiator i = new Handshake.Initiator(fromFile);
        final Handshake.Responder r = new Handshake.Responder(SECRET, i.nonce());
        assertTrue(r.verify(i.prove(r.nonce())), "the file's secret is the text without its newline");
        assertFalse(fromFile.toString().contains("horse"), "toString never shows the secret");

        Files.writeString(file, "short\n");
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ClusterSecret.fromFile(file));
        assertTrue(e.getMessage().contains("at least " + ClusterSecret.MIN_BYTES), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClusterSecret.fromFile(dir.resolve("missing")));
    }

    @Test
    void aGeneratedSecretFileIsTheOwnersOnlyAndNeverOverwritten(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("generated");
        final ClusterSecret generated = ClusterSecret.generate(file);
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
            Files.getPosixFilePermissions(file)));
        final Handshake.Initiator i = new Handshake.Initiator(generated);
        final Handshake.Responder r = new Handshake.Responder(ClusterSecret.fromFile(file), i.nonce());
        assertTrue(r.verify(i.prove(r.nonce())), "the file holds the secret generate returned");
        assertThrows(IllegalArgumentException.class, () -> ClusterSecret.generate(file));
    }

    @Test
    void derivedCredentialsDependOnTheSecretAndThePurposeAndDoNotContainIt()
    {
        final String zk = SECRET.derive("zookeeper");
        assertArrayEquals(zk.getBytes(), SECRET.derive("zookeeper").getBytes());
        assertFalse(zk.equals(OTHER.derive("zookeeper")));
        assertFalse(zk.equals(SECRET.derive("something else")));
        assertFalse(zk.contains(new String("correct horse".getBytes(), StandardCharsets.UTF_8)));
    }
}
