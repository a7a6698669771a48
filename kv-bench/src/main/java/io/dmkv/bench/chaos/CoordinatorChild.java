package io.dmkv.bench.chaos;

import io.dmkv.bench.jmh.MemnodeChild;
import io.dmkv.memnode.CoordinatorMain;

/**
 * The main class of the ZooKeeper server a memory-node chaos run starts in a process of its own
 * (never in a process the run kills): {@link CoordinatorMain} with the same options, stopping
 * when the runner closes its stdin or dies.
 */
public final class CoordinatorChild
{
    private CoordinatorChild()
    {
    }

    /** {@code CoordinatorChild COORDINATOR-OPTIONS}: see {@code coordinator --help}. */
    public static void main(final String[] args)
    {
        MemnodeChild.exitWhenInputEnds();
        CoordinatorMain.main(args);
    }
}
