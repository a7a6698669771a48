package io.dmkv.bench.runner;

/**
 * Keys of {@code kv bench}: key number n is {@code user} and n in twelve decimal digits, 16 bytes
 * ({@code user000000000042}), as YCSB names its records {@code user...}.
 *
 * <p>Loaded keys are 0 .. records − 1. The keys inserted by run phase number i (of a thread
 * sweep) start at {@link #insertBase}: runs never insert the same key twice; nor do their warm-ups,
 * which insert where run phase i + {@value #WARMUP_RUNS} would.
 */
public final class Keys
{
    /** Bytes of every key. */
    public static final int LENGTH = 16;
    /** Largest key number. */
    public static final long MAX = 999_999_999_999L;
    /** Room for the inserts of one run phase. */
    static final long RUN_STRIDE = 1_000_000_000L;
    /** The warm-up of run phase i inserts where run phase i + this would ({@link #warmupRun}). */
    static final int WARMUP_RUNS = 500;

    private static final byte[] PREFIX = {'u', 's', 'e', 'r'};

    private Keys()
    {
    }

    /** The key of number {@code n}. */
    public static byte[] key(final long n)
    {
        if (n < 0 || n > MAX)
        {
            throw new IllegalArgumentException("key number " + n + " is outside 0.." + MAX);
        }
        final byte[] k = new byte[LENGTH];
        System.arraycopy(PREFIX, 0, k, 0, PREFIX.length);
        long v = n;
        for (int i = LENGTH - 1; i >= PREFIX.length; i--)
        {
            k[i] = (byte)('0' + v % 10);
            v /= 10;
        }
        return k;
    }

    /** The first key number run phase {@code run} (0, 1, ...) inserts, after {@code records} loaded keys. */
    public static long insertBase(final int records, final int run)
    {
        final long base = records + (long)run * RUN_STRIDE;
        if (base + RUN_STRIDE - 1 > MAX)
        {
            throw new IllegalArgumentException("too many runs for the key space: " + run);
        }
        return base;
    }

    /** The run number whose insert keys the warm-up of run phase {@code run} uses: none a run phase uses. */
    static int warmupRun(final int run)
    {
        if (run >= WARMUP_RUNS)
        {
            throw new IllegalArgumentException("too many runs for the key space: " + run);
        }
        return run + WARMUP_RUNS;
    }

    /**
     * The key number of zipfian rank {@code rank} (0 = the hottest) of {@code n} keys; once the hot
     * set has {@code shifted}, the same ranks scatter to other keys (the ranks past n scramble
     * independently of those below it), so the hot set moves while its skew stays the same.
     */
    static long zipfianKey(final long rank, final long n, final boolean shifted)
    {
        return scramble(shifted ? rank + n : rank, n);
    }

    /** Spreads zipfian ranks 0 .. n − 1 over key numbers 0 .. n − 1, as YCSB's scrambled zipfian does. */
    static long scramble(final long rank, final long n)
    {
        long h = rank * 0x9E3779B97F4A7C15L;
        h ^= h >>> 32;
        return Math.floorMod(h, n);
    }
}
