package io.reflex.dataplane.dpdk;

/** What a UDP loop did, besides drops ({@link Drop}). */
public enum Count {
    RX_FRAMES,
    TX_FRAMES,
    ARP_REPLIES,
    /** Well-formed ReFlex requests received (retries included). */
    REQUESTS,
    /** Requests that reached the device. */
    DEVICE_REQUESTS,
    /** SETs the device applied. */
    WRITES_APPLIED,
    /** Retried SETs answered from the at-most-once table without touching the device. */
    DUPLICATES_REPLAYED,
    /** Replies with a status other than OK sent without touching the device (EINVAL, ERANGE, EBUSY, EAUTH). */
    REFUSED,
    HELLOS,
    /** Clients forgotten to make room for new ones (their write windows with them). */
    CLIENT_EVICTIONS
}
