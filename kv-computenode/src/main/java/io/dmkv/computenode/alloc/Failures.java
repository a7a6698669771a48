package io.dmkv.computenode.alloc;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import io.dmkv.rdma.VerbsException;

/** The failure behind a future's wrappers, as the exception a blocking call would have thrown. */
final class Failures
{
    private Failures()
    {
    }

    static RuntimeException cause(final Throwable failure)
    {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null)
        {
            t = t.getCause();
        }
        return t instanceof RuntimeException e ? e : new VerbsException(t.toString(), t);
    }
}
