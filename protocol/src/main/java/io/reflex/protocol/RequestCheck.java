package io.reflex.protocol;

/**
 * Validation of a request header against a tenant's LBA space, shared by server and client (the client checks
 * before sending). Pure and allocation-free: returns a {@link Status} code.
 */
public final class RequestCheck {
    private RequestCheck() {}

    /** Framing check that needs no tenant: magic, opcode, length. Returns OK or EINVAL. */
    public static int frame(ReflexHeader h) {
        return frame(h.magic(), h.opcode(), h.lbaCount());
    }

    /** {@link #frame(ReflexHeader)} on fields already read (the UDP engine reads them from packet memory). */
    public static int frame(int magic, int opcode, long lbaCount) {
        if (magic != ReflexHeader.MAGIC) return Status.EINVAL;
        return switch (opcode) {
            case Opcode.GET, Opcode.SET -> lbaCount == 0 || lbaCount > ReflexHeader.MAX_SECTORS ? Status.EINVAL : Status.OK;
            case Opcode.HELLO -> lbaCount > Opcode.MAX_TOKEN_BYTES ? Status.EINVAL : Status.OK;
            case Opcode.FLUSH -> lbaCount == 0 ? Status.OK : Status.EINVAL;
            default -> Status.EINVAL;
        };
    }

    /**
     * Whether [lba, lba+count) lies inside a tenant space of {@code tenantSectors}; overflow-safe for any
     * unsigned 64-bit lba the wire can carry.
     */
    public static int range(long lba, long count, long tenantSectors) {
        if (lba < 0 || count < 0 || lba >= tenantSectors) return Status.ERANGE; // lba < 0 means >= 2^63 unsigned
        return count <= tenantSectors - lba ? Status.OK : Status.ERANGE;
    }
}
