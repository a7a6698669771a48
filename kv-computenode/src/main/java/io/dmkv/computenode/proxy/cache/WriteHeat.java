package io.dmkv.computenode.proxy.cache;

/**
 * Which keys a proxy writes too often to be worth leasing (docs/flexkv.md §11, "write-hot keys").
 * A cached value of a key written every few milliseconds is dropped before it is read again, yet
 * each write of it must wait for every cacher's acknowledgement: for such a key a lease costs a
 * round trip per write and saves nothing. A key becomes write-hot at its {@code hotWrites}-th write
 * within one window of {@code periodNs} (one cache lease) if it was looked up (leased lookups,
 * granted or refused) fewer than {@code lookupsPerWrite} times per write over this window and the
 * last; it cools once a full window and the current one each held fewer than {@code hotWrites / 2}
 * (at least 1) writes, or once its lookups reach {@code lookupsPerWrite} per write (its readers
 * come back between writes often enough for leases to pay). The gaps between the thresholds are
 * the hysteresis that keeps a key near them from flapping. A write-hot key gets no new leases (its
 * readers ask the proxy each time), so its writes wait for no one once the leases granted before
 * it turned hot have been invalidated.
 *
 * <p>Refusing a lease never weakens coherence: a reader without one caches nothing.
 */
final class WriteHeat
{
    private final long periodNs;
    private final int hotWrites;
    private final int coolWrites;
    private final int lookupsPerWrite;

    /** One key's writes and lookups; guarded by whoever guards the key (the directory entry's lock). */
    static final class Key
    {
        private long windowStart;
        private int window;
        private int previous;
        private int lookups;
        private int previousLookups;
        private boolean hot;
    }

    /** As {@link #WriteHeat(long, int, int)} with a key's lookups never keeping it leased. */
    WriteHeat(final long periodNs, final int hotWrites)
    {
        this(periodNs, hotWrites, Integer.MAX_VALUE);
    }

    /**
     * @param periodNs        the window writes are counted in (the directory uses one cache lease).
     * @param hotWrites       writes within one window that make a key write-hot; 0: no key ever is.
     * @param lookupsPerWrite leased lookups per write at which a key is worth leasing however often it is written.
     */
    WriteHeat(final long periodNs, final int hotWrites, final int lookupsPerWrite)
    {
        if (periodNs <= 0 || hotWrites < 0)
        {
            throw new IllegalArgumentException("period " + periodNs + " ns and " + hotWrites
                + " writes: the period must be positive and the writes not negative");
        }
        this.periodNs = periodNs;
        this.hotWrites = hotWrites;
        this.coolWrites = Math.max(1, hotWrites / 2);
        this.lookupsPerWrite = Math.max(1, lookupsPerWrite);
    }

    /** False when no key can become write-hot (the policy is off). */
    boolean enabled()
    {
        return hotWrites > 0;
    }

    /** Counts a write of {@code k} at {@code now}; true when this write made it write-hot. */
    boolean written(final Key k, final long now)
    {
        roll(k, now);
        k.window++;
        if (!k.hot && hotWrites > 0 && k.window >= hotWrites && !lookedUpOften(k))
        {
            k.hot = true;
            return true;
        }
        return false;
    }

    /** Counts a leased lookup of {@code k} at {@code now}; true when the key is write-hot (its lease is refused). */
    boolean lookedUp(final Key k, final long now)
    {
        roll(k, now);
        if (k.lookups < Integer.MAX_VALUE)
        {
            k.lookups++;
        }
        return hot(k, now);
    }

    /** Whether {@code k} is write-hot at {@code now} (cooling it first if its writes fell off or its lookups grew). */
    boolean hot(final Key k, final long now)
    {
        roll(k, now);
        if (k.hot && (k.previous < coolWrites && k.window < coolWrites || lookedUpOften(k)))
        {
            k.hot = false;
        }
        return k.hot;
    }

    /** Lookups over this window and the last reach {@code lookupsPerWrite} per write. */
    private boolean lookedUpOften(final Key k)
    {
        final long writes = Math.max(1L, (long)k.previous + k.window);
        return (long)k.previousLookups + k.lookups >= writes * lookupsPerWrite;
    }

    private void roll(final Key k, final long now)
    {
        final long since = now - k.windowStart;
        if (k.windowStart == 0 || since >= periodNs)
        {
            final boolean adjacent = k.windowStart != 0 && since < 2 * periodNs;
            k.previous = adjacent ? k.window : 0;
            k.previousLookups = adjacent ? k.lookups : 0;
            k.window = 0;
            k.lookups = 0;
            k.windowStart = now == 0 ? 1 : now;
        }
    }
}
