// About 570 lines: one batch's verbs, their running totals and lent READs, its parts and its completion (inline
// lanes included) are one object that a round trip reuses without allocating; accessors are most of it.
package io.dmkv.rdma;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

import org.agrona.DirectBuffer;
import org.agrona.UnsafeAccess;
import org.agrona.MutableDirectBuffer;

/**
 * A doorbell batch: verbs to one or several memory nodes, posted together and completed
 * together as one round trip. Reusable and allocation-free once warm: {@link #reset()} it and
 * add verbs again. Not thread-safe while being filled; owned by the transport while posted.
 *
 * <p>Verbs are checked as they are added (bounds, alignment) so most mistakes fail before any
 * byte moves; the memory node checks again, since it trusts no client.
 */
public final class VerbBatch
{
    private static final int INITIAL_CAPACITY = 8;
    private static final int MAX_PARTS = 64;
    /*
     * The batch's own state is written with Unsafe ordered stores, not VarHandles: a batch is
     * posted and completed deep inside one inlined round trip (local, a lane), below the JIT's
     * inlining depth, where a VarHandle access is an out-of-line call.
     */
    private static final long DONE = fieldOffset("done");
    private static final long POSTED = fieldOffset("posted");
    private static final long FAILURE = fieldOffset("failure");

    private static long fieldOffset(final String name)
    {
        try
        {
            return UnsafeAccess.UNSAFE.objectFieldOffset(VerbBatch.class.getDeclaredField(name));
        }
        catch (final NoSuchFieldException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    private int size;
    private byte[] ops = new byte[INITIAL_CAPACITY];
    private RemoteRegion[] regions = new RemoteRegion[INITIAL_CAPACITY];
    private long[] offsets = new long[INITIAL_CAPACITY];
    private int[] lengths = new int[INITIAL_CAPACITY];
    private DirectBuffer[] buffers = new DirectBuffer[INITIAL_CAPACITY];
    private int[] bufferOffsets = new int[INITIAL_CAPACITY];
    private long[] operands = new long[INITIAL_CAPACITY];
    private long[] swaps = new long[INITIAL_CAPACITY];
    private long[] results = new long[INITIAL_CAPACITY];
    private int[] partOf = new int[INITIAL_CAPACITY];
    /** Per READ added with {@link #readLendable}: the offset into {@code lent} of the bytes a transport lent, else -1. */
    private int[] lentOffsets = new int[INITIAL_CAPACITY];
    /** Set with a compare and kept across resets (the memory of a node lives as long as the channel): see {@code reset}. */
    private DirectBuffer[] lent = new DirectBuffer[INITIAL_CAPACITY];
    private boolean[] lendable = new boolean[INITIAL_CAPACITY];
    /** What the verbs added so far add up to, kept as they are added so counting a batch needs no pass over it. */
    private final int[] verbsOf = new int[Verb.FAA + 1];
    private long bytesOut;
    private long bytesIn;

    private final VerbsChannel[] partChannels = new VerbsChannel[MAX_PARTS];
    private final InlineLane[] inlineLanes = new InlineLane[MAX_PARTS];
    private final Throwable[] inlineErrors = new Throwable[MAX_PARTS];
    private int partCount;
    private final AtomicInteger pendingParts = new AtomicInteger();
    private volatile Throwable failure;
    /** 1 once posted; 0 after a reset. */
    private volatile int posted;
    /** 1 once the last post completed. */
    private volatile int done;
    private BatchListener listener;
    /** The listener of the post that completed, kept apart from {@code listener} so a reset cannot lose it. */
    private BatchListener completing;
    private Object attachment;
    private boolean echo;
    Thread waiter;
    /** The {@link VerbThread} of the thread that posted this batch last (see {@link #thread}). */
    private VerbThread poster;

    /** Adds a READ of {@code length} bytes at {@code offset} of {@code region} into {@code dst}. */
    public int read(final RemoteRegion region, final long offset, final MutableDirectBuffer dst, final int dstOffset,
        final int length)
    {
        check(Verb.READ, region, offset, length);
        if (dstOffset < 0 || dstOffset > dst.capacity() - length)
        {
            throw new IllegalArgumentException("READ of " + length + " bytes does not fit the destination buffer");
        }
        final int i = add(Verb.READ, region, offset, length);
        buffers[i] = dst;
        bufferOffsets[i] = dstOffset;
        return i;
    }

    /**
     * Adds a READ as {@link #read} does, whose bytes a transport that holds the memory node's
     * memory in this process ({@code local}) may lend instead of copying into {@code dst}: once
     * the batch completed, {@link #source} and {@link #sourceOffset} say where the bytes are
     * ({@code dst} itself when they were copied). Lent bytes are the node's own memory and change
     * as writers change it, as memory under a NIC's READ does: a reader takes each byte it relies
     * on once and checks exactly those (a checksum over what it uses). They may be read until the
     * batch is reset or posted again, and never after the client closed.
     */
    public int readLendable(final RemoteRegion region, final long offset, final MutableDirectBuffer dst,
        final int dstOffset, final int length)
    {
        final int i = read(region, offset, dst, dstOffset, length);
        lendable[i] = true;
        return i;
    }

    /** Adds a WRITE of {@code length} bytes from {@code src} to {@code offset} of {@code region}. */
    public int write(final RemoteRegion region, final long offset, final DirectBuffer src, final int srcOffset,
        final int length)
    {
        check(Verb.WRITE, region, offset, length);
        if (srcOffset < 0 || srcOffset > src.capacity() - length)
        {
            throw new IllegalArgumentException("WRITE of " + length + " bytes reads past the source buffer");
        }
        final int i = add(Verb.WRITE, region, offset, length);
        buffers[i] = src;
        bufferOffsets[i] = srcOffset;
        return i;
    }

    /** Adds an 8-byte compare-and-swap; {@link #result(int)} is then the old value. */
    public int cas(final RemoteRegion region, final long offset, final long expected, final long desired)
    {
        check(Verb.CAS, region, offset, Verb.ATOMIC_SIZE);
        final int i = add(Verb.CAS, region, offset, Verb.ATOMIC_SIZE);
        operands[i] = expected;
        swaps[i] = desired;
        return i;
    }

    /** Adds an 8-byte fetch-and-add; {@link #result(int)} is then the old value. */
    public int faa(final RemoteRegion region, final long offset, final long delta)
    {
        check(Verb.FAA, region, offset, Verb.ATOMIC_SIZE);
        final int i = add(Verb.FAA, region, offset, Verb.ATOMIC_SIZE);
        operands[i] = delta;
        return i;
    }

    /** Empties the batch for reuse. Only legal when it is not in flight. */
    public VerbBatch reset()
    {
        if (posted != 0 && done == 0)
        {
            throw new IllegalStateException("batch is still in flight");
        }
        // Regions and channels stay, and add() stores them again only where they changed: storing a
        // reference into an old object costs a fence (G1's write barrier), and a reused batch mostly
        // names the same regions again. They live as long as the client anyway; buffers may not.
        Arrays.fill(buffers, 0, size, null);
        Arrays.fill(lendable, 0, size, false);
        size = 0;
        partCount = 0;
        Arrays.fill(verbsOf, 0);
        bytesOut = 0;
        bytesIn = 0;
        // Release stores, not volatile ones: only the owner touches an idle batch, and handing it
        // to a transport (a queue, a lock) publishes these before any other thread reads them.
        UnsafeAccess.UNSAFE.putOrderedInt(this, POSTED, 0);
        UnsafeAccess.UNSAFE.putOrderedInt(this, DONE, 0);
        UnsafeAccess.UNSAFE.putOrderedObject(this, FAILURE, null);
        listener = null;
        attachment = null;
        return this;
    }

    public int size()
    {
        return size;
    }

    public boolean isEmpty()
    {
        return size == 0;
    }

    /** READs in the batch. */
    public int reads()
    {
        return verbsOf[Verb.READ];
    }

    /** WRITEs in the batch. */
    public int writes()
    {
        return verbsOf[Verb.WRITE];
    }

    /** CASes in the batch. */
    public int casCount()
    {
        return verbsOf[Verb.CAS];
    }

    /** FAAs in the batch. */
    public int faaCount()
    {
        return verbsOf[Verb.FAA];
    }

    /** Payload bytes the batch sends: WRITE data and atomic operands. */
    public long bytesOut()
    {
        return bytesOut;
    }

    /** Payload bytes the batch brings back: READ data and atomics' old values. */
    public long bytesIn()
    {
        return bytesIn;
    }

    public byte op(final int i)
    {
        return ops[i];
    }

    public RemoteRegion region(final int i)
    {
        return regions[i];
    }

    public long offset(final int i)
    {
        return offsets[i];
    }

    public int length(final int i)
    {
        return lengths[i];
    }

    /** Source buffer of a WRITE, destination buffer of a READ. */
    public DirectBuffer buffer(final int i)
    {
        return buffers[i];
    }

    public MutableDirectBuffer readBuffer(final int i)
    {
        return (MutableDirectBuffer)buffers[i];
    }

    public int bufferOffset(final int i)
    {
        return bufferOffsets[i];
    }

    /** For transports: true if the READ at {@code i} may be answered with {@link #lend} instead of a copy. */
    public boolean lendable(final int i)
    {
        return lendable[i];
    }

    /**
     * For transports: answers the lendable READ at {@code i} with {@code memory}'s bytes from
     * {@code memoryOffset}, which stay where they are (see {@link #readLendable}).
     */
    public void lend(final int i, final DirectBuffer memory, final int memoryOffset)
    {
        if (!lendable[i])
        {
            throw new IllegalStateException("verb " + i + " is not a lendable READ");
        }
        // Compared first: a reference stored into an old object costs a fence (G1's write barrier), and
        // a batch mostly reads the same node's memory again.
        if (lent[i] != memory)
        {
            lent[i] = memory;
        }
        lentOffsets[i] = memoryOffset;
    }

    /** Where the bytes of the completed READ at {@code i} are: its destination buffer, or memory a transport lent. */
    public DirectBuffer source(final int i)
    {
        return lentOffsets[i] >= 0 ? lent[i] : buffers[i];
    }

    /** The offset of the bytes of the completed READ at {@code i} in {@link #source}. */
    public int sourceOffset(final int i)
    {
        return lentOffsets[i] >= 0 ? lentOffsets[i] : bufferOffsets[i];
    }

    /** True if a transport lent the bytes of the completed READ at {@code i} instead of copying them. */
    public boolean isLent(final int i)
    {
        return lentOffsets[i] >= 0;
    }

    /** Expected value of a CAS, delta of a FAA. */
    public long operand(final int i)
    {
        return operands[i];
    }

    /** New value of a CAS. */
    public long swap(final int i)
    {
        return swaps[i];
    }

    /** Old value returned by the CAS or FAA at {@code i}, valid once the batch completed. */
    public long result(final int i)
    {
        return results[i];
    }

    /** For transports: records the old value an atomic returned. */
    public void setResult(final int i, final long value)
    {
        results[i] = value;
    }

    /** Whether the CAS at {@code i} succeeded (its old value equals its expected value). */
    public boolean casSucceeded(final int i)
    {
        return results[i] == operands[i];
    }

    /** For transports: the part (channel) verb {@code i} belongs to. */
    public int partOf(final int i)
    {
        return partOf[i];
    }

    public int partCount()
    {
        return partCount;
    }

    public VerbsChannel partChannel(final int part)
    {
        return partChannels[part];
    }

    /** Whatever the caller wants to find again on completion (for example a protocol state). */
    public Object attachment()
    {
        return attachment;
    }

    public VerbBatch attachment(final Object value)
    {
        attachment = value;
        return this;
    }

    /**
     * Benchmark baseline: when set, a tcp channel sends the same frame as an ECHO that the memory
     * node returns untouched, and a local channel completes at once, so no verb is executed
     * and no result is produced. The difference to a normal post is the verb layer's cost.
     */
    public VerbBatch echo(final boolean value)
    {
        echo = value;
        return this;
    }

    public boolean isEcho()
    {
        return echo;
    }

    public boolean isDone()
    {
        return done != 0;
    }

    /** The first failure of the last completed post, or null. */
    public Throwable failure()
    {
        return failure;
    }

    /**
     * The calling thread's {@link VerbThread}, found with a compare instead of a thread-local
     * look-up when that thread posted this batch last (a batch is mostly reused by one thread).
     * For transports: a channel that completes a part counts it with this.
     */
    public VerbThread thread()
    {
        return VerbThread.same(poster);
    }

    /**
     * Hands the batch to its channels. Used by {@link VerbsClient}; the listener runs once, on the
     * thread that completes the last part. {@code t} is the calling thread's.
     */
    void post(final BatchListener onDone, final VerbThread t)
    {
        if (poster != t)
        {
            poster = t;
        }
        if (size == 0)
        {
            throw new IllegalStateException("empty batch");
        }
        if (posted != 0 && done == 0)
        {
            throw new IllegalStateException("batch is already in flight");
        }
        listener = onDone;
        UnsafeAccess.UNSAFE.putOrderedObject(this, FAILURE, null);
        UnsafeAccess.UNSAFE.putOrderedInt(this, DONE, 0);
        UnsafeAccess.UNSAFE.putOrderedInt(this, POSTED, 1);
        pendingParts.lazySet(partCount);
        if (t.waits() && postInline())
        {
            return;
        }
        // A local channel may complete synchronously inside submit: the count above is set first.
        for (int p = 0, n = partCount; p < n; p++)
        {
            partChannels[p].submit(this, p);
        }
    }

    /**
     * Does the round trip on this thread if every part's channel offers it a lane: writes every
     * part, then reads every answer (so the nodes work in parallel), then completes the parts.
     * False, having done nothing, if a channel has no lane.
     */
    private boolean postInline()
    {
        final int n = partCount;
        for (int p = 0; p < n; p++)
        {
            if ((inlineLanes[p] = partChannels[p].inlineLane()) == null)
            {
                Arrays.fill(inlineLanes, 0, p, null);
                return false;
            }
        }
        for (int p = 0; p < n; p++)
        {
            inlineErrors[p] = inlineLanes[p].send(this, p);
        }
        for (int p = 0; p < n; p++)
        {
            final InlineLane lane = inlineLanes[p];
            final Throwable sent = inlineErrors[p];
            inlineLanes[p] = null;
            inlineErrors[p] = null;
            // The last part runs the listener, which may post this batch again: nothing is read after it.
            partCompleted(p, sent != null ? sent : lane.receive(this, p));
        }
        return true;
    }

    /** For transports: part {@code part} finished, with {@code error} or null. */
    public void partCompleted(final int part, final Throwable error)
    {
        if (error != null)
        {
            UnsafeAccess.UNSAFE.compareAndSwapObject(this, FAILURE, null, error);
        }
        // A batch to one node has one part, whose completion is the last: no count to take down.
        if (partCount == 1 || pendingParts.decrementAndGet() == 0)
        {
            // Read the listener before done: a waiter that sees done may reuse the batch at once.
            final BatchListener l = listener;
            completing = l;
            // A release store: a waiter that reads done (volatile) sees everything written before.
            UnsafeAccess.UNSAFE.putOrderedInt(this, DONE, 1);
            if (l != null)
            {
                CompletionTrampoline.complete(thread(), this);
            }
        }
    }

    /** Runs the listener of the last post (by {@link CompletionTrampoline}). */
    void runListener()
    {
        final BatchListener l = completing;
        completing = null;
        l.batchCompleted(this, failure);
    }

    private int add(final byte op, final RemoteRegion region, final long offset, final int length)
    {
        if (posted != 0 && done == 0)
        {
            throw new IllegalStateException("batch is in flight");
        }
        if (size == ops.length)
        {
            grow();
        }
        final int i = size++;
        ops[i] = op;
        if (regions[i] != region)
        {
            regions[i] = region;
        }
        offsets[i] = offset;
        lengths[i] = length;
        results[i] = 0;
        lentOffsets[i] = -1;
        partOf[i] = partIndex(region.channel());
        tally(op, length);
        return i;
    }

    private void tally(final byte op, final int length)
    {
        verbsOf[op]++;
        bytesOut += Verb.bytesOut(op, length);
        bytesIn += Verb.bytesIn(op, length);
    }

    private int partIndex(final VerbsChannel channel)
    {
        for (int p = 0; p < partCount; p++)
        {
            if (partChannels[p] == channel)
            {
                return p;
            }
        }
        if (partCount == MAX_PARTS)
        {
            size--;
            throw new IllegalArgumentException("a batch spans at most " + MAX_PARTS + " memory nodes");
        }
        if (partChannels[partCount] != channel)
        {
            partChannels[partCount] = channel;
        }
        return partCount++;
    }

    private void check(final byte op, final RemoteRegion region, final long offset, final int length)
    {
        final RemoteAccessException.Reason refused = VerbRules.check(op, offset, length, region.length());
        if (refused != null)
        {
            throw new RemoteAccessException(refused, size, VerbRules.describe(refused, "a batch (" + region + ", "
                + region.length() + " bytes)", region.id(), region.key(), op, offset, length));
        }
    }

    private void grow()
    {
        final int n = ops.length * 2;
        ops = Arrays.copyOf(ops, n);
        regions = Arrays.copyOf(regions, n);
        offsets = Arrays.copyOf(offsets, n);
        lengths = Arrays.copyOf(lengths, n);
        buffers = Arrays.copyOf(buffers, n);
        bufferOffsets = Arrays.copyOf(bufferOffsets, n);
        operands = Arrays.copyOf(operands, n);
        swaps = Arrays.copyOf(swaps, n);
        results = Arrays.copyOf(results, n);
        partOf = Arrays.copyOf(partOf, n);
        lentOffsets = Arrays.copyOf(lentOffsets, n);
        lent = Arrays.copyOf(lent, n);
        lendable = Arrays.copyOf(lendable, n);
    }
}
