package io.dmkv.bench.chaos;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;

/**
 * The PNG of a memory-node chaos run, drawn with XChart: acknowledged writes per second over the
 * run, with a vertical line at each kill, at each published fail-over, and at the start and end of
 * the copy onto a replacement.
 */
final class MemnodeChaosPlot
{
    private MemnodeChaosPlot()
    {
    }

    static void draw(final MemnodeChaosRun.Result r, final long firstAckMs, final Path file) throws IOException
    {
        if (System.getProperty("java.awt.headless") == null)
        {
            System.setProperty("java.awt.headless", "true");
        }
        final XYChart chart = new XYChartBuilder().width(900).height(560)
            .title("dmkv: acknowledged writes per second while memory nodes are killed and replaced")
            .xAxisTitle("seconds since the first acknowledged write").yAxisTitle("acknowledged writes/s").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Line);
        chart.getStyler().setMarkerSize(0);
        chart.getStyler().setYAxisMin(0.0);
        final List<Double> x = new ArrayList<>();
        final List<Double> y = new ArrayList<>();
        double top = 1;
        for (final Map.Entry<Long, Integer> e : r.perSecond().entrySet())
        {
            x.add((double)e.getKey());
            y.add((double)e.getValue());
            top = Math.max(top, e.getValue());
        }
        chart.addSeries("writes/s (all writers)", x, y);
        int k = 0;
        for (final MemnodeChaosRun.Kill kill : r.kills())
        {
            k++;
            vertical(chart, "kill " + k + " (node " + kill.node() + ")", (kill.killedAtMs() - firstAckMs) / 1000.0, top);
            vertical(chart, "fail-over " + k + " published", (kill.publishedAtMs() - firstAckMs) / 1000.0, top);
        }
        final MemnodeChaosRun.Replacement rep = r.replacement();
        if (rep != null && rep.copyDoneMs() > 0)
        {
            vertical(chart, "replacement started", (rep.startedAtMs() - firstAckMs) / 1000.0, top);
            vertical(chart, "copy started (joining replica)", (rep.copyStartMs() - firstAckMs) / 1000.0, top);
            vertical(chart, "every region back at r", (rep.copyDoneMs() - firstAckMs) / 1000.0, top);
        }
        BitmapEncoder.saveBitmap(chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
    }

    private static void vertical(final XYChart chart, final String name, final double at, final double top)
    {
        chart.addSeries(name, List.of(at, at), List.of(0.0, top));
    }
}
