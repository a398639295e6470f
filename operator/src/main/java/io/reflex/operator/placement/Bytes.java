package io.reflex.operator.placement;

/** Binary sizes for messages: 100Gi, 512Mi, 4Ki, 17. */
public final class Bytes {
  private Bytes() {}

  public static String human(long bytes) {
    String[] units = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
    for (int i = 0; i < units.length; i++) {
      long unit = 1L << (10 * (units.length - i));
      if (bytes >= unit) {
        double v = (double) bytes / unit;
        return (v == Math.rint(v) ? String.format("%.0f", v) : String.format("%.1f", v)) + units[i];
      }
    }
    return Long.toString(bytes);
  }
}
