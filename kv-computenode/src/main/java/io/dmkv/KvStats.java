package io.dmkv;

import java.util.List;

/**
 * What a {@link KvStore} did so far, as one immutable snapshot ({@link KvStore#stats()}): how
 * SNAPSHOT decisions went, the index's splits and retries, the allocator's blocks, the verbs
 * posted, and the operations in flight.
 *
 * @param snapshot   SNAPSHOT replication outcomes.
 * @param index      index splits, retries, cache use.
 * @param allocator  blocks and objects of two-level memory management.
 * @param verbs      verbs, bytes and round trips this client posted.
 * @param operations operations finished, in flight now and at most, and failed by cause.
 * @param nodes      verbs, bytes and round trips (frames) this client sent to each memory node, in
 *                   the order the memory nodes are configured: how the load spreads.
 * @param flexkv     in a FlexKV cluster, this compute node's coherent cache, request batching and (if
 *                   it proxies partitions) its coherence directory and fence; zeros in a FUSEE cluster.
 */
public record KvStats(Snapshot snapshot, Index index, Allocator allocator, Verbs verbs, Operations operations,
    List<Verbs> nodes, FlexKv flexkv)
{
    /**
     * A FlexKV compute node's caching figures (docs/flexkv.md §11). As a cacher of values from
     * other proxies' partitions:
     *
     * @param cacheHits          reads answered from the coherent cache (0 round trips).
     * @param cacheMisses        reads of other proxies' partitions the cache could not answer.
     * @param cacheStaleFills    values looked up before an invalidation arrived, and so not cached.
     * @param cacheInvalidated   cached values dropped by invalidations the proxies sent (applied).
     * @param cacheBytes         accounted bytes of the values cached now.
     * @param frames             batch frames sent to other proxies.
     * @param requests           requests in those frames.
     * @param leasesGranted      as a proxy: cache leases granted to other compute nodes.
     * @param leasesRefused      as a proxy: leases refused (a full directory, a 65th compute node).
     * @param leasesRefusedWriteHot as a proxy: leases refused because the key is written too often to be
     *                           worth caching (write-hot; the reader asks the proxy each time instead).
     * @param invalidationsSent  as a proxy: invalidations queued for the compute nodes caching a written key.
     * @param writesWaited       as a proxy: writes answered only after other nodes' invalidations.
     * @param waitsEndedByLease  as a proxy: such waits ended by a lease running out (a silent cacher).
     * @param directoryEntries   as a proxy: keys tracked as cached elsewhere now.
     * @param fenceRefusals      as a proxy: admission checks its fence refused (a request is checked when it
     *                           finds its subtable and again before its write-through).
     */
    public record FlexKv(long cacheHits, long cacheMisses, long cacheStaleFills, long cacheInvalidated,
        long cacheBytes, long frames, long requests, long leasesGranted, long leasesRefused,
        long leasesRefusedWriteHot, long invalidationsSent, long writesWaited, long waitsEndedByLease,
        long directoryEntries, long fenceRefusals)
    {
        /** A FUSEE cluster's: nothing. */
        public static final FlexKv NONE = new FlexKv(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /**
     * SNAPSHOT outcomes (FUSEE's rules over r index replicas).
     *
     * @param rule1       winners because every backup took their value.
     * @param rule2       winners by a majority of the backups (r &ge; 4), after fixing the dissenters.
     * @param rule3       winners with no majority for anyone, by holding the smallest proposed value.
     * @param primaryOnly decisions with r = 1, made by the primary CAS alone.
     * @param losses      writers that lost and were linearized before the winner (or retried).
     * @param helps       losers that completed a stalled winner's primary CAS themselves.
     * @param fenced      losers whose wait ended because the slot's subtable split under them.
     * @param withdrawn   writers whose value a split stranded in a subtable that no longer covers their key.
     */
    public record Snapshot(long rule1, long rule2, long rule3, long primaryOnly, long losses, long helps, long fenced,
        long withdrawn)
    {
    }

    /**
     * @param splits         subtable splits this client performed.
     * @param retries        operations that had to start over (lost races, stale directory, busy locks).
     * @param candidateReads extra round trips spent reading candidate objects to compare keys.
     * @param cacheHits      operations the index cache let skip a step.
     * @param cacheMisses    cached slots found stale.
     * @param lockTakeovers  insert locks taken over from a holder whose lease expired.
     * @param locksLost      insert locks found taken over when their holder renewed them.
     */
    public record Index(long splits, long retries, long candidateReads, long cacheHits, long cacheMisses,
        long lockTakeovers, long locksLost)
    {
    }

    /**
     * @param blocksOwned      blocks this client holds now.
     * @param blocksClaimed    blocks taken from memory nodes by ALLOC.
     * @param blocksAdopted    blocks taken over from clients that closed.
     * @param blocksHandedOver blocks handed over for later clients to adopt.
     * @param blocksReleased   empty blocks given back to the memory nodes.
     * @param objectsReclaimed objects taken back from free bitmaps.
     */
    public record Allocator(int blocksOwned, long blocksClaimed, long blocksAdopted, long blocksHandedOver,
        long blocksReleased, long objectsReclaimed)
    {
    }

    /**
     * @param reads      READ verbs.
     * @param writes     WRITE verbs.
     * @param cas        compare-and-swap verbs.
     * @param faa        fetch-and-add verbs.
     * @param rpcs       two-sided RPCs (block ALLOC, formatting).
     * @param bytesOut   bytes sent (WRITE payloads and verb headers as the transport counts them).
     * @param bytesIn    bytes received (READ payloads, atomic results).
     * @param roundTrips batches plus RPCs: one round trip each.
     */
    public record Verbs(long reads, long writes, long cas, long faa, long rpcs, long bytesOut, long bytesIn,
        long roundTrips)
    {
        /** All one-sided verbs. */
        public long total()
        {
            return reads + writes + cas + faa;
        }
    }

    /**
     * @param completed   operations finished (successfully or not).
     * @param inFlight    operations started and not yet finished, now.
     * @param peakInFlight the most operations in flight at once so far.
     * @param errors      operations that failed, by cause.
     */
    public record Operations(long completed, long inFlight, long peakInFlight, Errors errors)
    {
    }

    /**
     * Failed operations by the exception the caller got.
     *
     * @param timeouts     {@link KvTimeoutException}.
     * @param unreachable  {@link NodeUnreachableException}.
     * @param memoryFull   {@link MemoryFullException}.
     * @param invalidInput {@link InvalidInputException}.
     * @param config       {@link KvConfigException}.
     * @param closed       {@link StoreClosedException}.
     * @param other        any other exception (a damaged object, a refused verb, ...).
     */
    public record Errors(long timeouts, long unreachable, long memoryFull, long invalidInput, long config,
        long closed, long other)
    {
        /** Causes by name, in the order of the components. */
        public static final List<String> CAUSES = List.of("timeout", "unreachable", "memory-full", "invalid-input",
            "config", "closed", "other");

        /** The count of cause {@code i} of {@link #CAUSES}. */
        public long count(final int i)
        {
            return switch (i)
            {
                case 0 -> timeouts;
                case 1 -> unreachable;
                case 2 -> memoryFull;
                case 3 -> invalidInput;
                case 4 -> config;
                case 5 -> closed;
                default -> other;
            };
        }

        /** All failed operations. */
        public long total()
        {
            return timeouts + unreachable + memoryFull + invalidInput + config + closed + other;
        }
    }
}
