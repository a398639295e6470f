package io.reflex.protocol;

/** Request opcodes. 0–2 are the original's; 16+ are this project's opt-in extension (PROTOCOL.md). */
public final class Opcode {
    public static final int GET = 0;
    public static final int SET = 1;
    /** Defined by the original but never served: the server closes the connection, as the original did. */
    public static final int SET_NO_ACK = 2;
    /** Extension: lba = protocol version, lba_count = token length in bytes, token bytes follow. */
    public static final int HELLO = 16;
    /** Extension: make every write acknowledged before it durable on the device (fdatasync); lba/lba_count must be 0. */
    public static final int FLUSH = 17;

    public static final int PROTOCOL_VERSION = 1;
    public static final int MAX_TOKEN_BYTES = 256;

    private Opcode() {}

    public static String name(int opcode) {
        return switch (opcode) {
            case GET -> "GET";
            case SET -> "SET";
            case SET_NO_ACK -> "SET_NO_ACK";
            case HELLO -> "HELLO";
            case FLUSH -> "FLUSH";
            default -> "UNKNOWN(" + opcode + ")";
        };
    }
}
