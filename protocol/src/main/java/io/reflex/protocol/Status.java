package io.reflex.protocol;

/** Status codes of extended responses (u32 at offset 12). Legacy connections never see them: errors close the connection. */
public final class Status {
    public static final int OK = 0;
    /** Malformed request: bad opcode, zero length, misaligned, over 1 MiB. */
    public static final int EINVAL = 1;
    /** lba/lba_count outside the tenant's own LBA range. */
    public static final int ERANGE = 2;
    /** The device failed the operation. */
    public static final int EIO = 3;
    /** HELLO token missing or wrong. */
    public static final int EAUTH = 4;
    /** The tenant's queue is full or it is being removed; retry later. */
    public static final int EBUSY = 5;

    private Status() {}

    public static String name(int status) {
        return switch (status) {
            case OK -> "OK";
            case EINVAL -> "EINVAL";
            case ERANGE -> "ERANGE";
            case EIO -> "EIO";
            case EAUTH -> "EAUTH";
            case EBUSY -> "EBUSY";
            default -> "STATUS(" + status + ")";
        };
    }
}
