package io.dmkv.bench.runner;

import java.lang.management.ManagementFactory;

/** The machine's load average, for results measured on a shared machine. */
public final class LoadAverage
{
    private LoadAverage()
    {
    }

    /** The one-minute load average, or NaN where the OS does not say. */
    public static double oneMinute()
    {
        final double l = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return l < 0 ? Double.NaN : l;
    }
}
