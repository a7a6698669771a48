package io.dmkv.correctness;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import io.dmkv.KvStore;

/**
 * Runs operations on a {@link KvStore} and records each as an {@link Op} with its invoke and
 * response instants. One recorder per thread ({@link #forProcess}); {@link #history()} merges
 * them once the threads are done. A call that throws is recorded as failed (outcome unknown) and
 * counted, not rethrown: a timeout under contention is not a safety violation, the checker
 * decides what it may have done.
 */
public final class HistoryRecorder
{
    private final ConcurrentLinkedQueue<List<Op>> logs = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();

    /** A recorder for one thread; its operations carry {@code process}. */
    public Process forProcess(final int process, final KvStore store)
    {
        final List<Op> log = new ArrayList<>();
        logs.add(log);
        return new Process(process, store, log);
    }

    /**
     * A recorder for one thread that issues asynchronous calls: each call is recorded when its
     * future completes (on whatever thread), its response instant taken there, so the recorded
     * interval holds the real one.
     */
    public AsyncProcess forAsyncProcess(final int process, final KvStore store)
    {
        final List<Op> log = java.util.Collections.synchronizedList(new ArrayList<>());
        logs.add(log);
        return new AsyncProcess(process, store, log);
    }

    /** Every operation recorded so far (call only after the recording threads finished). */
    public List<Op> history()
    {
        final List<Op> all = new ArrayList<>();
        logs.forEach(all::addAll);
        return all;
    }

    /** Whether any call threw (cheap: for loops that stop at the first failure). */
    public boolean hasFailures()
    {
        return !failures.isEmpty();
    }

    /** Calls that threw. */
    public List<Throwable> failures()
    {
        return new ArrayList<>(failures);
    }

    /** One thread's view: each method calls the store and records the call. */
    public final class Process
    {
        private final int id;
        private final KvStore store;
        private final List<Op> log;

        private Process(final int id, final KvStore store, final List<Op> log)
        {
            this.id = id;
            this.store = store;
            this.log = log;
        }

        public String get(final String key)
        {
            final long t0 = System.nanoTime();
            try
            {
                final byte[] v = store.get(bytes(key));
                final long t1 = System.nanoTime();
                final String s = v == null ? null : new String(v, StandardCharsets.UTF_8);
                log.add(Op.get(id, key, s, t0, t1));
                return s;
            }
            catch (final RuntimeException e)
            {
                return failed(Op.Kind.GET, key, null, t0, e);
            }
        }

        public void put(final String key, final String value)
        {
            final long t0 = System.nanoTime();
            try
            {
                store.put(bytes(key), bytes(value));
                log.add(Op.put(id, key, value, t0, System.nanoTime()));
            }
            catch (final RuntimeException e)
            {
                failed(Op.Kind.PUT, key, value, t0, e);
            }
        }

        public boolean insert(final String key, final String value)
        {
            final long t0 = System.nanoTime();
            try
            {
                final boolean ok = store.insert(bytes(key), bytes(value));
                log.add(Op.insert(id, key, value, ok, t0, System.nanoTime()));
                return ok;
            }
            catch (final RuntimeException e)
            {
                failed(Op.Kind.INSERT, key, value, t0, e);
                return false;
            }
        }

        public boolean update(final String key, final String value)
        {
            final long t0 = System.nanoTime();
            try
            {
                final boolean ok = store.update(bytes(key), bytes(value));
                log.add(Op.update(id, key, value, ok, t0, System.nanoTime()));
                return ok;
            }
            catch (final RuntimeException e)
            {
                failed(Op.Kind.UPDATE, key, value, t0, e);
                return false;
            }
        }

        public boolean delete(final String key)
        {
            final long t0 = System.nanoTime();
            try
            {
                final boolean ok = store.delete(bytes(key));
                log.add(Op.delete(id, key, ok, t0, System.nanoTime()));
                return ok;
            }
            catch (final RuntimeException e)
            {
                failed(Op.Kind.DELETE, key, null, t0, e);
                return false;
            }
        }

        private String failed(final Op.Kind kind, final String key, final String value, final long t0,
            final RuntimeException e)
        {
            log.add(Op.failed(id, kind, key, value, t0));
            failures.add(e);
            return null;
        }
    }

    /** One thread's asynchronous view: each method starts a call and records it when it completes. */
    public final class AsyncProcess
    {
        private final int id;
        private final KvStore store;
        private final List<Op> log;

        private AsyncProcess(final int id, final KvStore store, final List<Op> log)
        {
            this.id = id;
            this.store = store;
            this.log = log;
        }

        public java.util.concurrent.CompletableFuture<?> get(final String key)
        {
            final long t0 = System.nanoTime();
            return store.getAsync(bytes(key)).whenComplete((v, e) -> record(e,
                () -> Op.get(id, key, v == null ? null : new String(v, StandardCharsets.UTF_8), t0, System.nanoTime()),
                Op.Kind.GET, key, null, t0));
        }

        public java.util.concurrent.CompletableFuture<?> put(final String key, final String value)
        {
            final long t0 = System.nanoTime();
            return store.putAsync(bytes(key), bytes(value)).whenComplete((v, e) -> record(e,
                () -> Op.put(id, key, value, t0, System.nanoTime()), Op.Kind.PUT, key, value, t0));
        }

        public java.util.concurrent.CompletableFuture<?> insert(final String key, final String value)
        {
            final long t0 = System.nanoTime();
            return store.insertAsync(bytes(key), bytes(value)).whenComplete((ok, e) -> record(e,
                () -> Op.insert(id, key, value, ok, t0, System.nanoTime()), Op.Kind.INSERT, key, value, t0));
        }

        public java.util.concurrent.CompletableFuture<?> update(final String key, final String value)
        {
            final long t0 = System.nanoTime();
            return store.updateAsync(bytes(key), bytes(value)).whenComplete((ok, e) -> record(e,
                () -> Op.update(id, key, value, ok, t0, System.nanoTime()), Op.Kind.UPDATE, key, value, t0));
        }

        public java.util.concurrent.CompletableFuture<?> delete(final String key)
        {
            final long t0 = System.nanoTime();
            return store.deleteAsync(bytes(key)).whenComplete((ok, e) -> record(e,
                () -> Op.delete(id, key, ok, t0, System.nanoTime()), Op.Kind.DELETE, key, null, t0));
        }

        private void record(final Throwable e, final java.util.function.Supplier<Op> done, final Op.Kind kind,
            final String key, final String value, final long t0)
        {
            if (e == null)
            {
                log.add(done.get());
            }
            else
            {
                log.add(Op.failed(id, kind, key, value, t0));
                failures.add(e);
            }
        }
    }

    private static byte[] bytes(final String s)
    {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
