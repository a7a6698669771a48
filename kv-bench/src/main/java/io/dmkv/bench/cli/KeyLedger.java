package io.dmkv.bench.cli;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Which value each key may hold once the writers have stopped, so the demo's final check is
 * exact without recording every write. Updates of a key take increasing tickets when they start;
 * a linearizable store must end on a write that no acknowledged write started after. With
 * {@code best} the acknowledged write with the highest ticket (the one that started last), those
 * are {@code best} itself and the writes that were in flight when {@code best} started: any other
 * write finished before {@code best} began and must have been overwritten.
 *
 * <p>Tickets are taken and in-flight sets recorded under the key's monitor before the store call
 * starts, and acknowledgements recorded after it returns, so the recorded intervals contain the
 * real ones and the check never rejects a legal outcome. A write that failed may or may not have
 * taken effect; its key is then only checked for holding some write of its own.
 *
 * <p>State is created on a key's first update, so keys that are only read cost nothing.
 */
final class KeyLedger
{
    private final AtomicReferenceArray<Entry> entries;
    private final int maxInFlight;

    /**
     * @param keys        keys 0 .. keys - 1.
     * @param maxInFlight writers that may update one key at the same time (the thread count).
     */
    KeyLedger(final int keys, final int maxInFlight)
    {
        this.entries = new AtomicReferenceArray<>(keys);
        this.maxInFlight = maxInFlight;
    }

    /** Starts an update of {@code key}: returns its ticket (1, 2, ...); call {@link #acknowledged} or {@link #failed} after. */
    long begin(final int key)
    {
        final Entry e = entry(key);
        synchronized (e)
        {
            final long ticket = ++e.issued;
            if (e.inFlightCount == e.inFlight.length)
            {
                throw new IllegalStateException("more than " + maxInFlight + " concurrent updates of key " + key);
            }
            e.addInFlight(ticket);
            return ticket;
        }
    }

    /** The update with {@code ticket} of {@code key} returned successfully. */
    void acknowledged(final int key, final long ticket)
    {
        final Entry e = entries.get(key);
        synchronized (e)
        {
            final long[] others = e.removeInFlight(ticket);
            if (ticket > e.best)
            {
                e.best = ticket;
                e.startedDuring = others;
            }
        }
    }

    /** The update with {@code ticket} of {@code key} failed; it may or may not have taken effect. */
    void failed(final int key, final long ticket)
    {
        final Entry e = entries.get(key);
        synchronized (e)
        {
            e.removeInFlight(ticket);
            e.uncertain = true;
        }
    }

    /**
     * Null if {@code ticket} is a value {@code key} may hold now that every update has finished,
     * else why not.
     */
    String verify(final int key, final long ticket)
    {
        final Entry e = entries.get(key);
        if (e == null)
        {
            return ticket == 0 ? null : "key " + key + " was never updated but holds write " + ticket;
        }
        synchronized (e)
        {
            if (e.inFlightCount > 0)
            {
                throw new IllegalStateException("key " + key + " still has updates in flight");
            }
            if (ticket < 0 || ticket > e.issued)
            {
                return "key " + key + " holds write " + ticket + ", but only " + e.issued + " were issued";
            }
            if (e.uncertain || ticket == e.best)
            {
                return null;
            }
            for (final long t : e.startedDuring)
            {
                if (t == ticket)
                {
                    return null;
                }
            }
            return "key " + key + " holds write " + ticket + ", which finished before acknowledged write " + e.best
                + " started (lost update)";
        }
    }

    private Entry entry(final int key)
    {
        final Entry e = entries.get(key);
        if (e != null)
        {
            return e;
        }
        final Entry created = new Entry(maxInFlight);
        return entries.compareAndSet(key, null, created) ? created : entries.get(key);
    }

    /** One key's updates, guarded by its monitor. */
    private static final class Entry
    {
        private static final long[] NONE = new long[0];

        long issued;
        long best;
        long[] startedDuring = NONE;
        final long[] inFlight;
        final long[][] startedWith;
        int inFlightCount;
        boolean uncertain;

        Entry(final int maxInFlight)
        {
            inFlight = new long[maxInFlight];
            startedWith = new long[maxInFlight][];
        }

        /** Adds {@code ticket}, remembering the writes in flight as it starts. */
        void addInFlight(final long ticket)
        {
            startedWith[inFlightCount] = Arrays.copyOf(inFlight, inFlightCount);
            inFlight[inFlightCount++] = ticket;
        }

        /** Removes {@code ticket} from the writes in flight and returns the ones in flight when it started. */
        long[] removeInFlight(final long ticket)
        {
            for (int i = 0; i < inFlightCount; i++)
            {
                if (inFlight[i] == ticket)
                {
                    final long[] during = startedWith[i];
                    inFlightCount--;
                    inFlight[i] = inFlight[inFlightCount];
                    startedWith[i] = startedWith[inFlightCount];
                    startedWith[inFlightCount] = null;
                    return during;
                }
            }
            throw new IllegalStateException("write " + ticket + " is not in flight");
        }

        @Override
        public String toString()
        {
            return "issued " + issued + ", best " + best + ", during " + Arrays.toString(startedDuring);
        }
    }
}
