package io.reflex.bench;

import java.util.SplittableRandom;

/** Chooses each request's kind and LBA for one worker thread; allocation-free. */
final class Workload {
    private final SplittableRandom random;
    private final int readPct;
    private final int sectors;
    private final boolean sequential;
    /** Request-sized positions in the LBA range; requests are aligned to their size. */
    private final long positions;
    private long cursor;

    /**
     * @param start first position of a sequential stream, so threads do not all walk the same LBAs
     */
    Workload(long lbaRange, int sectors, int readPct, boolean sequential, long seed, long start) {
        this.random = new SplittableRandom(seed);
        this.readPct = readPct;
        this.sectors = sectors;
        this.sequential = sequential;
        this.positions = lbaRange / sectors;
        this.cursor = Math.floorMod(start, positions);
    }

    boolean nextIsRead() {
        return readPct >= 100 || (readPct > 0 && random.nextInt(100) < readPct);
    }

    long nextLba() {
        long p;
        if (sequential) {
            p = cursor;
            if (++cursor == positions) cursor = 0;
        } else {
            p = positions == 1 ? 0 : random.nextLong(positions);
        }
        return p * sectors;
    }
}
