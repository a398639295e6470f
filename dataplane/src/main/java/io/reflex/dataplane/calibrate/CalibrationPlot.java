package io.reflex.dataplane.calibrate;

import io.reflex.devmodels.DeviceModel;
import io.reflex.devmodels.TokenLimit;
import io.reflex.devmodels.calibration.Calibration;
import io.reflex.devmodels.calibration.LoadPoint;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The PNG of {@code --plot}: each mix's measured read p95 against its load in read-equivalents (reads + w × writes,
 * the token rate divided by the read cost: the unit the fit is in), and the fitted token-rate curves as lines.
 */
final class CalibrationPlot {
    private CalibrationPlot() {}

    static void write(Calibration c, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        DeviceModel m = c.model();
        double w = c.writeWeight();
        XYSeriesCollection data = new XYSeriesCollection();
        Map<Integer, XYSeries> mixes = new TreeMap<>(Comparator.reverseOrder());
        // Saturated points (served < 90% of the offered rate) sit at their achieved rate, left of the load that caused
        // their latency; the fit leaves them out, and so do the lines here: they are drawn as loose markers.
        XYSeries saturated = new XYSeries("saturated (served < 90% of offered; not fitted)");
        for (LoadPoint p : c.points()) {
            (p.fellBehind() ? saturated : mixes.computeIfAbsent(p.readPercent(), r -> new XYSeries("measured, " + r + "% reads")))
                    .add(p.readIops() + w * p.writeIops(), Math.max(1, p.readP95Micros()));
        }
        mixes.values().forEach(data::addSeries);
        XYSeries readOnly = new XYSeries("fit, read-only");
        XYSeries mixed = new XYSeries("fit, mixed");
        for (TokenLimit t : m.tokenLimits()) {
            readOnly.add(t.readOnlyTokensPerSec() / m.readCost4k(), t.p95Micros());
            mixed.add(t.mixedTokensPerSec() / m.readCost4k(), t.p95Micros());
        }
        data.addSeries(readOnly);
        data.addSeries(mixed);
        data.addSeries(saturated);

        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        Color[] colors = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0x9467bd), new Color(0x8c564b)};
        for (int i = 0; i < mixes.size(); i++) renderer.setSeriesPaint(i, colors[i % colors.length]);
        int sat = data.getSeriesCount() - 1;
        renderer.setSeriesLinesVisible(sat, false);
        renderer.setSeriesPaint(sat, Color.RED);
        for (int i = mixes.size(); i < sat; i++) {
            renderer.setSeriesShapesVisible(i, false);
            renderer.setSeriesPaint(i, i == mixes.size() ? Color.BLACK : Color.GRAY);
            renderer.setSeriesStroke(i, new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[]{8f, 5f}, 0f));
        }
        NumberAxis x = new NumberAxis(String.format(Locale.ROOT, "load in read-equivalent IOPS (reads + %.1f × writes = tokens/s ÷ %d)",
                w, m.readCost4k()));
        LogAxis y = new LogAxis("read p95 (µs)");
        y.setSmallestValue(1);
        y.setNumberFormatOverride(new TwoDigits()); // ticks sit at fractional powers of ten: 3,981 reads better as 4,000
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        JFreeChart chart = new JFreeChart("Calibration of " + m.name(), JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        chart.addSubtitle(new TextTitle(c.driver()));
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, 1100, 650);
    }

    /** Tick labels rounded to two significant digits, with thousands separators. */
    private static final class TwoDigits extends java.text.DecimalFormat {
        TwoDigits() {
            super("#,##0");
        }

        @Override
        public StringBuffer format(double v, StringBuffer to, java.text.FieldPosition pos) {
            double rounded = v <= 0 ? v : new java.math.BigDecimal(v).round(new java.math.MathContext(2)).doubleValue();
            return super.format(rounded, to, pos);
        }
    }
}
