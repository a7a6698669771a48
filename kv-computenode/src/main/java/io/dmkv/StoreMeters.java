package io.dmkv;

import java.util.List;
import java.util.function.ToLongFunction;

import io.dmkv.core.metrics.MeterSet;
import io.dmkv.core.metrics.MetricsExport;

/**
 * A store's {@link KvStats} as Micrometer meters ({@code dmkv.client.*}, tagged with the client
 * id), exported as {@code dmkv.metrics} says. Each meter reads a fresh snapshot when it is read
 * (a scrape, a JMX look): the operations themselves do nothing more.
 */
final class StoreMeters implements AutoCloseable
{
    private final MetricsExport export;
    private final MeterSet meters;

    StoreMeters(final KvStore store, final KvConfig config)
    {
        this.export = MetricsExport.open(MetricsExport.Kind.parse(config.metrics()), config.metricsPort());
        this.meters = new MeterSet(export, "client", Integer.toString(store.clientId()));
        count("dmkv.client.operations", "operations finished", store, s -> s.operations().completed());
        meters.gauge("dmkv.client.operations.in.flight", "operations in flight", store,
            s -> s.stats().operations().inFlight());
        final List<String> causes = KvStats.Errors.CAUSES;
        for (int i = 0; i < causes.size(); i++)
        {
            final int cause = i;
            count("dmkv.client.errors", "failed operations by cause", store,
                s -> s.operations().errors().count(cause), "cause", causes.get(i));
        }
        count("dmkv.client.verbs", "one-sided verbs posted", store, s -> s.verbs().reads(), "verb", "read");
        count("dmkv.client.verbs", "one-sided verbs posted", store, s -> s.verbs().writes(), "verb", "write");
        count("dmkv.client.verbs", "one-sided verbs posted", store, s -> s.verbs().cas(), "verb", "cas");
        count("dmkv.client.verbs", "one-sided verbs posted", store, s -> s.verbs().faa(), "verb", "faa");
        count("dmkv.client.rpcs", "two-sided RPCs", store, s -> s.verbs().rpcs());
        count("dmkv.client.round.trips", "batches and RPCs, one round trip each", store, s -> s.verbs().roundTrips());
        count("dmkv.client.bytes", "bytes sent and received", store, s -> s.verbs().bytesOut(), "direction", "out");
        count("dmkv.client.bytes", "bytes sent and received", store, s -> s.verbs().bytesIn(), "direction", "in");
        final String snapshot = "SNAPSHOT outcomes";
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().rule1(), "outcome", "rule1");
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().rule2(), "outcome", "rule2");
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().rule3(), "outcome", "rule3");
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().primaryOnly(), "outcome", "primary-only");
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().losses(), "outcome", "loss");
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().helps(), "outcome", "help");
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().fenced(), "outcome", "fenced");
        count("dmkv.client.snapshot", snapshot, store, s -> s.snapshot().withdrawn(), "outcome", "withdrawn");
        count("dmkv.client.retries", "operations that started over", store, s -> s.index().retries());
        count("dmkv.client.splits", "subtable splits", store, s -> s.index().splits());
        count("dmkv.client.cache", "index cache use", store, s -> s.index().cacheHits(), "result", "hit");
        count("dmkv.client.cache", "index cache use", store, s -> s.index().cacheMisses(), "result", "miss");
        meters.gauge("dmkv.client.blocks.owned", "blocks this client holds", store,
            s -> s.stats().allocator().blocksOwned());
        if (store.flexkv() != null)
        {
            flexkv(store);
        }
    }

    /** FlexKV's coherent cache, batching, directory and fence (docs/flexkv.md §11); zeros in a FUSEE cluster. */
    private void flexkv(final KvStore store)
    {
        final String cache = "FlexKV coherent cache use";
        count("dmkv.client.flexkv.cache", cache, store, s -> s.flexkv().cacheHits(), "result", "hit");
        count("dmkv.client.flexkv.cache", cache, store, s -> s.flexkv().cacheMisses(), "result", "miss");
        count("dmkv.client.flexkv.cache", cache, store, s -> s.flexkv().cacheStaleFills(), "result", "stale-fill");
        count("dmkv.client.flexkv.cache", cache, store, s -> s.flexkv().cacheInvalidated(), "result", "invalidated");
        meters.gauge("dmkv.client.flexkv.cache.bytes", "bytes of values cached from other proxies", store,
            s -> s.isClosed() ? 0 : s.stats().flexkv().cacheBytes());
        count("dmkv.client.flexkv.batch", "batch frames and the requests in them", store, s -> s.flexkv().frames(),
            "unit", "frames");
        count("dmkv.client.flexkv.batch", "batch frames and the requests in them", store, s -> s.flexkv().requests(),
            "unit", "requests");
        final String leases = "cache leases this proxy granted, refused, refused as write-hot, and waits a lease ended";
        count("dmkv.client.flexkv.leases", leases, store, s -> s.flexkv().leasesGranted(), "outcome", "granted");
        count("dmkv.client.flexkv.leases", leases, store, s -> s.flexkv().leasesRefused(), "outcome", "refused");
        count("dmkv.client.flexkv.leases", leases, store, s -> s.flexkv().leasesRefusedWriteHot(), "outcome",
            "write-hot");
        count("dmkv.client.flexkv.leases", leases, store, s -> s.flexkv().waitsEndedByLease(), "outcome", "ended");
        count("dmkv.client.flexkv.invalidations.sent", "invalidations this proxy sent", store,
            s -> s.flexkv().invalidationsSent());
        count("dmkv.client.flexkv.writes.waited", "writes this proxy answered after other nodes' invalidations",
            store, s -> s.flexkv().writesWaited());
        meters.gauge("dmkv.client.flexkv.directory.entries", "keys this proxy tracks as cached elsewhere", store,
            s -> s.isClosed() ? 0 : s.stats().flexkv().directoryEntries());
        count("dmkv.client.flexkv.fence.refusals", "requests this proxy's fence refused", store,
            s -> s.flexkv().fenceRefusals());
    }

    private void count(final String name, final String description, final KvStore store,
        final ToLongFunction<KvStats> f, final String... tags)
    {
        meters.counter(name, description, store, s -> s.isClosed() ? 0 : f.applyAsLong(s.stats()), tags);
    }

    /** Where the meters can be read. */
    String endpoint()
    {
        return export.endpoint();
    }

    @Override
    public void close()
    {
        meters.close();
        export.close();
    }
}
