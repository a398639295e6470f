package io.reflex.dataplane.dpdk;

/**
 * Why the engine dropped a frame without answering it: each has a counter ({@link Counters}). Malformed input
 * never reaches the scheduler or the device and never stops the loop.
 */
public enum Drop {
    /** Shorter than its headers say, or than Ethernet + the header it claims. */
    TRUNCATED,
    /** Chained mbufs (a frame larger than one buffer): we size buffers for the MTU, so only garbage gets here. */
    MULTI_SEGMENT,
    /** Not our MAC and not broadcast. */
    OTHER_MAC,
    /** An ethertype other than IPv4 and ARP (IPv6, VLAN tags, LLDP ...). */
    OTHER_ETHERTYPE,
    /** An ARP that is not a request for our address (replies, gratuitous ARP, other targets, non-IPv4 ARP). */
    ARP_IGNORED,
    /** IPv4 version/IHL invalid, or header options (we send none and accept none). */
    IP_BAD_HEADER,
    /** IPv4 total length beyond the frame or below its headers. */
    IP_BAD_LENGTH,
    IP_BAD_CHECKSUM,
    /** IP fragments: requests fit one datagram (jumbo MTU), so we never reassemble. */
    IP_FRAGMENT,
    /** Not addressed to our IPv4 address. */
    OTHER_IP,
    /** Not UDP (ICMP, TCP ...). */
    OTHER_PROTOCOL,
    /** UDP length disagrees with the IP length. */
    UDP_BAD_LENGTH,
    UDP_BAD_CHECKSUM,
    /** No tenant on that UDP port. */
    NO_TENANT,
    /** A datagram shorter than the 24-byte ReFlex header. */
    REFLEX_TRUNCATED,
    /** ReFlex magic is not 24: not our protocol, no reply (the handle cannot be trusted). */
    REFLEX_BAD_MAGIC,
    /** Datagram length disagrees with the header (a SET's data, a HELLO's token, nothing else for GET/FLUSH). */
    REFLEX_BAD_LENGTH,
    /** A retried SET whose first copy is still at the device: its reply answers both. */
    DUPLICATE_IN_PROGRESS,
    /** The transmit queue stayed full: the reply is lost (the client retries). */
    TX_FULL,
    /** Test hook {@code --dpdk-drop-reply-every}: a completed reply deliberately not sent. */
    INJECTED_REPLY_LOSS;

    static final Drop[] VALUES = values();

    /** Lower-case metric label, e.g. {@code ip_bad_checksum}. */
    public String label() { return name().toLowerCase(java.util.Locale.ROOT); }
}
