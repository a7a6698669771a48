// Over 500 lines: the one client-side entry to every memory node (connecting with its retries,
// nodes attached after a re-replication, posting, the three ways to wait, key refresh after
// fencing); the transports, the trampoline and in-flight tracking live apart.
package io.dmkv.rdma;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntPredicate;

/**
 * A compute node's connections to a set of memory nodes over one transport. Posts batches that
 * may span nodes (one round trip each) and offers three ways to wait: blocking {@link #execute},
 * {@link #executeAsync} (futures completed on the client's completion thread, never on a
 * network thread) and the low-level {@link #post}. Thread-safe; a {@link VerbBatch} belongs to
 * one caller at a time.
 *
 * <p>The completion contract (docs/architecture.md): {@link #post} never blocks and never waits
 * for a slot; its listener runs once on the thread that completes the batch — a transport's
 * network or completion thread, or the posting thread itself when a transport completes inline
 * ({@code local}), through {@link CompletionTrampoline} so inline completions never recurse.
 * A blocking call ({@link #execute}, {@link #rpc}) made while the thread runs a completion fails
 * at once with an {@link IllegalStateException}. Admission control is the caller's: the store
 * bounds operations in flight.
 */
public final class VerbsClient implements AutoCloseable
{
    /**
     * Spinning before parking pays only when a core is free to run what completes the batch (the
     * network thread, the memory node): with fewer cores than that, a spinning waiter takes the
     * very core its completion needs, so it parks at once.
     */
    private static final boolean MAY_SPIN = Runtime.getRuntime().availableProcessors() >= 4;
    /** Round trips longer than this are waited for parked: a wake-up costs less than the spin. */
    private static final long SPIN_LIMIT_NS = TimeUnit.MICROSECONDS.toNanos(20);
    private static final AtomicInteger CLIENT_IDS = new AtomicInteger();

    private final VerbsTransport transport;
    private final ClientOptions options;
    /** Copy-on-write: a node that joins the cluster is attached while batches are posted. */
    private volatile List<VerbsChannel> channels;
    /** Every channel completes its parts inside submit ({@link #completesInPost}); kept with {@code channels}. */
    private volatile boolean inline;
    private final VerbCounters counters = new VerbCounters();
    private final ExecutorService completions;
    private final BatchListener blockingListener = (batch, failure) -> done(batch);
    /** Smoothed time a blocking round trip took (EWMA, 1/8 weight): how long a waiter may spin. */
    private volatile long roundTripNs = TimeUnit.MILLISECONDS.toNanos(1);
    private volatile boolean closed;

