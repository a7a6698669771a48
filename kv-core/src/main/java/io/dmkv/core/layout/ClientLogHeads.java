package io.dmkv.core.layout;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The heads of every client's embedded-log lists, kept on memory nodes so that a restarted
 * client, or another one, can find a crashed client's log, and the client's heartbeat. One
 * 152-byte record per client id, one 8-byte head per size class and the heartbeat; it lives in
 * the root region at {@link RegionLayout#clientLogHeadsOffset(int)}, replicated with that region.
 *
 * <pre>
 *   record of client c (1..maxClients) at (c - 1) * 152:
 *   0          8          16                                   136        144          152
 *   +----------+----------+-------------------  . . .  --------+----------+------------+
 *   | head of  | head of  |                                    | head of  | heartbeat  |
 *   | class 0  | class 1  |                                    | class 17 | (counter)  |
 *   +----------+----------+-------------------  . . .  --------+----------+------------+
 *   head: global address of the oldest object in the client's list of that class, 0 = empty
 *   heartbeat: a counter the live client raises every heartbeat period (on the primary only);
 *              recovery refuses a client whose heartbeat moves (layout version 3)
 * </pre>
 * Recovery follows each head's next pointers ({@link LogEntry}) until an object without the used
 * bit. A record is two cache lines and heads are 8-byte aligned, so a client updates one head
 * with an 8-byte WRITE (or CAS, where two clients could race for an id). Native (little-endian)
 * order. The table's size is a parameter: {@link #DEFAULT_MAX_CLIENTS} ids by default, at most
 * {@link BlockAllocationTable#MAX_CLIENT_ID}.
 */
public final class ClientLogHeads
{
    /** Bytes per head. */
    public static final int HEAD_LENGTH = 8;
    /** Offset of the heartbeat in a record. */
    public static final int HEARTBEAT_OFFSET = SizeClasses.COUNT * HEAD_LENGTH;
    /** Bytes per client record. */
    public static final int RECORD_LENGTH = HEARTBEAT_OFFSET + 8;
    /** Default number of client ids the table has room for: a 152 KiB table. */
    public static final int DEFAULT_MAX_CLIENTS = 1024;

    private ClientLogHeads()
    {
    }

    /**
     * Checks a table size.
     *
     * @throws IllegalArgumentException unless it is in 1..65,535.
     */
    public static int validateMaxClients(final int maxClients)
    {
        if (maxClients < 1 || maxClients > BlockAllocationTable.MAX_CLIENT_ID)
        {
            throw new IllegalArgumentException("maximum number of clients " + maxClients + " is outside 1.."
                + BlockAllocationTable.MAX_CLIENT_ID);
        }
        return maxClients;
    }

    /** Bytes of a table for client ids 1..maxClients. */
    public static int length(final int maxClients)
    {
        return validateMaxClients(maxClients) * RECORD_LENGTH;
    }

    /** Offset of client {@code clientId}'s record from the table's start. */
    public static int recordOffset(final int clientId)
    {
        return (BlockAllocationTable.validateClientId(clientId) - 1) * RECORD_LENGTH;
    }

    /** Offset of client {@code clientId}'s head for {@code sizeClass} from the table's start. */
    public static int headOffset(final int clientId, final int sizeClass)
    {
        SizeClasses.units(sizeClass);
        return recordOffset(clientId) + sizeClass * HEAD_LENGTH;
    }

    /** Head for {@code clientId} and {@code sizeClass} in a table at {@code tableOffset}. */
    public static long head(final DirectBuffer buffer, final int tableOffset, final int clientId, final int sizeClass)
    {
        return buffer.getLong(tableOffset + headOffset(clientId, sizeClass));
    }

    /** Writes a head; {@code head} is 0 or an object address. */
    public static void putHead(final MutableDirectBuffer buffer, final int tableOffset, final int clientId,
        final int sizeClass, final long head)
    {
        LogEntry.requirePointer(head, "log head");
        buffer.putLong(tableOffset + headOffset(clientId, sizeClass), head);
    }
}
