package io.dmkv.rdma.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.Set;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's shared secret: the key of every HMAC in the {@link Handshake} and the root the
 * coordinator's credentials are derived from. It never crosses the wire. Read from a file (the
 * file's bytes, trailing white space cut), at least {@value #MIN_BYTES} bytes; a random one is
 * made with {@code head -c 32 /dev/urandom | base64 > secret}.
 */
public final class ClusterSecret
{
    /** Shortest secret accepted: below this an eavesdropper's offline guessing gets easy. */
    public static final int MIN_BYTES = 16;
    /** Longest secret file read. */
    public static final int MAX_BYTES = 4096;
    private static final String HMAC = "HmacSHA256";
    private static final Logger LOG = LoggerFactory.getLogger(ClusterSecret.class);

    private final SecretKeySpec key;
    private final String origin;

    private ClusterSecret(final byte[] bytes, final String origin)
    {
        if (bytes.length < MIN_BYTES)
        {
            throw new IllegalArgumentException("the cluster secret " + origin + " has " + bytes.length
                + " bytes; it needs at least " + MIN_BYTES + " (make one: head -c 32 /dev/urandom | base64)");
        }
        this.key = new SecretKeySpec(bytes, HMAC);
        this.origin = origin;
    }

    /** The secret in {@code bytes} (tests; the array is copied). */
    public static ClusterSecret of(final byte[] bytes)
    {
        return new ClusterSecret(bytes.clone(), "given in code");
    }

    /**
     * Reads the secret from {@code file}. Warns when others than its owner may read it.
     *
     * @throws IllegalArgumentException naming the file when it cannot be read, is too long or too short.
     */
    public static ClusterSecret fromFile(final Path file)
    {
        final byte[] all;
        try
        {
            if (Files.size(file) > MAX_BYTES)
            {
                throw new IllegalArgumentException("the cluster secret file " + file + " is longer than " + MAX_BYTES
                    + " bytes: is it the right file?");
            }
            all = Files.readAllBytes(file);
        }
        catch (final IOException e)
        {
            throw new IllegalArgumentException("cannot read the cluster secret file " + file + ": " + e, e);
        }
        int n = all.length;
        while (n > 0 && Character.isWhitespace(all[n - 1]))
        {
            n--;
        }
        warnIfShared(file);
        return new ClusterSecret(Arrays.copyOf(all, n), "in " + file);
    }

    private static void warnIfShared(final Path file)
    {
        try
        {
            final Set<PosixFilePermission> p = Files.getPosixFilePermissions(file);
            if (p.contains(PosixFilePermission.GROUP_READ) || p.contains(PosixFilePermission.OTHERS_READ))
            {
                LOG.warn("the cluster secret file {} can be read by other users than its owner: chmod 600 it", file);
            }
        }
        catch (final IOException | UnsupportedOperationException e)
        {
            // not a POSIX file system: nothing to check
        }
    }

    /**
     * Writes a new random secret (32 bytes, base64, a newline) to {@code file}, readable and
     * writable by its owner only, and returns it.
     *
     * @throws IllegalArgumentException naming the file when it exists or cannot be written.
     */
    public static ClusterSecret generate(final Path file)
    {
        final byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        final String text = Base64.getEncoder().encodeToString(random) + "\n";
        try
        {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, text, StandardCharsets.US_ASCII);
        }
        catch (final IOException | UnsupportedOperationException e)
        {
            throw new IllegalArgumentException("cannot write a new cluster secret to " + file + ": " + e, e);
        }
        return fromFile(file);
    }

    /** HMAC-SHA256 under the secret of {@code label} followed by {@code parts}. */
    public byte[] hmac(final String label, final byte[]... parts)
    {
        try
        {
            final Mac mac = Mac.getInstance(HMAC);
            mac.init(key);
            mac.update(label.getBytes(StandardCharsets.UTF_8));
            for (final byte[] p : parts)
            {
                mac.update(p);
            }
            return mac.doFinal();
        }
        catch (final GeneralSecurityException e)
        {
            throw new IllegalStateException(HMAC + " is not available in this JVM", e);
        }
    }

    /**
     * A credential for {@code purpose} derived from the secret (HMAC of the purpose, base64):
     * what goes to a service that must not learn the secret itself, such as the coordinator.
     */
    public String derive(final String purpose)
    {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(hmac("dmkv derive " + purpose));
    }

    /** Where the secret came from, never the secret. */
    @Override
    public String toString()
    {
        return "cluster secret " + origin;
    }
}
