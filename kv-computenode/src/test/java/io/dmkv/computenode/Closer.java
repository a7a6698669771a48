package io.dmkv.computenode;

import java.util.ArrayList;
import java.util.List;

/** What a test opened, closed in reverse order; the first failure is thrown after all were closed. */
public final class Closer implements AutoCloseable
{
    private final List<AutoCloseable> opened = new ArrayList<>();

    /** Registers {@code c} and returns it. */
    public <T extends AutoCloseable> T add(final T c)
    {
        opened.add(c);
        return c;
    }

    @Override
    public void close()
    {
        RuntimeException first = null;
        for (int i = opened.size() - 1; i >= 0; i--)
        {
            try
            {
                opened.get(i).close();
            }
            catch (final Exception e)
            {
                first = first == null ? new IllegalStateException("closing " + opened.get(i), e) : first;
            }
        }
        opened.clear();
        if (first != null)
        {
            throw first;
        }
    }
}
