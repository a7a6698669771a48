package io.dmkv.computenode.ops;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/** Runs one body on many threads released at once, and waits for all of them. */
final class Together
{
    private Together()
    {
    }

    static void run(final int threads, final Runnable body) throws InterruptedException
    {
        final CountDownLatch go = new CountDownLatch(1);
        final List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++)
        {
            final Thread w = new Thread(() ->
            {
                try
                {
                    go.await();
                }
                catch (final InterruptedException e)
                {
                    return;
                }
                body.run();
            });
            w.start();
            workers.add(w);
        }
        go.countDown();
        for (final Thread w : workers)
        {
            w.join();
        }
    }
}
