package io.reflex.dataplane.nbd;

/**
 * NBD wire constants (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md), all big-endian on the
 * wire. Only what the fixed-newstyle server side needs.
 */
public final class Nbd {
    private Nbd() {}

    // ---- handshake ----
    public static final long NBDMAGIC = 0x4e42444d41474943L;          // "NBDMAGIC"
    public static final long IHAVEOPT = 0x49484156454F5054L;          // "IHAVEOPT"
    public static final long REPLY_MAGIC = 0x0003e889045565a9L;       // option reply magic
    public static final int GREETING_LENGTH = 18;                     // NBDMAGIC, IHAVEOPT, u16 handshake flags

    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 2;
    public static final int CLIENT_FLAG_FIXED_NEWSTYLE = 1;
    public static final int CLIENT_FLAG_NO_ZEROES = 2;

    /** Option request header: IHAVEOPT u64, option u32, length u32. */
    public static final int OPTION_HEADER_LENGTH = 16;
    /** Option reply header: magic u64, option u32, reply type u32, length u32. */
    public static final int OPTION_REPLY_HEADER_LENGTH = 20;

    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;
    public static final int OPT_EXTENDED_HEADERS = 11;

    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_ERR_UNSUP = 0x80000001;
    public static final int REP_ERR_POLICY = 0x80000002;
    public static final int REP_ERR_INVALID = 0x80000003;
    public static final int REP_ERR_PLATFORM = 0x80000004;
    public static final int REP_ERR_TLS_REQD = 0x80000005;
    public static final int REP_ERR_UNKNOWN = 0x80000006;
    public static final int REP_ERR_SHUTDOWN = 0x80000007;
    public static final int REP_ERR_BLOCK_SIZE_REQD = 0x80000008;
    public static final int REP_ERR_TOO_BIG = 0x80000009;

    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    /** Strings (export names, messages) MUST be at most 4096 bytes. */
    public static final int MAX_STRING = 4096;

    // ---- transmission ----
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int REQUEST_LENGTH = 28;
    public static final int SIMPLE_REPLY_LENGTH = 16;

    public static final int TFLAG_HAS_FLAGS = 1;
    public static final int TFLAG_READ_ONLY = 1 << 1;
    public static final int TFLAG_SEND_FLUSH = 1 << 2;
    public static final int TFLAG_SEND_FUA = 1 << 3;
    public static final int TFLAG_ROTATIONAL = 1 << 4;
    public static final int TFLAG_SEND_TRIM = 1 << 5;
    public static final int TFLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int TFLAG_SEND_DF = 1 << 7;
    public static final int TFLAG_CAN_MULTI_CONN = 1 << 8;

    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_CACHE = 5;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;

    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_FLAG_DF = 1 << 2;
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int CMD_FLAG_FAST_ZERO = 1 << 4;

    public static final int EPERM = 1;
    public static final int EIO = 5;
    public static final int ENOMEM = 12;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int EOVERFLOW = 75;
    public static final int ENOTSUP = 95;
    public static final int ESHUTDOWN = 108;

    // ---- what this server offers ----
    public static final int MIN_BLOCK = 512;
    public static final int PREFERRED_BLOCK = 4096;
    /** Largest READ/WRITE (the dataplane's 1 MiB request limit). */
    public static final int MAX_BLOCK = 1 << 20;
    /**
     * A WRITE longer than {@link #MAX_BLOCK} but at most this long gets EINVAL and its payload is read and discarded
     * (the spec's interoperable maximum a client may send without block-size negotiation); longer ones close the
     * connection, since reading them would let a client keep the loop busy with garbage.
     */
    public static final int MAX_DISCARDED_PAYLOAD = 32 << 20;

    /** Transmission flags of every export: flush, FUA, trim, write-zeroes, and multi-connection consistency. */
    public static final int TRANSMISSION_FLAGS = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_SEND_FUA | TFLAG_SEND_TRIM
            | TFLAG_SEND_WRITE_ZEROES | TFLAG_CAN_MULTI_CONN;

    public static String commandName(int type) {
        return switch (type) {
            case CMD_READ -> "READ";
            case CMD_WRITE -> "WRITE";
            case CMD_DISC -> "DISC";
            case CMD_FLUSH -> "FLUSH";
            case CMD_TRIM -> "TRIM";
            case CMD_CACHE -> "CACHE";
            case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            case CMD_BLOCK_STATUS -> "BLOCK_STATUS";
            default -> "cmd#" + type;
        };
    }
}
