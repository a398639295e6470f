// floor-server: the least a kernel-TCP ReFlex server can do, as a reference point for bench/run-dataplane.sh.
// One thread, one connection at a time, GET only (legacy protocol): read requests, submit each read to io_uring at
// once (registered file and buffers), reap completions without a system call, and send header + data straight
// from the device buffers with writev. No scheduler, no range checks, no metrics: not a server, a floor.
//
//   floor-server FILE PORT block|busy|yield
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define QD 256
#define BS 4096
#define HDR 24

enum mode { BLOCK, BUSY, YIELD };
struct hdr { uint16_t magic, opcode; uint64_t handle, lba; uint32_t count; } __attribute__((packed));

static struct io_uring ring;
static char *bufs;
static struct hdr hdrs[QD];
static int freelist[QD], nfree;
static struct iovec out[2 * QD];

static void idle_wait(int fd, short events, enum mode m) {
    if (m == YIELD) sched_yield();
    else if (m == BLOCK) poll(&(struct pollfd){ .fd = fd, .events = events }, 1, 1);
}

// Sends every iovec; a full socket is waited for as the mode says (the client is reading meanwhile).
static int send_all(int c, struct iovec *v, int n, enum mode m) {
    while (n > 0) {
        ssize_t w = writev(c, v, n > IOV_MAX ? IOV_MAX : n);
        if (w < 0) {
            if (errno != EAGAIN) return -1;
            idle_wait(c, POLLOUT, m);
            continue;
        }
        while (n > 0 && (size_t)w >= v->iov_len) { w -= v->iov_len; v++; n--; }
        if (n > 0) { v->iov_base = (char *)v->iov_base + w; v->iov_len -= w; }
    }
    return 0;
}

static void serve(int c, enum mode m) {
    static char in[1 << 16];
    int inlen = 0, pending = 0;
    for (;;) {
        int n = read(c, in + inlen, sizeof in - inlen);
        if (n == 0 || (n < 0 && errno != EAGAIN)) break;
        if (n > 0) inlen += n;
        int off = 0, queued = 0, bad = 0;
        while (inlen - off >= HDR && nfree > 0) {
            int id = freelist[--nfree];
            memcpy(&hdrs[id], in + off, HDR);
            off += HDR;
            if (hdrs[id].magic != 24 || hdrs[id].opcode != 0 || hdrs[id].count * 512u > BS) {
                fprintf(stderr, "floor-server: only GETs of at most 4 KiB are served; closing\n");
                freelist[nfree++] = id;
                bad = 1;
                break;
            }
            struct io_uring_sqe *s = io_uring_get_sqe(&ring);
            io_uring_prep_read_fixed(s, 0, bufs + (size_t)id * BS, hdrs[id].count * 512, hdrs[id].lba * 512, 0);
            s->flags |= IOSQE_FIXED_FILE;
            s->user_data = id;
            queued++;
        }
        if (queued) io_uring_submit(&ring);
        pending += queued;
        memmove(in, in + off, inlen - off);
        inlen -= off;
        struct io_uring_cqe *cqe;
        int ids[QD], k = 0;
        if (m == BLOCK && n <= 0 && pending > 0)
            io_uring_wait_cqe_timeout(&ring, &cqe, &(struct __kernel_timespec){ .tv_nsec = 20000 });
        int failed = 0;
        while (io_uring_peek_cqe(&ring, &cqe) == 0) {
            if (cqe->res != (int)(hdrs[cqe->user_data].count * 512)) failed = cqe->res;
            ids[k++] = (int)cqe->user_data;
            io_uring_cqe_seen(&ring, cqe);
        }
        int nout = 0;
        for (int i = 0; i < k; i++) {
            out[nout++] = (struct iovec){ &hdrs[ids[i]], HDR };
            out[nout++] = (struct iovec){ bufs + (size_t)ids[i] * BS, hdrs[ids[i]].count * 512 };
        }
        int sent = failed ? -1 : nout ? send_all(c, out, nout, m) : 0;
        for (int i = 0; i < k; i++) freelist[nfree++] = ids[i];
        pending -= k;
        if (failed) fprintf(stderr, "floor-server: device error %d; closing\n", failed);
        if (sent || bad) break;
        if (n <= 0 && k == 0) {
            if (m == BLOCK && pending == 0) poll(&(struct pollfd){ .fd = c, .events = POLLIN }, 1, 100);
            else if (m == YIELD) sched_yield();
        }
    }
    // let reads the kernel still owns finish before their buffers are reused by the next connection
    while (pending > 0) {
        struct io_uring_cqe *cqe;
        if (io_uring_wait_cqe(&ring, &cqe) == 0) { freelist[nfree++] = (int)cqe->user_data; io_uring_cqe_seen(&ring, cqe); pending--; }
    }
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: floor-server FILE PORT block|busy|yield\n"); return 2; }
    enum mode m = !strcmp(argv[3], "busy") ? BUSY : !strcmp(argv[3], "yield") ? YIELD : BLOCK;
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    if (fd < 0) { perror(argv[1]); return 1; }
    int r = io_uring_queue_init(QD, &ring, 0);
    if (r < 0) { fprintf(stderr, "io_uring_queue_init: %s\n", strerror(-r)); return 1; }
    if (posix_memalign((void **)&bufs, 4096, (size_t)QD * BS)) return 1;
    struct iovec region = { bufs, (size_t)QD * BS };
    if ((r = io_uring_register_files(&ring, &fd, 1)) < 0 || (r = io_uring_register_buffers(&ring, &region, 1)) < 0) {
        fprintf(stderr, "io_uring_register: %s\n", strerror(-r));
        return 1;
    }
    for (int i = 0; i < QD; i++) freelist[nfree++] = i;
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 8)) { perror("bind"); return 1; }
    fprintf(stderr, "floor-server: 127.0.0.1:%s, %s, poll %s\n", argv[2], argv[1], argv[3]);
    for (;;) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fcntl(c, F_SETFL, O_NONBLOCK);
        serve(c, m);
        close(c);
    }
}
