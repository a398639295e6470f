package io.reflex.dataplane.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Re-applies the SLO table when its content changes. Polls the content (once a second) rather than using inotify,
 * so a Kubernetes ConfigMap's symlink swap is seen like any edit.
 */
public final class TableWatcher implements AutoCloseable {
    private final Thread thread;
    private volatile boolean running = true;

    private TableWatcher(Path file, Runnable onChange) {
        byte[] initial = digest(file);
        thread = Thread.ofPlatform().daemon(true).name("reflex-slo-watch").start(() -> {
            byte[] last = initial;
            while (running) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
                byte[] now = digest(file);
                if (now != null && !Arrays.equals(now, last)) {
                    last = now;
                    try {
                        onChange.run();
                    } catch (RuntimeException e) {
                        System.err.println("reflex-dataplane: SLO table not applied: " + e.getMessage());
                    }
                }
            }
        });
    }

    static TableWatcher start(Path file, Runnable onChange) {
        return new TableWatcher(file, onChange);
    }

    /** Reloads {@code dp}'s SLO table file whenever it changes, reporting what changed; null when it has none. */
    public static TableWatcher reloading(io.reflex.dataplane.Dataplane dp) {
        Path table = dp.config().sloTable();
        return table == null ? null : start(table, () -> report(dp.reload()));
    }

    private static void report(io.reflex.dataplane.Dataplane.ApplyResult r) {
        System.out.printf("reflex-dataplane: SLO table reloaded: added %s, updated %s, removed %s%n", r.added(), r.updated(), r.removed());
        r.rejected().forEach(x -> System.out.printf("  REJECTED %s: %s%n", x.spec().name(), x.reason()));
    }

    private static byte[] digest(Path file) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (Exception e) {
            return null; // mid-replace or deleted: try again next tick
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
