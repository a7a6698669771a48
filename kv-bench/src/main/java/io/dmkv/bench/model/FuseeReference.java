package io.dmkv.bench.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * FUSEE's published figures (FAST '23, as the design brief's §6 reads them off the paper's
 * figures) and FUSEE's verb mix per operation, the reference the {@link NicModel} is checked
 * against.
 *
 * <p>The testbed: 56 Gb/s ConnectX-3, 2 memory nodes, 128 clients (8 per compute node, so 16
 * compute nodes), 1 KiB KV pairs, YCSB zipfian 0.99 over 100 K keys.
 *
 * <p>FUSEE's mix, with r = 2: the brief's §4 says one replication factor serves index and data
 * ("FUSEE's default") and §6's testbed has 2 memory nodes, which bounds r at 2; FUSEE's README
 * configures its 2-memory-node clients with {@code num_replication: 2}. Per operation (§4, the
 * published RTT counts with r > 1, warm, uncontended):
 * <ul>
 *   <li>SEARCH, 2 RTT (the cache-miss case of "1–2"): READ both 128-byte combined buckets, then
 *       READ the object. A cache hit does the same verbs in 1 RTT.</li>
 *   <li>INSERT / UPDATE, 4 RTT: WRITE the object to r replicas and READ the 2 buckets; CAS the
 *       r − 1 backup slots; WRITE the 8-byte log commit to r replicas; CAS the primary slot.</li>
 *   <li>DELETE, 4 RTT: the same with a 64-byte log object (header, key, log entry; assumed size)
 *       instead of the KV pair.</li>
 * </ul>
 * FUSEE's code never frees replaced objects, so its mix has no FAA.
 *
 * <p>The object: FUSEE's code stores a KV pair as an 8-byte header (valid byte, key length,
 * value length, as the compiler lays the struct out), the key and value, and a 32-byte log tail
 * (next and prev pointers, old value, checksum byte, op code, padded to 8-byte alignment): 1,064
 * bytes for a 1 KiB pair, WRITTEN whole. Its slots count lengths in 64-byte units, so a reader
 * READs 1,088 bytes. (Until 2026-12-04 this model counted the bare 1,024-byte pair both ways,
 * which undercounted FUSEE's bytes by 4-6%; docs/nic-model.md shows both.)
 */
public final class FuseeReference
{
    public static final int MEMORY_NODES = 2;
    public static final int CLIENTS = 128;
    public static final int CLIENT_NODES = 16;
    public static final int REPLICATION = 2;
    /** A KV pair: key and value, the YCSB record. */
    public static final int KV_BYTES = 1024;
    /** FUSEE's object header and log tail around the pair (see the class comment). */
    public static final int OBJECT_OVERHEAD = 8 + 32;
    /** Bytes FUSEE WRITEs for a 1 KiB pair: header, pair, log tail. */
    public static final int OBJECT_WRITE_BYTES = KV_BYTES + OBJECT_OVERHEAD;
    /** Bytes FUSEE READs for it: the object rounded up to its slots' 64-byte length unit. */
    public static final int OBJECT_READ_BYTES = (OBJECT_WRITE_BYTES + 63) / 64 * 64;
    /** A combined bucket: a 64-byte main bucket and its overflow bucket. */
    public static final int COMBINED_BUCKET_BYTES = 128;
    /** DELETE's log object (assumed). */
    public static final int DELETE_OBJECT_BYTES = 64;
    /** The log commit: the old primary value. */
    public static final int LOG_COMMIT_BYTES = 8;
    /** A CAS sends compare and swap values and returns the old value; as VerbCounters counts it. */
    private static final int CAS_OUT = 16;
    private static final int CAS_IN = 8;

    /**
     * A published figure.
     *
     * @param name       operation or YCSB workload.
     * @param mops       throughput, 128 clients, millions of operations per second.
     * @param p50Micros  single-client median latency, µs, or NaN where the brief gives none.
     */
    public record Published(String name, double mops, double p50Micros)
    {
    }

    /** Operations, then YCSB workloads A–D. */
    public static final List<Published> PUBLISHED = List.of(
        new Published("SEARCH", 9.29, 5),
        new Published("INSERT", 2.11, 10),
        new Published("UPDATE", 2.00, 11),
        new Published("DELETE", 2.79, 11),
        new Published("YCSB A", 3.46, Double.NaN),
        new Published("YCSB B", 6.75, Double.NaN),
        new Published("YCSB C", 8.67, Double.NaN),
        new Published("YCSB D", 7.32, Double.NaN));

    private FuseeReference()
    {
    }

    /** FUSEE's testbed with {@code nic} (the ConnectX-3 preset for the check). */
    public static NicModel.Setup testbed(final NicSpec nic, final NicModel.Atomics atomics)
    {
        return new NicModel.Setup(nic, MEMORY_NODES, CLIENTS, CLIENT_NODES, 1, atomics);
    }

    /** FUSEE's verb mix of SEARCH, INSERT, UPDATE and DELETE (see the class comment). */
    public static Map<String, VerbMix> operations()
    {
        final int r = REPLICATION;
        final Map<String, VerbMix> m = new LinkedHashMap<>();
        m.put("SEARCH", new VerbMix("SEARCH", 2, 3, 0, 0, 0, 0, 2 * COMBINED_BUCKET_BYTES + OBJECT_READ_BYTES));
        m.put("INSERT", write("INSERT", OBJECT_WRITE_BYTES, r));
        m.put("UPDATE", write("UPDATE", OBJECT_WRITE_BYTES, r));
        m.put("DELETE", write("DELETE", DELETE_OBJECT_BYTES, r));
        return m;
    }

    private static VerbMix write(final String name, final int object, final int r)
    {
        final int atomics = (r - 1) + 1;
        return new VerbMix(name, 4, 2, 2 * r, atomics, 0, r * object + r * LOG_COMMIT_BYTES + atomics * CAS_OUT,
            2 * COMBINED_BUCKET_BYTES + atomics * CAS_IN);
    }

    /**
     * YCSB workloads A–D as mixes of the operations: A 50% SEARCH 50% UPDATE, B 95/5, C all
     * SEARCH, D 95% SEARCH 5% INSERT. Null where an operation it needs is missing from {@code ops}.
     */
    public static Map<String, VerbMix> workloads(final Map<String, VerbMix> ops)
    {
        final Map<String, VerbMix> w = new LinkedHashMap<>();
        w.put("YCSB A", blend("YCSB A", ops, 0.5, "UPDATE"));
        w.put("YCSB B", blend("YCSB B", ops, 0.05, "UPDATE"));
        w.put("YCSB C", blend("YCSB C", ops, 0, "UPDATE"));
        w.put("YCSB D", blend("YCSB D", ops, 0.05, "INSERT"));
        return w;
    }

    private static VerbMix blend(final String name, final Map<String, VerbMix> ops, final double share,
        final String writeOp)
    {
        final VerbMix search = ops.get("SEARCH");
        if (search == null)
        {
            return null;
        }
        if (share == 0)
        {
            return VerbMix.blend(name, new double[] {1}, search);
        }
        final VerbMix write = ops.get(writeOp);
        return write == null ? null : VerbMix.blend(name, new double[] {1 - share, share}, search, write);
    }
}
