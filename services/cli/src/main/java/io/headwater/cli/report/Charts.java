package io.headwater.cli.report;

import io.headwater.core.evaluation.Point;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogarithmicAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Line charts as PNG files (JFreeChart), rendered headless: no display is needed.
 *
 * <pre>{@code
 * Charts.line(new Charts.Spec("Accuracy", "examples seen", "windowed accuracy"),
 *         Map.of("lda", points), List.of(), dir.resolve("prequential.png"));
 * }</pre>
 */
public final class Charts {
    public static final int WIDTH = 900;
    public static final int HEIGHT = 500;

    static {
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /**
     * Titles and axes of a chart.
     *
     * @param logX      whether the x axis is logarithmic (label budgets)
     * @param unitRange whether the y axis spans [0, 1] (accuracies)
     */
    public record Spec(String title, String xLabel, String yLabel, boolean logX, boolean unitRange) {
        public Spec(String title, String xLabel, String yLabel) {
            this(title, xLabel, yLabel, false, true);
        }
    }

    /**
     * Writes a chart of one line per series (in map order), with a dashed vertical line at each
     * {@code markers} x value, to {@code png}.
     */
    public static void line(Spec spec, Map<String, List<Point>> series, List<Double> markers, Path png) {
        XYSeriesCollection data = new XYSeriesCollection();
        series.forEach((name, points) -> {
            XYSeries s = new XYSeries(name, false, true);
            points.forEach(p -> s.add(p.examples(), p.value()));
            data.addSeries(s);
        });
        ValueAxis x;
        if (spec.logX()) {
            LogarithmicAxis log = new LogarithmicAxis(spec.xLabel());
            log.setStrictValuesFlag(false);
            x = log;
        } else {
            NumberAxis linear = new NumberAxis(spec.xLabel());
            linear.setAutoRangeIncludesZero(false);
            x = linear;
        }
        NumberAxis y = new NumberAxis(spec.yLabel());
        if (spec.unitRange()) {
            y.setRange(0, 1.0001);
        } else {
            y.setAutoRangeIncludesZero(false);
        }
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, spec.logX());
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (double m : markers) {
            ValueMarker marker = new ValueMarker(m, Color.GRAY,
                    new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            plot.addDomainMarker(marker);
        }
        JFreeChart chart = new JFreeChart(spec.title(), JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        chart.addLegend(new LegendTitle(plot));
        chart.setBackgroundPaint(Color.WHITE);
        try {
            ChartUtils.saveChartAsPNG(png.toFile(), chart, WIDTH, HEIGHT);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write chart " + png, e);
        }
    }
}
