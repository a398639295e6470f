package io.reflex.dataplane.dpdk;

import io.reflex.protocol.UdpFraming;

/**
 * One loop's memory of its UDP clients, for at-most-once writes: per client (source IP, source port, tenant port) the
 * handles of its last {@link #WINDOW} SETs, each in progress or done with its status. A retried SET whose handle is
 * here is not applied again: in progress, the retry is dropped (the first copy's reply answers it); done, the stored
 * status is sent back. Also whether the client has said HELLO with its tenant's token.
 *
 * <p>Fixed size, allocated once: {@code capacity} clients (open addressing by key), and per client a ring of handles
 * with its own open-addressed index (linear probing, backward-shift deletion). A new client when all are taken evicts
 * the least recently seen one (counted: its window is forgotten). Single-threaded (the loop's), allocation-free.
 */
final class ClientTable {
    static final int WINDOW = UdpFraming.WRITE_WINDOW;
    private static final int INDEX = WINDOW * 2;
    private static final byte EMPTY = 0, IN_PROGRESS = 1, DONE = 2;

    private final int capacity;
    private final int clientMask;
    private final int[] clientIndex; // entry + 1, 0 = empty
    private final long[] keys;
    private final long[] lastSeen;
    private final int[] generation;
    private final boolean[] authenticated;
    private final int[] ringNext;
    private final long[] handles;
    private final byte[] state;
    private final byte[] status;
    private final short[] index; // ring position + 1
    private int count;
    private long evictions;

    ClientTable(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity must be >= 1");
        this.capacity = capacity;
        int slots = Integer.highestOneBit(capacity * 2 - 1) << 1;
        this.clientMask = slots - 1;
        this.clientIndex = new int[slots];
        this.keys = new long[capacity];
        this.lastSeen = new long[capacity];
        this.generation = new int[capacity];
        this.authenticated = new boolean[capacity];
        this.ringNext = new int[capacity];
        this.handles = new long[capacity * WINDOW];
        this.state = new byte[capacity * WINDOW];
        this.status = new byte[capacity * WINDOW];
        this.index = new short[capacity * INDEX];
    }

    static long key(int ip, int srcPort, int dstPort) {
        return (long) ip << 32 | (long) (srcPort & 0xFFFF) << 16 | (dstPort & 0xFFFF);
    }

    /** The client's entry, created (possibly evicting the least recently seen) when new. */
    int lookupOrAdd(long key, long now) {
        int h = (int) mix(key) & clientMask;
        for (int v; (v = clientIndex[h]) != 0; h = (h + 1) & clientMask) {
            if (keys[v - 1] == key) {
                lastSeen[v - 1] = now;
                return v - 1;
            }
        }
        int c;
        if (count < capacity) {
            c = count++;
        } else {
            c = leastRecentlySeen();
            removeClient(c);
            evictions++;
            h = (int) mix(key) & clientMask; // deletion may have moved entries
            while (clientIndex[h] != 0) h = (h + 1) & clientMask;
        }
        clientIndex[h] = c + 1;
        keys[c] = key;
        lastSeen[c] = now;
        generation[c]++;
        authenticated[c] = false;
        ringNext[c] = 0;
        java.util.Arrays.fill(state, c * WINDOW, (c + 1) * WINDOW, EMPTY);
        java.util.Arrays.fill(index, c * INDEX, (c + 1) * INDEX, (short) 0);
        return c;
    }

    int generation(int client) { return generation[client]; }

    boolean authenticated(int client) { return authenticated[client]; }

    void authenticate(int client, boolean ok) { authenticated[client] = ok; }

    long evictions() { return evictions; }

    /** Every client of this tenant port must say HELLO again (cold: the tenant there changed or went). */
    void deauthenticate(int dstPort) {
        for (int c = 0; c < count; c++) if ((int) (keys[c] & 0xFFFF) == (dstPort & 0xFFFF)) authenticated[c] = false;
    }

    int clients() { return count; }

    /** Ring position of this client's SET with {@code handle}, or -1. */
    int findWrite(int client, long handle) {
        int ib = client * INDEX, wb = client * WINDOW;
        for (int h = home(handle), v; (v = index[ib + h]) != 0; h = (h + 1) & (INDEX - 1)) {
            if (handles[wb + v - 1] == handle) return v - 1;
        }
        return -1;
    }

    boolean inProgress(int client, int pos) { return state[client * WINDOW + pos] == IN_PROGRESS; }

    int status(int client, int pos) { return status[client * WINDOW + pos]; }

    /** Remembers a new SET (in progress); forgets the client's oldest one when the window is full. */
    int recordWrite(int client, long handle) {
        int wb = client * WINDOW, ib = client * INDEX;
        int pos = ringNext[client];
        ringNext[client] = (pos + 1) & (WINDOW - 1);
        if (state[wb + pos] != EMPTY) removeFromIndex(ib, wb, pos);
        int h = home(handle);
        while (index[ib + h] != 0) h = (h + 1) & (INDEX - 1);
        index[ib + h] = (short) (pos + 1);
        handles[wb + pos] = handle;
        state[wb + pos] = IN_PROGRESS;
        return pos;
    }

    /** The SET at {@code pos} finished with {@code st}, if the entry is still that write of that client. */
    void completeWrite(int client, int gen, int pos, long handle, int st) {
        int i = client * WINDOW + pos;
        if (generation[client] != gen || handles[i] != handle || state[i] != IN_PROGRESS) return;
        state[i] = DONE;
        status[i] = (byte) st;
    }

    /** Forgets a SET that was never applied (refused before the device), so that its retry is served afresh. */
    void forgetWrite(int client, int gen, int pos, long handle) {
        int i = client * WINDOW + pos;
        if (generation[client] != gen || handles[i] != handle || state[i] == EMPTY) return;
        removeFromIndex(client * INDEX, client * WINDOW, pos);
        state[i] = EMPTY;
    }

    private void removeFromIndex(int ib, int wb, int pos) {
        int i = home(handles[wb + pos]);
        while (index[ib + i] != pos + 1) i = (i + 1) & (INDEX - 1); // present: every non-empty position is indexed
        for (int j = i; ; ) { // backward-shift deletion keeps every probe chain unbroken
            j = (j + 1) & (INDEX - 1);
            int v = index[ib + j];
            if (v == 0) break;
            int k = home(handles[wb + v - 1]);
            boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) {
                index[ib + i] = (short) v;
                i = j;
            }
        }
        index[ib + i] = 0;
    }

    private int leastRecentlySeen() {
        int best = 0;
        for (int c = 1; c < count; c++) if (lastSeen[c] < lastSeen[best]) best = c;
        return best;
    }

    private void removeClient(int c) {
        int i = (int) mix(keys[c]) & clientMask;
        while (clientIndex[i] != c + 1) i = (i + 1) & clientMask;
        for (int j = i; ; ) {
            j = (j + 1) & clientMask;
            int v = clientIndex[j];
            if (v == 0) break;
            int k = (int) mix(keys[v - 1]) & clientMask;
            boolean stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) {
                clientIndex[i] = v;
                i = j;
            }
        }
        clientIndex[i] = 0;
    }

    private static int home(long handle) { return (int) mix(handle) & (INDEX - 1); }

    private static long mix(long x) { // murmur3 finaliser: handles are often sequential
        x ^= x >>> 33;
        x *= 0xff51afd7ed558ccdL;
        x ^= x >>> 33;
        x *= 0xc4ceb9fe1a85ec53L;
        return x ^ (x >>> 33);
    }
}
