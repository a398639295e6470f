package io.reflex.dataplane.calibrate;

import io.reflex.dataplane.storage.Engines;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;

/** Real files under target/ (ext4 here, so O_DIRECT works), one per test, and the engines to open them with. */
final class TestDevices {
    private TestDevices() {}

    /** A file of zeros whose blocks are allocated: O_DSYNC writes to holes would each wait for an ext4 journal commit. */
    static Path file(String name, long bytes) throws IOException {
        Path f = sparse(name, bytes);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            byte[] zeros = new byte[1 << 20];
            for (long at = 0; at < bytes; at += zeros.length) r.write(zeros, 0, (int) Math.min(zeros.length, bytes - at));
            r.getFD().sync();
        }
        return f;
    }

    /** A sparse file: reads are zeros until written. */
    static Path sparse(String name, long bytes) throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "calibrate-test"));
        Path f = dir.resolve(name);
        Files.deleteIfExists(f);
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.setLength(bytes);
        }
        return f;
    }

    static void assumeEngine(String engine) {
        if (engine.equals("uring")) Assumptions.assumeTrue(Engines.uringAvailable(), "io_uring is not available on this kernel");
    }
}
