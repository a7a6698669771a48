package io.dmkv;

/** The memory nodes have no free block left for a new object (after reclaiming what was freed). */
public class MemoryFullException extends KvException
{
    private static final long serialVersionUID = 1L;

    public MemoryFullException(final String message)
    {
        super(message);
    }

    public MemoryFullException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
