package io.dmkv.bench.ycsb;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One client object per JVM shared by all of YCSB's DB instances, which YCSB makes one per
 * thread: the first {@link #acquire} opens it, each acquire counts a reference, and the
 * {@link #release} of the last reference closes it. A later acquire opens a fresh one.
 * <p>
 * Every acquire names the settings it wants (the binding's properties). All holders share one
 * object, so an acquire with other settings while it is open is refused rather than silently
 * handed an object that reaches somewhere else.
 *
 * @param <T> what is shared (a {@code KvStore}, a {@code JedisPool}).
 */
public final class SharedResource<T extends AutoCloseable>
{
    /** Opens the shared object. */
    @FunctionalInterface
    public interface Opener<T>
    {
        T open() throws Exception;
    }

    private final String what;
    private T resource;
    private Map<String, String> settings;
    private int references;

    /** @param what names the object in messages ("dmkv store", "Redis pool"). */
    public SharedResource(final String what)
    {
        this.what = Objects.requireNonNull(what);
    }

    /**
     * The shared object, opened with {@code opener} if none is open.
     *
     * @throws IllegalStateException if one is open with other settings.
     * @throws Exception             what {@code opener} throws; nothing is counted then.
     */
    public synchronized T acquire(final Map<String, String> wanted, final Opener<T> opener) throws Exception
    {
        final Map<String, String> sorted = new TreeMap<>(wanted);
        if (resource == null)
        {
            resource = Objects.requireNonNull(opener.open(), "opener returned null");
            settings = sorted;
        }
        else if (!settings.equals(sorted))
        {
            throw new IllegalStateException("this JVM already has a " + what + " open with " + settings
                + "; every YCSB thread of one JVM shares it, so all must use the same settings, got " + sorted);
        }
        references++;
        return resource;
    }

    /**
     * Drops one reference; the last one closes the object.
     *
     * @throws IllegalStateException if there is no reference to drop.
     * @throws Exception             what closing throws (the reference is dropped anyway).
     */
    public void release() throws Exception
    {
        final T closing;
        synchronized (this)
        {
            if (references == 0)
            {
                throw new IllegalStateException("release of the " + what + " without a matching acquire");
            }
            if (--references > 0)
            {
                return;
            }
            closing = resource;
            resource = null;
            settings = null;
        }
        // Closed outside the lock: a close may take a while (a store hands its blocks over), and
        // an acquire meanwhile opens a fresh object instead of waiting on this one.
        closing.close();
    }

    /** How many holders the open object has (0: none is open). */
    public synchronized int references()
    {
        return references;
    }
}
