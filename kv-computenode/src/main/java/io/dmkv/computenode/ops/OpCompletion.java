package io.dmkv.computenode.ops;

/**
 * Receives the outcome of one index operation, exactly once: a value, or a failure. Runs on the
 * thread that finished the operation (a verbs completion, a timer, or the caller's own thread
 * for an inline completion); it must not block.
 *
 * @param <T> the operation's result.
 */
@FunctionalInterface
public interface OpCompletion<T>
{
    void complete(T value, Throwable failure);
}
