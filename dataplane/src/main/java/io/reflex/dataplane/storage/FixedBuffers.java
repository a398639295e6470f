package io.reflex.dataplane.storage;

import java.util.Arrays;

/**
 * The buffers of a queue registered with the kernel (io_uring fixed buffers), by address: a request whose memory
 * lies in one is submitted as READ_FIXED/WRITE_FIXED with its index, so the kernel skips pinning the pages for every
 * I/O. Ranges are kept sorted by start address; lookups are a binary search and allocate nothing.
 */
final class FixedBuffers {
    private long[] start = new long[64];
    private long[] end = new long[64];
    private int[] index = new int[64];
    private int count;

    /** Records that [address, address + length) is registered as {@code bufIndex} (cold path: buffer creation). */
    void add(long address, long length, int bufIndex) {
        if (count == start.length) {
            start = Arrays.copyOf(start, count * 2);
            end = Arrays.copyOf(end, count * 2);
            index = Arrays.copyOf(index, count * 2);
        }
        int at = count;
        while (at > 0 && start[at - 1] > address) {
            start[at] = start[at - 1];
            end[at] = end[at - 1];
            index[at] = index[at - 1];
            at--;
        }
        start[at] = address;
        end[at] = address + length;
        index[at] = bufIndex;
        count++;
    }

    /** The registered buffer holding all of [address, address + length), or -1. */
    int indexOf(long address, int length) {
        int lo = 0;
        int hi = count - 1;
        while (lo <= hi) { // the last range starting at or before address
            int mid = (lo + hi) >>> 1;
            if (start[mid] <= address) lo = mid + 1;
            else hi = mid - 1;
        }
        return hi >= 0 && address + length <= end[hi] ? index[hi] : -1;
    }

    int size() { return count; }
}
