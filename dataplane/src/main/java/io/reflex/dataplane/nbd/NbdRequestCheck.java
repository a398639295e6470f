package io.reflex.dataplane.nbd;

/**
 * What the server does with a transmission request header, decided from the header alone (pure, allocation-free,
 * property-tested). Nothing that fails this check reaches the device.
 */
public final class NbdRequestCheck {
    private NbdRequestCheck() {}

    /** Verdict: the stream cannot be trusted any more; close the connection without a reply. */
    public static final int CLOSE = -1;
    /** Verdict: serve it. Any other positive verdict is the NBD errno to reply with (connection stays). */
    public static final int OK = 0;

    private static final int KNOWN_FLAGS = Nbd.CMD_FLAG_FUA | Nbd.CMD_FLAG_NO_HOLE;
    private static final long ALIGN_MASK = Nbd.MIN_BLOCK - 1;

    /**
     * @param length      the request's unsigned 32-bit length
     * @param exportBytes the export's size (a multiple of 512)
     * @return {@link #CLOSE}, {@link #OK}, or an NBD errno (EINVAL, ENOSPC)
     */
    public static int check(int magic, int flags, int type, long offset, long length, long exportBytes) {
        if (magic != Nbd.REQUEST_MAGIC) return CLOSE;
        if (type == Nbd.CMD_WRITE && length > Nbd.MAX_DISCARDED_PAYLOAD) return CLOSE;
        if ((flags & ~KNOWN_FLAGS) != 0) return Nbd.EINVAL; // DF, REQ_ONE, FAST_ZERO were never negotiated
        return switch (type) {
            case Nbd.CMD_READ, Nbd.CMD_WRITE -> {
                if (length > Nbd.MAX_BLOCK || ((offset | length) & ALIGN_MASK) != 0) yield Nbd.EINVAL;
                yield range(type, offset, length, exportBytes);
            }
            case Nbd.CMD_TRIM, Nbd.CMD_WRITE_ZEROES -> {
                if (((offset | length) & ALIGN_MASK) != 0) yield Nbd.EINVAL;
                yield range(type, offset, length, exportBytes);
            }
            case Nbd.CMD_FLUSH, Nbd.CMD_DISC -> OK;
            default -> Nbd.EINVAL; // CACHE, BLOCK_STATUS (not advertised/negotiated) and unknown commands
        };
    }

    /** Overflow-safe for any u64 offset: in range iff offset ≤ size and length ≤ size − offset. */
    static int range(int type, long offset, long length, long exportBytes) {
        if (Long.compareUnsigned(offset, exportBytes) <= 0 && length <= exportBytes - offset) return OK;
        return type == Nbd.CMD_WRITE || type == Nbd.CMD_WRITE_ZEROES ? Nbd.ENOSPC : Nbd.EINVAL;
    }

    /** Bytes following the header that belong to this request (served or discarded): a WRITE's payload. */
    public static long payload(int type, long length) {
        return type == Nbd.CMD_WRITE ? length : 0;
    }
}
