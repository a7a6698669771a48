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

    /**
     * A mutation calls this when it posts a backup CAS of its value (SNAPSHOT's proposal): from
     * then on its value may become the slot's (a helper or a memory-node fail-over promotes it)
     * even if the mutation itself fails, so running it again could apply it a second time after
     * another client's write. Nothing by default.
     */
    default void proposed()
    {
    }
}
