package io.dmkv.bench.jmh;

import java.io.IOException;
import java.io.InputStream;

import io.dmkv.memnode.MemoryNodeMain;

/**
 * The main class of a memory-node daemon that {@link MemnodeDaemons} starts: the daemon itself
 * ({@link MemoryNodeMain}, same options), plus a watch on stdin. When the parent closes the pipe
 * or dies (even by SIGKILL, when the kernel closes the pipe for it) the daemon stops as on
 * SIGTERM, so a benchmark that fails or is killed leaves no memory node behind.
 */
public final class MemnodeChild
{
    private MemnodeChild()
    {
    }

    /** {@code MemnodeChild MEMNODE-OPTIONS}: see {@code memnode --help}. */
    public static void main(final String[] args)
    {
        exitWhenInputEnds();
        MemoryNodeMain.main(args);
    }

    /** Stops this JVM (as SIGTERM would) once stdin ends: the parent closed the pipe, or died. */
    public static void exitWhenInputEnds()
    {
        final Thread watch = new Thread(() -> waitForEnd(System.in), "dmkv-parent-watch");
        watch.setDaemon(true);
        watch.start();
    }

    private static void waitForEnd(final InputStream in)
    {
        try
        {
            while (in.read() >= 0)
            {
                // the parent writes nothing: only the end of the stream matters
            }
        }
        catch (final IOException e)
        {
            // a broken pipe ends the parent's hold just as well
        }
        System.exit(0);
    }
}
