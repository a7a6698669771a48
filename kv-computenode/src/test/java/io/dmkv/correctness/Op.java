package io.dmkv.correctness;

import java.util.Locale;
import java.util.Objects;

/**
 * One operation of a recorded history: what a client called on one key, what came back, and
 * when (invoke and response instants of {@link System#nanoTime()}, which is monotonic across
 * threads). An operation that failed (an exception, a timeout) has no known outcome: it may or
 * may not have taken effect, and {@link #completed()} is false.
 *
 * @param process    the thread (or client) that issued it; for messages only.
 * @param kind       what was called.
 * @param key        the key.
 * @param value      PUT/INSERT/UPDATE: the value written; GET: the value returned (null: none).
 * @param ok         INSERT/UPDATE/DELETE: the boolean returned.
 * @param completed  false if the call failed and its outcome is unknown.
 * @param invokeNs   just before the call.
 * @param responseNs just after it returned (ignored when not completed).
 */
public record Op(int process, Kind kind, String key, String value, boolean ok, boolean completed, long invokeNs,
    long responseNs)
{
    /** The operations of the store, in the vocabulary of the checker's sequential model. */
    public enum Kind
    {
        GET,
        /** Upsert. */
        PUT,
        /** Insert if absent; true iff inserted. */
        INSERT,
        /** Update if present; true iff present. */
        UPDATE,
        /** Remove; true iff present. */
        DELETE
    }

    public Op
    {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        if (completed && responseNs < invokeNs)
        {
            throw new IllegalArgumentException("response before invocation: " + invokeNs + " > " + responseNs);
        }
    }

    public static Op get(final int process, final String key, final String returned, final long invokeNs,
        final long responseNs)
    {
        return new Op(process, Kind.GET, key, returned, false, true, invokeNs, responseNs);
    }

    public static Op put(final int process, final String key, final String value, final long invokeNs,
        final long responseNs)
    {
        return new Op(process, Kind.PUT, key, value, true, true, invokeNs, responseNs);
    }

    public static Op insert(final int process, final String key, final String value, final boolean inserted,
        final long invokeNs, final long responseNs)
    {
        return new Op(process, Kind.INSERT, key, value, inserted, true, invokeNs, responseNs);
    }

    public static Op update(final int process, final String key, final String value, final boolean updated,
        final long invokeNs, final long responseNs)
    {
        return new Op(process, Kind.UPDATE, key, value, updated, true, invokeNs, responseNs);
    }

    public static Op delete(final int process, final String key, final boolean deleted, final long invokeNs,
        final long responseNs)
    {
        return new Op(process, Kind.DELETE, key, null, deleted, true, invokeNs, responseNs);
    }

    /** A call that failed: it may have taken effect at any instant after {@code invokeNs}, or never. */
    public static Op failed(final int process, final Kind kind, final String key, final String value,
        final long invokeNs)
    {
        return new Op(process, kind, key, kind == Kind.GET ? null : value, false, false, invokeNs, Long.MAX_VALUE);
    }

    @Override
    public String toString()
    {
        final String outcome;
        if (!completed)
        {
            outcome = " -> ?";
        }
        else
        {
            outcome = switch (kind)
            {
                case GET -> " -> " + value;
                case PUT -> "";
                case INSERT, UPDATE, DELETE -> " -> " + ok;
            };
        }
        final String arg = kind == Kind.GET || kind == Kind.DELETE ? "" : ", " + value;
        return "p" + process + " " + kind.name().toLowerCase(Locale.ROOT) + "(" + key + arg + ")" + outcome
            + " [" + invokeNs + ", " + (completed ? Long.toString(responseNs) : "never") + "]";
    }
}
