package io.reflex.devmodels.calibration;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The measurements in a calibrated model's comment header ({@link CalibrationYaml}'s format, as the committed models). */
record CommittedModel(List<LoadPoint> points, List<LoadPoint> capacities) {
    private static final Pattern SWEEP = Pattern.compile("#\\s+(\\d+)% read: (.*)");
    private static final Pattern POINT = Pattern.compile("(\\d+)(?: \\((\\d+) wr\\))?->(\\d+)");
    private static final Pattern RO_CAP = Pattern.compile("Read-only QD\\d+ capacity (\\d+) IOPS");
    private static final Pattern MIX_CAP = Pattern.compile("(\\d+)% read QD\\d+: (\\d+) rd \\+ (\\d+) wr IOPS");

    static CommittedModel read(Path file) throws IOException {
        return parse(Files.readString(file));
    }

    static CommittedModel parse(String yaml) {
        List<LoadPoint> points = new ArrayList<>(), caps = new ArrayList<>();
        for (String line : yaml.lines().toList()) {
            Matcher s = SWEEP.matcher(line);
            if (s.matches()) {
                int r = Integer.parseInt(s.group(1));
                Matcher p = POINT.matcher(s.group(2));
                while (p.find()) {
                    double total = Double.parseDouble(p.group(1));
                    double wr = p.group(2) == null ? 0 : Double.parseDouble(p.group(2));
                    points.add(new LoadPoint(r, total, total - wr, wr, 0, Long.parseLong(p.group(3)), 0, 0, 8));
                }
                continue;
            }
            if (!line.startsWith("#")) continue;
            Matcher ro = RO_CAP.matcher(line);
            if (ro.find()) caps.add(new LoadPoint(100, 0, Double.parseDouble(ro.group(1)), 0, 0, 0, 0, 0, 5));
            Matcher mix = MIX_CAP.matcher(line);
            while (mix.find()) {
                caps.add(new LoadPoint(Integer.parseInt(mix.group(1)), 0, Double.parseDouble(mix.group(2)),
                        Double.parseDouble(mix.group(3)), 0, 0, 0, 0, 5));
            }
        }
        return new CommittedModel(points, caps);
    }
}
