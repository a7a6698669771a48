package io.dmkv.core.layout;

/**
 * What {@link KvObject#validate} found, in the order it checks. Only {@link #OK} objects may be
 * returned to a reader; recovery also trusts {@link #INVALID} ones, whose bytes are intact but
 * which a later operation has superseded.
 */
public enum ObjectStatus
{
    /** The used bit is clear: the object never landed whole (or was never written). */
    NOT_USED,
    /** Lengths, size class or op code are impossible: garbage, or a size that is not a class. */
    BAD_HEADER,
    /** The object CRC32C does not match: the READ raced with a reuse of the memory. */
    BAD_CHECKSUM,
    /** Intact, but its valid byte was cleared because a newer object replaced it. */
    INVALID,
    /** Intact and valid. */
    OK
}
