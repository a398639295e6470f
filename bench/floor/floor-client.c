// floor-client: the least a ReFlex load generator can do, the client half of the floor reference
// (see floor-server.c). Closed loop: QD random 4 KiB GETs in flight on one connection (legacy protocol); after a
// 1 s warm-up it measures DURATION seconds and writes reflex-bench's JSON shape (one row) to JSON.
//
//   floor-client PORT QD DURATION block|busy|yield LBA_RANGE_SECTORS JSON
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HDR 24
#define BS 4096
#define MAXQD 256
struct hdr { uint16_t magic, opcode; uint64_t handle, lba; uint32_t count; } __attribute__((packed));

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}
static int cmp_long(const void *a, const void *b) { long x = *(const long *)a, y = *(const long *)b; return (x > y) - (x < y); }

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: floor-client PORT QD DURATION block|busy|yield LBA_RANGE_SECTORS JSON\n"); return 2; }
    int qd = atoi(argv[2]), spin = strcmp(argv[4], "block") != 0, yield = !strcmp(argv[4], "yield");
    double duration = atof(argv[3]);
    uint64_t blocks = strtoull(argv[5], NULL, 10) / 8;
    if (qd < 1 || qd > MAXQD || blocks == 0) { fprintf(stderr, "floor-client: QD 1..%d and a range of at least 8 sectors\n", MAXQD); return 2; }
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 1; }
    if (spin) ioctl(s, FIONBIO, &one);

    size_t cap = (size_t)(duration * 2e6) + 1024; // latencies of the measured window (< 2M requests/s)
    long *lat = malloc(cap * sizeof *lat), sent_at[MAXQD], n = 0;
    static char in[1 << 20] __attribute__((aligned(4096)));
    char out[MAXQD * HDR];
    int inlen = 0, nout = 0;
    uint64_t seed = 42;
    long start = now_ns(), measure = start + 1000000000L, end = measure + (long)(duration * 1e9), t = start;
    for (int h = 0; h < qd; h++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        struct hdr r = { 24, 0, (uint64_t)h, ((seed >> 16) % blocks) * 8, 8 };
        memcpy(out + nout, &r, HDR); nout += HDR; sent_at[h] = t;
    }
    while (t < end) {
        if (nout) { // the requests are tiny: one write takes them all
            if (write(s, out, nout) != nout) { perror("write"); return 1; }
            nout = 0;
        }
        int r = read(s, in + inlen, sizeof in - inlen);
        if (r == 0) { fprintf(stderr, "floor-client: server closed the connection\n"); return 1; }
        if (r < 0) {
            if (errno != EAGAIN) { perror("read"); return 1; }
            if (yield) sched_yield();
            t = now_ns();
            continue;
        }
        inlen += r;
        t = now_ns();
        int off = 0;
        while (inlen - off >= HDR + BS) {
            struct hdr rep;
            memcpy(&rep, in + off, HDR);
            off += HDR + BS;
            int h = (int)rep.handle;
            if (rep.magic != 24 || h < 0 || h >= qd) { fprintf(stderr, "floor-client: bad reply\n"); return 1; }
            if (sent_at[h] >= measure && t < end && (size_t)n < cap) lat[n++] = t - sent_at[h];
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            struct hdr q = { 24, 0, (uint64_t)h, ((seed >> 16) % blocks) * 8, 8 };
            memcpy(out + nout, &q, HDR); nout += HDR; sent_at[h] = t;
        }
        memmove(in, in + off, inlen - off);
        inlen -= off;
    }
    qsort(lat, n, sizeof *lat, cmp_long);
    double sum = 0;
    for (long i = 0; i < n; i++) sum += lat[i];
#define PCT(p) (n ? lat[(long)((p) / 100.0 * (n - 1))] / 1000.0 : 0)
    FILE *f = fopen(argv[6], "w");
    if (!f) { perror(argv[6]); return 1; }
    fprintf(f, "{\"tool\": \"floor-client\", \"rows\": [{\"iops\": %.1f, \"requests\": %ld, \"reads\": %ld, \"writes\": 0, "
               "\"mean_us\": %.3f, \"p50_us\": %.3f, \"p95_us\": %.3f, \"p99_us\": %.3f, \"max_us\": %.3f, \"errors\": 0, \"missed\": 0}]}\n",
            n / duration, n, n, n ? sum / n / 1000.0 : 0, PCT(50), PCT(95), PCT(99), PCT(100));
    fclose(f);
    printf("floor-client: QD %d, %s: %.0f IOPS, p50 %.1f us, p99 %.1f us\n", qd, argv[4], n / duration, PCT(50), PCT(99));
    return 0;
}
