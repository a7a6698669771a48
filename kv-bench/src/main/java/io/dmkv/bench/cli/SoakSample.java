package io.dmkv.bench.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * One interval of a soak: when, how fast, and how much memory the client and the memory nodes
 * held. A run's samples go to a CSV file and a PNG curve of the memory columns over time.
 *
 * @param seconds      seconds since the start of the run.
 * @param opsPerSecond operations per second during the interval.
 * @param heapAfterGc  heap bytes in use after the latest collection.
 * @param heldBytes    memory-node bytes the client's blocks hold.
 * @param liveBytes    estimated bytes of the live objects, all replicas.
 */
record SoakSample(double seconds, double opsPerSecond, long heapAfterGc, long heldBytes, long liveBytes)
{
    private static final double MIB = 1 << 20;

    static void writeCsv(final List<SoakSample> samples, final Path file) throws IOException
    {
        final StringBuilder sb = new StringBuilder("seconds,ops_per_s,heap_after_gc_bytes,mn_held_bytes,live_bytes\n");
        for (final SoakSample s : samples)
        {
            sb.append(String.format(Locale.ROOT, "%.1f,%.0f,%d,%d,%d%n", s.seconds, s.opsPerSecond, s.heapAfterGc,
                s.heldBytes, s.liveBytes));
        }
        Files.writeString(file, sb);
    }

    static void plot(final List<SoakSample> samples, final String title, final Path file) throws IOException
    {
        if (System.getProperty("java.awt.headless") == null)
        {
            System.setProperty("java.awt.headless", "true");
        }
        final XYChart chart = new XYChartBuilder().width(900).height(600).title(title).xAxisTitle("minutes")
            .yAxisTitle("MiB").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideSE);
        chart.getStyler().setYAxisMin(0.0);
        final List<Double> minutes = samples.stream().map(s -> s.seconds / 60).toList();
        series(chart, "memory-node bytes held (blocks, all replicas)", minutes, samples, s -> s.heldBytes / MIB);
        series(chart, "live objects (estimate, all replicas)", minutes, samples, s -> s.liveBytes / MIB);
        series(chart, "client heap after GC", minutes, samples, s -> s.heapAfterGc / MIB);
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void series(final XYChart chart, final String name, final List<Double> x,
        final List<SoakSample> samples, final ToDoubleFunction<SoakSample> y)
    {
        chart.addSeries(name, x, samples.stream().map(s -> y.applyAsDouble(s)).toList());
    }
}
