package io.dmkv.rdma.leak;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;

/**
 * Runs a module's tests under Netty's paranoid leak detector and fails a test class after which
 * Netty reports a leak (a buffer garbage-collected without {@code release()}), with the leak's
 * access records. Registered for every test class of the daemon and transport modules through
 * JUnit's extension auto-detection (their surefire configuration turns it on); the records say
 * where the buffer was touched, whichever class it belonged to.
 *
 * <p>The detector factory has to be in place before Netty creates its buffer detector (when the
 * first buffer class loads), which the first test class's {@code beforeAll} is.
 */
public final class NettyLeakCheck implements BeforeAllCallback, AfterAllCallback
{
    private static final List<String> REPORTS = new CopyOnWriteArrayList<>();
    private static volatile boolean installed;

    /** A detector that keeps what it would log, for the check to fail with. */
    private static final class RecordingDetector<T> extends ResourceLeakDetector<T>
    {
        RecordingDetector(final Class<?> type, final int samplingInterval)
        {
            super(type, samplingInterval);
        }

        @Override
        protected boolean needReport()
        {
            return true;
        }

        @Override
        protected void reportTracedLeak(final String resourceType, final String records)
        {
            REPORTS.add("LEAK of " + resourceType + ", release() was not called:" + records);
        }

        @Override
        protected void reportUntracedLeak(final String resourceType)
        {
            REPORTS.add("LEAK of " + resourceType + ", release() was not called (no records)");
        }
    }

    /** Sets the paranoid level and the recording detectors (once per JVM). */
    public static synchronized void install()
    {
        if (installed)
        {
            return;
        }
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(new ResourceLeakDetectorFactory()
        {
            @Override
            public <T> ResourceLeakDetector<T> newResourceLeakDetector(final Class<T> resource, final int samplingInterval,
                final long maxActive)
            {
                return new RecordingDetector<>(resource, samplingInterval);
            }
        });
        final Object bufferDetector;
        try
        {
            final Field f = AbstractByteBuf.class.getDeclaredField("leakDetector");
            f.setAccessible(true);
            bufferDetector = f.get(null);
        }
        catch (final ReflectiveOperationException | RuntimeException e)
        {
            throw new IllegalStateException("cannot see Netty's buffer leak detector to check it: " + e, e);
        }
        if (!(bufferDetector instanceof RecordingDetector))
        {
            throw new IllegalStateException("Netty made its buffer leak detector before the leak check was installed,"
                + " so leaks would go unseen: run the module's tests with"
                + " junit.jupiter.extensions.autodetection.enabled=true (see its surefire configuration)");
        }
        installed = true;
    }

    /**
     * Collects garbage and makes Netty look at what was collected (it does when it tracks a new
     * buffer), then returns and forgets the leaks reported since the last call.
     */
    public static List<String> takeLeaks() throws InterruptedException
    {
        for (int round = 0; round < 5; round++)
        {
            System.gc();
            TimeUnit.MILLISECONDS.sleep(20);
            for (int i = 0; i < 16; i++)
            {
                final ByteBuf pooled = PooledByteBufAllocator.DEFAULT.buffer(8);
                pooled.release();
                final ByteBuf unpooled = UnpooledByteBufAllocator.DEFAULT.heapBuffer(8);
                unpooled.release();
            }
        }
        final List<String> leaks = new ArrayList<>(REPORTS);
        REPORTS.removeAll(leaks);
        return leaks;
    }

    @Override
    public void beforeAll(final ExtensionContext context)
    {
        install();
    }

    @Override
    public void afterAll(final ExtensionContext context) throws InterruptedException
    {
        final List<String> leaks = takeLeaks();
        if (!leaks.isEmpty())
        {
            throw new AssertionError("Netty reported " + leaks.size() + " leak(s) by the end of "
                + context.getDisplayName() + ":\n" + String.join("\n\n", leaks));
        }
    }
}