    private VerbsClient(final VerbsTransport transport, final List<VerbsChannel> channels,
        final ClientOptions options)
    {
        this.transport = transport;
        this.options = options;
        this.channels = List.copyOf(channels);
        this.inline = allComplete(this.channels);
        final int id = CLIENT_IDS.incrementAndGet();
        this.completions = Executors.newSingleThreadExecutor(r ->
        {
            final Thread t = new Thread(r, "dmkv-verbs-completion-" + id);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Connects to every endpoint (in order: node index i is endpoints[i]). Fails as a whole, and
     * closes what it opened, if any node cannot be reached. A null endpoint stands for a node the
     * cluster lost: it gets a {@link FailedNodeChannel}.
     */
    public static VerbsClient connect(final VerbsTransport transport, final List<String> endpoints,
        final ClientOptions options)
    {
        Objects.requireNonNull(transport, "transport");
        Objects.requireNonNull(options, "options");
        if (endpoints == null || endpoints.isEmpty())
        {
            throw new IllegalArgumentException("no memory node endpoints given");
        }
        final List<VerbsChannel> opened = new ArrayList<>();
        try
        {
            for (int n = 0; n < endpoints.size(); n++)
            {
                // A null endpoint is a node that failed (a degraded cluster): it keeps its index.
                opened.add(endpoints.get(n) == null ? new FailedNodeChannel("#" + n)
                    : connectRetryingRefusals(transport, endpoints.get(n), options));
            }
        }
        catch (final RuntimeException e)
        {
            opened.forEach(VerbsChannel::close);
            throw e;
        }
        return new VerbsClient(transport, opened, options);
    }

    /**
     * Connects to one node, retrying refused connections until the connect timeout: a memory
     * node zeroes its memory before it listens (seconds for a large one), so a client started
     * with it is refused at first. A node that refuses the hello because it is fenced (it lost
     * its coordinator session and has not rejoined yet) is tried again the same way. Other
     * failures are not retried.
     */
    private static VerbsChannel connectRetryingRefusals(final VerbsTransport transport, final String endpoint,
        final ClientOptions options)
    {
        final long deadline = options.clock().nanoTime() + options.connectTimeout().toNanos();
        long pauseMs = 10;
        while (true)
        {
            try
            {
                return transport.connect(endpoint, options);
            }
            catch (final ConnectionException e)
            {
                if (!(e.getCause() instanceof java.net.ConnectException))
                {
                    throw e;
                }
                if (options.clock().nanoTime() - deadline >= 0)
                {
                    throw new ConnectionException("memory node at " + endpoint + " refused connections for "
                        + options.connectTimeout().toMillis() + " ms (the connect timeout): is it running, and"
                        + " listening on that port? (" + e.getMessage() + ")", e.getCause());
                }
            }
            catch (final HandshakeException e)
            {
                if (!e.isFenced())
                {
                    throw e;
                }
                if (options.clock().nanoTime() - deadline >= 0)
                {
                    throw new HandshakeException(e.getMessage() + "; it stayed fenced for "
                        + options.connectTimeout().toMillis() + " ms (the connect timeout)");
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(pauseMs));
            pauseMs = Math.min(2 * pauseMs, 200);
        }
    }

    public int nodeCount()
    {
        return channels.size();
    }

    public VerbsChannel channel(final int node)
    {
        return channels.get(node);
    }

    public List<VerbsChannel> channels()
    {
        return channels;
    }

    public ClientOptions options()
    {
        return options;
    }

    public String transportName()
    {
        return transport.name();
    }

    /** Posts {@code batch} and waits for it; rethrows the first failure of any part. */
    public void execute(final VerbBatch batch)
    {
        final VerbThread t = VerbThread.current();
        refuseBlockingInCompletion(t, "execute");
        checkOpen();
        batch.waiter = Thread.currentThread();
        countPosted(batch, t.counters(), t);
        final long start = System.nanoTime();
        t.beginWaiting();
        try
        {
            batch.post(blockingListener, t);
        }
        catch (final RuntimeException e)
        {
            batch.waiter = null;
            throw e;
        }
        finally
        {
            t.endWaiting();
        }
        if (!batch.isDone())
        {
            awaitDone(batch, start);
        }
        batch.waiter = null;
        final Throwable failure = batch.failure();
        if (failure != null)
        {
            throw rethrowable(failure);
        }
    }

    /** Posts {@code batch}; the future completes on a completion thread of this client. Never blocks. */
    public CompletableFuture<VerbBatch> executeAsync(final VerbBatch batch)
    {
        final CompletableFuture<VerbBatch> future = new CompletableFuture<>();
        final Thread poster = Thread.currentThread();
        try
        {
            post(batch, (b, failure) ->
            {
                // A batch that completed inside post (local transport) is already on the caller's
                // thread: completing there is safe and saves two thread hand-offs. Anything else
                // completed on a network thread and moves to the completion thread.
                if (Thread.currentThread() == poster)
                {
                    complete(future, b, failure);
                }
                else
                {
                    completions.execute(() -> complete(future, b, failure));
                }
            });
        }
        catch (final RuntimeException e)
        {
            future.completeExceptionally(e);
        }
        return future;
    }

    private static void complete(final CompletableFuture<VerbBatch> future, final VerbBatch b, final Throwable failure)
    {
        if (failure == null)
        {
            future.complete(b);
        }
        else
        {
            future.completeExceptionally(failure);
        }
    }

    /**
     * Posts {@code batch}; {@code listener} runs once on the completing thread (maybe a network
     * thread: it must not block). Never blocks.
     */
    public void post(final VerbBatch batch, final BatchListener listener)
    {
        final VerbThread t = batch.thread();
        postCounted(batch, listener, t.counters(), t);
    }

    /**
     * As {@link #post(VerbBatch, BatchListener)}, counting the batch in {@code attributeTo} rather
     * than the posting thread's counters: an operation that continues on completion threads
     * counts every round trip to the thread that started it. Exact while that thread waits for
     * the operation (a blocking call); a thread with many operations in flight sees its counts
     * written from several threads at once and may lose a few.
     */
    public void post(final VerbBatch batch, final BatchListener listener, final ThreadCounters attributeTo)
    {
        postCounted(batch, listener, attributeTo, batch.thread());
    }

    private void postCounted(final VerbBatch batch, final BatchListener listener, final ThreadCounters attributeTo,
        final VerbThread t)
    {
        Objects.requireNonNull(listener, "listener");
        checkOpen();
        countPosted(batch, attributeTo, t);
        batch.post(listener, t);
    }

    /**
     * Connects to a memory node that joined the cluster after this client opened, as node index
     * {@code node}: the next index, or an index whose channel stands for a failed node. Blocking.
     *
     * @throws IllegalArgumentException if {@code node} is beyond the next index or names a live channel.
     */
    public synchronized VerbsChannel attach(final int node, final String endpoint)
    {
        refuseBlockingInCompletion("attach");
        checkOpen();
        final List<VerbsChannel> now = channels;
        if (node < 0 || node > now.size() || node < now.size() && !(now.get(node) instanceof FailedNodeChannel))
        {
            throw new IllegalArgumentException("memory node index " + node + " cannot be attached: this client has "
                + now.size() + " nodes" + (node < now.size() ? " and node " + node + " is live" : ""));
        }
        final VerbsChannel c = endpoint == null ? new FailedNodeChannel("#" + node)
            : connectRetryingRefusals(transport, endpoint, options);
        final List<VerbsChannel> next = new ArrayList<>(now);
        if (node == now.size())
        {
            next.add(c);
        }
        else
        {
            next.set(node, c);
        }
        channels = List.copyOf(next);
        inline = allComplete(channels);
        return c;
    }

    /**
     * True if every round trip of this client completes inside its post, on the posting thread
     * (every channel {@link VerbsChannel#completesInSubmit}, as on {@code local}): an operation's
     * steps up to its first wait then run without waiting.
     */
    public boolean completesInPost()
    {
        return inline;
    }

    private static boolean allComplete(final List<VerbsChannel> list)
    {
        for (final VerbsChannel c : list)
        {
            if (!c.completesInSubmit())
            {
                return false;
            }
        }
        return !list.isEmpty();
    }

    /**
     * Learns the current keys of every region from a new hello to each node and puts them into
     * this client's regions, for after a node re-keyed regions (fencing: verbs with an old key are
     * refused). Blocking; returns how many regions got a new key.
     *
     * @throws ConnectionException if a node cannot be reached.
     */
    public int refreshKeys()
    {
        return refreshKeys(node -> true);
    }

    /** As {@link #refreshKeys()}, for the nodes {@code include} accepts only (a failed node is left out). */
    public int refreshKeys(final IntPredicate include)
    {
        refuseBlockingInCompletion("refreshKeys");
        checkOpen();
        int changed = 0;
        final List<VerbsChannel> nodes = channels;
        for (int n = 0; n < nodes.size(); n++)
        {
            if (!include.test(n) || nodes.get(n) instanceof FailedNodeChannel)
            {
                continue;
            }
            final VerbsChannel c = nodes.get(n);
            final VerbsChannel fresh = transport.connect(c.node().endpoint(), options);
            try
            {
                for (final RemoteRegion now : fresh.regions())
                {
                    if (now.id() < c.regions().size())
                    {
                        final RemoteRegion mine = c.region(now.id());
                        if (mine.key() != now.key())
                        {
                            mine.rekey(now.key());
                            changed++;
                        }
                    }
                }
            }
            finally
            {
                fresh.close();
            }
        }
        return changed;
    }

    /** A blocking RPC to memory node {@code node}. */
    public ByteBuffer rpc(final int node, final int method, final ByteBuffer request)
    {
        refuseBlockingInCompletion("rpc");
        ThreadCounters.current().countRpc(request.remaining());
        counters.roundTrip();
        final CompletableFuture<ByteBuffer> f = channels.get(node).rpc(method, request);
        try
        {
            return f.get(options.requestTimeout().toNanos() + TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS);
        }
        catch (final ExecutionException e)
        {
            throw rethrowable(e.getCause());
        }
        catch (final TimeoutException e)
        {
            throw new VerbsTimeoutException("RPC " + method + " to " + channels.get(node).node() + " timed out");
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new VerbsException("interrupted while waiting for RPC " + method, e);
        }
    }

    /** An RPC whose future completes on a completion thread of this client. */
    public CompletableFuture<ByteBuffer> rpcAsync(final int node, final int method, final ByteBuffer request)
    {
        ThreadCounters.current().countRpc(request.remaining());
        counters.roundTrip();
        return channels.get(node).rpc(method, request).whenCompleteAsync((r, e) -> { }, completions);
    }

    /** This client's counters: verbs and bytes as posted; round trips are batches plus RPCs. */
    public VerbCounters.Snapshot counters()
    {
        VerbCounters.Snapshot rpcs = VerbCounters.Snapshot.ZERO;
        for (final VerbsChannel c : channels)
        {
            final VerbCounters.Snapshot s = c.counters().snapshot();
            rpcs = rpcs.plus(new VerbCounters.Snapshot(0, 0, 0, 0, s.rpcs(), 0, 0, 0));
        }
        return counters.snapshot().plus(rpcs);
    }

    public boolean isClosed()
    {
        return closed;
    }

    /** Closes every channel (batches in flight fail) and the completion thread. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        for (final VerbsChannel c : channels)
        {
            c.close();
        }
        completions.shutdown();
    }

    private void countPosted(final VerbBatch batch, final ThreadCounters attributeTo, final VerbThread t)
    {
        attributeTo.count(batch);
        counters.part(t, batch, VerbCounters.ALL_PARTS, Integer.MAX_VALUE);
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new ConnectionException("verbs client is closed");
        }
    }

    private static void refuseBlockingInCompletion(final String call)
    {
        refuseBlockingInCompletion(VerbThread.current(), call);
    }

    private static void refuseBlockingInCompletion(final VerbThread t, final String call)
    {
        if (t.inCompletion())
        {
            throw new IllegalStateException("blocking " + call + " called from a completion listener on thread "
                + Thread.currentThread().getName() + ": it would wait for a completion this thread has to run;"
                + " post the next batch with post() instead");
        }
    }

    private static void done(final VerbBatch batch)
    {
        final Thread t = batch.waiter;
        // A batch that completed inline, on the waiting thread itself, needs no wake-up.
        if (t != null && t != Thread.currentThread())
        {
            LockSupport.unpark(t);
        }
    }

    /** Waits for a batch posted at {@code start}: spins for about a round trip where that pays, then parks. */
    private void awaitDone(final VerbBatch batch, final long start)
    {
        final long rtt = roundTripNs;
        if (MAY_SPIN && rtt < SPIN_LIMIT_NS)
        {
            final long spinUntil = start + 2 * rtt;
            while (!batch.isDone() && System.nanoTime() - spinUntil < 0)
            {
                Thread.onSpinWait();
            }
        }
        parkUntilDone(batch);
        final long took = System.nanoTime() - start;
        roundTripNs = rtt + ((took - rtt) >> 3);
    }

    private void parkUntilDone(final VerbBatch batch)
    {
        // Channels fail their own requests at the timeout; this bound only guards against a bug.
        final long deadline = System.nanoTime() + options.requestTimeout().toNanos() * 2 + TimeUnit.SECONDS.toNanos(1);
        while (!batch.isDone())
        {
            LockSupport.parkNanos(batch, TimeUnit.MILLISECONDS.toNanos(10));
            if (System.nanoTime() - deadline > 0 && !batch.isDone())
            {
                throw new VerbsTimeoutException("batch of " + batch.size() + " verbs never completed");
            }
        }
    }

    private static RuntimeException rethrowable(final Throwable t)
    {
        Throwable cause = t;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null)
        {
            cause = cause.getCause();
        }
        if (cause instanceof RuntimeException)
        {
            return (RuntimeException)cause;
        }
        return new VerbsException(cause.toString(), cause);
    }
}
