package io.dmkv.rdma.transport.rdma;

import java.util.Arrays;

import org.agrona.concurrent.Agent;

/**
 * The agent that drives every channel of one transport: polls their completion queues, expires
 * late batches and posts waiting ones. One thread per transport, not per channel, so a client
 * talking to many memory nodes spends one core at most; its idle strategy decides how much.
 */
final class RdmaCompletionPoller implements Agent
{
    private static final RdmaVerbsChannel[] NONE = new RdmaVerbsChannel[0];

    private volatile RdmaVerbsChannel[] channels = NONE;

    synchronized void add(final RdmaVerbsChannel channel)
    {
        final RdmaVerbsChannel[] old = channels;
        final RdmaVerbsChannel[] grown = Arrays.copyOf(old, old.length + 1);
        grown[old.length] = channel;
        channels = grown;
    }

    synchronized void remove(final RdmaVerbsChannel channel)
    {
        final RdmaVerbsChannel[] old = channels;
        for (int i = 0; i < old.length; i++)
        {
            if (old[i] == channel)
            {
                final RdmaVerbsChannel[] shrunk = new RdmaVerbsChannel[old.length - 1];
                System.arraycopy(old, 0, shrunk, 0, i);
                System.arraycopy(old, i + 1, shrunk, i, old.length - i - 1);
                channels = shrunk;
                return;
            }
        }
    }

    /** The channels polled now (a snapshot). */
    RdmaVerbsChannel[] channels()
    {
        return channels;
    }

    @Override
    public int doWork()
    {
        int work = 0;
        for (final RdmaVerbsChannel channel : channels)
        {
            work += channel.pollCompletions();
        }
        return work;
    }

    @Override
    public String roleName()
    {
        return "dmkv-rdma-poller";
    }
}
