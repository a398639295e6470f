#!/usr/bin/env python3
"""Hostile ReFlex clients for bench/hostile/run.sh. Each mode runs until --duration elapses (or SIGTERM) and prints
one JSON line of what it did. Connections the server closes are replaced, so the pressure stays constant.

  slowloris N   N connections, each sending a GET header one byte per second (never completing it in time)
  noread N      N connections, each pipelining 256 GETs of 256 KiB (64 MiB of replies) and never reading
  idle N        N connections that send nothing
  storm P       P processes connecting and disconnecting as fast as they can: FIN, RST, half a header, a read
                left unread
"""
import argparse, json, os, random, signal, socket, struct, sys, time

TCP_INFO_STATE_ESTABLISHED = 1
stop = False


def on_term(*_):
    global stop
    stop = True


def header(op, handle, lba, sectors):
    return struct.pack('<HHQQI', 24, op, handle, lba, sectors)


def connect(port, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.settimeout(2)  # a server that stopped accepting must not hang the attacker
    s.connect(("127.0.0.1", port))
    s.settimeout(None)
    return s


def established(s):
    """Whether the server has not closed/reset it (TCP_INFO's state; reading would count as progress)."""
    try:
        return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == TCP_INFO_STATE_ESTABLISHED
    except OSError:
        return False


def slowloris(port, n, deadline):
    hdr = header(0, 1, 0, 8)
    conns = []  # [socket, bytes sent]
    opened = closed = 0
    while not stop and time.time() < deadline:
        while len(conns) < n:
            try:
                conns.append([connect(port), 0]); opened += 1
            except OSError:
                time.sleep(0.1); break
        for c in list(conns):
            s, sent = c
            try:
                if not established(s):
                    raise OSError("closed")
                s.send(hdr[sent % 23:sent % 23 + 1])  # never the 24th byte
                c[1] = sent + 1
            except OSError:
                s.close(); conns.remove(c); closed += 1
        time.sleep(1)
    return {"opened": opened, "closed_by_server": closed, "open_at_end": len(conns)}


def noread(port, n, deadline):
    burst = b''.join(header(0, i, (i * 512) % 200000, 512) for i in range(256))
    conns = []
    opened = closed = 0
    while not stop and time.time() < deadline:
        while len(conns) < n:
            try:
                s = connect(port, rcvbuf=4096)
                s.sendall(burst)
                conns.append(s); opened += 1
            except OSError:
                time.sleep(0.1); break
        for s in list(conns):
            if not established(s):
                s.close(); conns.remove(s); closed += 1
        time.sleep(0.5)
    return {"opened": opened, "closed_by_server": closed, "open_at_end": len(conns)}


def idle(port, n, deadline):
    conns = []
    opened = closed = 0
    t0 = time.time()
    while not stop and time.time() < deadline:
        while len(conns) < n and not stop:
            try:
                conns.append(connect(port)); opened += 1
            except OSError as e:
                print("idle: connect failed: %s" % e, file=sys.stderr); time.sleep(0.1); break
        if opened == n and t0:
            print("idle: %d connections open after %.1f s" % (n, time.time() - t0), file=sys.stderr, flush=True); t0 = 0
        for s in list(conns):
            if not established(s):
                s.close(); conns.remove(s); closed += 1
        time.sleep(1)
    return {"opened": opened, "closed_by_server": closed, "open_at_end": len(conns)}


def storm_worker(port, deadline, seed):
    rnd = random.Random(seed)
    n = 0
    while not stop and time.time() < deadline:
        try:
            s = connect(port)
            k = rnd.randrange(4)
            if k == 1:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))  # RST
            elif k == 2:
                s.send(header(0, 1, 0, 8)[:11])
            elif k == 3:
                s.send(header(0, 1, 0, 256))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            s.close()
            n += 1
        except OSError:
            time.sleep(0.01)
    return n


def storm(port, procs, deadline):
    pids = []
    rfds = []
    for p in range(procs):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            signal.signal(signal.SIGTERM, on_term)
            n = storm_worker(port, deadline, p)
            os.write(w, str(n).encode()); os._exit(0)
        os.close(w); pids.append(pid); rfds.append(r)
    total = 0
    for pid, r in zip(pids, rfds):
        total += int(os.read(r, 64) or b'0'); os.waitpid(pid, 0)
    return {"connections": total, "per_second": round(total / max(1e-9, duration), 1)}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["slowloris", "noread", "idle", "storm"])
    ap.add_argument("n", type=int)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--duration", type=float, default=20)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, on_term)
    duration = a.duration
    deadline = time.time() + a.duration
    fn = {"slowloris": slowloris, "noread": noread, "idle": idle, "storm": storm}[a.mode]
    result = fn(a.port, a.n, deadline)
    print(json.dumps({"mode": a.mode, "n": a.n, **result}), flush=True)
