package io.dmkv.bench.runner;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.HdrHistogram.Histogram;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

/**
 * The PNG plots of a {@code kv bench} results folder, drawn with XChart: throughput against the
 * number of client threads (all operations, and each kind), and the latency CDF of each kind of
 * operation (at every thread count of the sweep); for a mode comparison, the throughput of each
 * cell by mode and each cell's latency CDF by mode.
 */
final class BenchPlots
{
    static final String THROUGHPUT_FILE = "throughput-vs-threads.png";
    static final String LATENCY_FILE = "latency-cdf.png";
    /** Throughput of every cell of a mode comparison, by mode. */
    static final String MODES_FILE = "throughput-by-mode.png";

    private static final int WIDTH = 900;
    private static final int HEIGHT = 600;
    /** Percentiles of the CDF: fine in the body, finer in the tail. */
    private static final double[] PERCENTILES = percentiles();

    private BenchPlots()
    {
    }

    static void throughputVsThreads(final BenchReport.Bench bench, final Path file) throws IOException
    {
        headless();
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
            .title("dmkv bench, workload " + bench.workload().name() + ": throughput vs client threads")
            .xAxisTitle("client threads (all processes)").yAxisTitle("operations/s").build();
        style(chart);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("#,###");
        chart.getStyler().setXAxisDecimalPattern("#");
        final List<Double> threads = new ArrayList<>();
        final List<Double> all = new ArrayList<>();
        for (final BenchReport.Run r : bench.runs())
        {
            threads.add((double)r.threads());
            all.add(r.merged().result().throughput());
        }
        chart.addSeries("all operations", threads, all);
        for (final String op : kinds(bench))
        {
            final List<Double> x = new ArrayList<>();
            final List<Double> y = new ArrayList<>();
            for (final BenchReport.Run r : bench.runs())
            {
                for (final OpStats s : r.merged().result().ops())
                {
                    if (s.name().equals(op))
                    {
                        x.add((double)r.threads());
                        y.add(s.ops() * 1e9 / Math.max(1, r.merged().result().elapsedNs()));
                    }
                }
            }
            chart.addSeries(op, x, y);
        }
        save(chart, file);
    }

    static void latencyCdf(final BenchReport.Bench bench, final Path file) throws IOException
    {
        final Map<String, Histogram> series = new LinkedHashMap<>();
        final boolean sweep = bench.runs().size() > 1;
        for (final BenchReport.Run r : bench.runs())
        {
            for (final OpStats s : r.merged().result().ops())
            {
                series.put(sweep ? s.name() + ", " + r.threads() + (r.threads() == 1 ? " thread" : " threads")
                    : s.name(), s.latencyNs());
            }
        }
        cdf("dmkv bench, workload " + bench.workload().name() + ": latency CDF", series, file);
    }

    /** The latency CDF of each operation kind in each mode of a comparison's cell, all rounds pooled. */
    static void modeLatencyCdf(final Comparison c, final Path file) throws IOException
    {
        final Map<String, Histogram> series = new LinkedHashMap<>();
        for (final String op : c.ops())
        {
            c.pooledLatency(op).forEach((mode, h) -> series.put(op + ", " + mode, h));
        }
        cdf("dmkv bench, " + c.cell() + ": latency CDF by mode (all rounds)", series, file);
    }

    /** Throughput over each run of a comparison's cell, a line per mode and round: a shifting hot set shows here. */
    static void modeTimeline(final Comparison c, final Path file) throws IOException
    {
        headless();
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT)
            .title("dmkv bench, " + c.cell() + ": throughput over each run (1 s steps)")
            .xAxisTitle("seconds into the run").yAxisTitle("operations/s").build();
        style(chart);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("#,###");
        for (final Comparison.Run r : c.runs())
        {
            final List<double[]> points = r.throughputOverTime();
            if (!points.isEmpty())
            {
                chart.addSeries(r.mode() + ", round " + r.round(), points.stream().map(p -> p[0]).toList(),
                    points.stream().map(p -> p[1]).toList());
            }
        }
        if (!chart.getSeriesMap().isEmpty())
        {
            save(chart, file);
        }
    }

    /** One CDF line per histogram (empty ones left out), log-scale microseconds. */
    private static void cdf(final String title, final Map<String, Histogram> series, final Path file) throws IOException
    {
        headless();
        final XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title)
            .xAxisTitle("latency (µs, log scale)").yAxisTitle("percentile").build();
        style(chart);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(100.0);
        for (final Map.Entry<String, Histogram> e : series.entrySet())
        {
            final Histogram h = e.getValue();
            if (h.getTotalCount() == 0)
            {
                continue;
            }
            final List<Double> x = new ArrayList<>();
            final List<Double> y = new ArrayList<>();
            for (final double p : PERCENTILES)
            {
                x.add(Math.max(0.01, h.getValueAtPercentile(p) / 1e3));
                y.add(p);
            }
            chart.addSeries(e.getKey(), x, y);
        }
        save(chart, file);
    }

    /**
     * The median throughput of every cell of a mode comparison, one bar per mode, with the
     * rounds' spread as error bars (from the median down to the slowest round and up to the fastest
     * cannot be drawn asymmetrically: the bar shows half the min..max range).
     */
    static void modeThroughput(final List<Comparison> cells, final List<String> modes, final Path file)
        throws IOException
    {
        headless();
        final CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT)
            .title("dmkv bench: throughput by mode (median of the rounds; error bars: half the min..max range)")
            .xAxisTitle("workload").yAxisTitle("operations/s").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("#,###");
        chart.getStyler().setErrorBarsColorSeriesColor(true);
        final List<Comparison> drawn = cells.stream().filter(c -> !c.runs().isEmpty()).toList();
        final List<String> names = drawn.stream().map(Comparison::cell).toList();
        for (final String mode : modes)
        {
            final List<Double> y = new ArrayList<>();
            final List<Double> err = new ArrayList<>();
            for (final Comparison c : drawn)
            {
                final Comparison.Spread s = c.row("all", mode).opsPerSec();
                y.add(Double.isNaN(s.median()) ? 0 : s.median());
                err.add(Double.isNaN(s.median()) ? 0 : (s.max() - s.min()) / 2);
            }
            chart.addSeries(mode, names, y, err);
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static Set<String> kinds(final BenchReport.Bench bench)
    {
        final Set<String> kinds = new LinkedHashSet<>();
        for (final BenchReport.Run r : bench.runs())
        {
            for (final OpStats s : r.merged().result().ops())
            {
                if (s.ops() > 0)
                {
                    kinds.add(s.name());
                }
            }
        }
        return kinds;
    }

    private static void style(final XYChart chart)
    {
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
        chart.getStyler().setMarkerSize(5);
    }

    private static void save(final XYChart chart, final Path file) throws IOException
    {
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    /** Plots are drawn off screen; on a machine without a display AWT must know before it starts. */
    private static void headless()
    {
        if (System.getProperty("java.awt.headless") == null)
        {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private static double[] percentiles()
    {
        final List<Double> p = new ArrayList<>();
        for (int i = 0; i < 90; i += 2)
        {
            p.add((double)i);
        }
        for (double v = 90; v < 99; v += 0.5)
        {
            p.add(v);
        }
        for (final double v : new double[] {99, 99.5, 99.9, 99.95, 99.99, 99.999, 100})
        {
            p.add(v);
        }
        return p.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
