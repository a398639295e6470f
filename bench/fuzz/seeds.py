#!/usr/bin/env python3
"""Writes the hand-made seed corpora of the fuzz targets (bench/fuzz/README.md) in Jazzer's layout:
<module>/src/test/resources/<package>/<Class>Inputs/<method>/<name>. Deterministic; rerun after editing a seed.
Findings the fuzzer stored there (crash-*, renamed to finding-*) are left alone."""
import hashlib
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def target(module, package, cls, method):
    d = os.path.join(ROOT, module, "src/test/resources", package.replace(".", "/"), cls + "Inputs", method)
    os.makedirs(d, exist_ok=True)
    return d


def write(d, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- ReFlex (little-endian 24-byte header; PROTOCOL.md) -------------------------------------------------------------
GET, SET, SET_NO_ACK, HELLO, FLUSH = 0, 1, 2, 16, 17


def rx(op, handle, lba, count, payload=b""):
    return struct.pack("<HHqQI", 24, op, handle, lba & 0xFFFFFFFFFFFFFFFF, count) + payload


def shape(slot=0, segment=0, window=0, sync=True):
    """Byte 0 of a dataplane input (SessionFuzzDriver.Shape): tenant slot, read segment index, reply window index."""
    return bytes([slot | segment << 2 | window << 5 | (0 if sync else 0x80)])


def hello(token=b"", version=1, handle=100):
    return rx(HELLO, handle, version, len(token), token)


def sectors(n, fill=0xA5):
    return bytes([fill]) * (512 * n)


def reflex_seeds():
    d = target("dataplane", "io.reflex.dataplane.fuzz", "ReflexStreamFuzzTest", "reflexStream")
    write(d, "legacy-get", shape() + rx(GET, 1, 0, 8))
    write(d, "legacy-set-get", shape() + rx(SET, 1, 8, 1, sectors(1)) + rx(GET, 2, 8, 1))
    write(d, "legacy-whole-tenant", shape() + rx(GET, 1, 0, 2048) + rx(SET, 2, 2047, 1, sectors(1)))
    write(d, "legacy-out-of-range", shape() + rx(GET, 1, 2047, 2))
    write(d, "legacy-bad-magic", shape() + struct.pack("<HHqQI", 23, GET, 1, 0, 8))
    write(d, "legacy-set-no-ack", shape() + rx(SET_NO_ACK, 1, 0, 1, sectors(1)))
    write(d, "legacy-zero-count", shape() + rx(GET, 1, 0, 0))
    write(d, "legacy-too-long", shape() + rx(GET, 1, 0, 2049))
    write(d, "legacy-unknown-opcode", shape() + rx(9, 1, 0, 1))
    write(d, "legacy-flush", shape() + rx(FLUSH, 1, 0, 0))
    write(d, "legacy-truncated-set", shape() + rx(SET, 1, 0, 8, sectors(1)[:100]))
    write(d, "legacy-token-required", shape(slot=1) + rx(GET, 1, 0, 8))
    write(d, "hello-token", shape(slot=1) + hello(b"s3cret") + rx(GET, 1, 0, 8) + rx(SET, 2, 8, 8, sectors(8))
          + rx(FLUSH, 3, 0, 0) + rx(GET, 4, 4095, 1))
    write(d, "hello-wrong-token", shape(slot=1) + hello(b"s3creT") + rx(GET, 1, 0, 8))
    write(d, "hello-no-token", shape(slot=1) + hello() + rx(GET, 1, 0, 8))
    write(d, "hello-version-2", shape() + hello(version=2) + rx(GET, 1, 0, 8))
    write(d, "hello-twice", shape() + hello() + hello())
    write(d, "hello-late", shape() + rx(GET, 1, 0, 1) + hello())
    write(d, "hello-token-too-long", shape() + hello(b"x" * 257))
    write(d, "extended-ranges", shape() + hello() + rx(GET, 1, 2047, 2) + rx(SET, 2, 2048, 1, sectors(1))
          + rx(GET, 3, -1, 1) + rx(GET, 4, 1 << 63, 2048) + rx(SET, 5, 2047, 1, sectors(1)) + rx(GET, 6, 2047, 1))
    write(d, "extended-errors", shape() + hello() + rx(FLUSH, 1, 5, 0) + rx(GET, 2, 0, 1))
    write(d, "extended-flush", shape(sync=False) + hello() + rx(SET, 1, 0, 1, sectors(1)) + rx(FLUSH, 2, 0, 0))
    write(d, "edge-tenant", shape(slot=2) + hello() + rx(GET, 1, 0, 8) + rx(GET, 2, 7, 1) + rx(GET, 3, 8, 1)
          + rx(SET, 4, 7, 2, sectors(2)) + rx(SET, 5, 0, 8, sectors(8)))
    write(d, "segmented-slow-reader", shape(segment=1, window=1) + b"".join(rx(GET, i, i * 8, 8) for i in range(8))
          + rx(SET, 9, 64, 8, sectors(8)))
    write(d, "segmented-24", shape(segment=3, window=2) + hello() + b"".join(rx(GET, i, i, 1) for i in range(16)))
    # More than a connection may hold (256) and than the scheduler queue takes (64): backpressure and EBUSY.
    write(d, "burst-300", shape(window=1) + hello() + b"".join(rx(GET, i, (i * 8) % 2048, 8) for i in range(300)))
    write(d, "burst-legacy-300", shape() + b"".join(rx(GET, i, (i * 8) % 2048, 8) for i in range(300)))



# ---- NBD (big-endian; PROTOCOL.md "NBD front-end") ------------------------------------------------------------------
IHAVEOPT = 0x49484156454F5054
REQUEST_MAGIC = 0x25609513
OPT_EXPORT_NAME, OPT_ABORT, OPT_LIST, OPT_STARTTLS, OPT_INFO, OPT_GO, OPT_STRUCTURED_REPLY = 1, 2, 3, 5, 6, 7, 8
READ, WRITE, DISC, NFLUSH, TRIM, CACHE, WRITE_ZEROES, BLOCK_STATUS = 0, 1, 2, 3, 4, 5, 6, 7
FUA, NO_HOLE, DF = 1, 2, 4


def flags(f=3):
    return struct.pack(">I", f)


def opt(o, data=b"", length=None):
    return struct.pack(">QII", IHAVEOPT, o, len(data) if length is None else length) + data


def go(name, o=OPT_GO, infos=()):
    n = name.encode()
    return opt(o, struct.pack(">I", len(n)) + n + struct.pack(">H", len(infos)) + b"".join(struct.pack(">H", i) for i in infos))


def cmd(typ, offset, length, handle=7, fl=0, payload=b"", magic=REQUEST_MAGIC):
    return struct.pack(">IHHQQI", magic, fl, typ, handle, offset & 0xFFFFFFFFFFFFFFFF, length) + payload


def nbd_seeds():
    d = target("dataplane", "io.reflex.dataplane.fuzz", "NbdStreamFuzzTest", "nbdStream")
    s = shape()
    write(d, "go-read-write", s + flags() + go("fuzz") + cmd(READ, 0, 4096) + cmd(WRITE, 4096, 512, payload=sectors(1))
          + cmd(NFLUSH, 0, 0) + cmd(TRIM, 0, 8192) + cmd(WRITE_ZEROES, 8192, 8192) + cmd(READ, 8192, 512) + cmd(DISC, 0, 0))
    write(d, "go-errors", s + flags() + go("fuzz") + cmd(READ, 1 << 20, 512) + cmd(WRITE, (1 << 20) - 512, 1024, payload=sectors(2))
          + cmd(READ, 100, 512) + cmd(READ, 0, 4096, fl=DF) + cmd(CACHE, 0, 4096) + cmd(BLOCK_STATUS, 0, 4096)
          + cmd(9, 0, 0) + cmd(READ, 0, 0) + cmd(WRITE_ZEROES, 0, 0) + cmd(TRIM, 1 << 20, 512) + cmd(READ, -512, 512)
          + cmd(READ, 0, 2 << 20) + cmd(WRITE, 0, (1 << 20) + 512, payload=sectors(1)))
    write(d, "export-name-zeroes", s + flags(1) + opt(OPT_EXPORT_NAME, b"fuzz") + cmd(READ, 0, 512) + cmd(DISC, 0, 0))
    write(d, "export-name-unknown", s + flags() + opt(OPT_EXPORT_NAME, b"nobody"))
    write(d, "list-info-abort", s + flags() + opt(OPT_LIST) + go("fuzz", OPT_INFO, (0, 3)) + go("", OPT_INFO)
          + go("nobody", OPT_INFO) + opt(OPT_ABORT))
    write(d, "unsupported-options", s + flags() + opt(OPT_STARTTLS) + opt(OPT_STRUCTURED_REPLY) + opt(42, b"xyz")
          + opt(OPT_LIST, b"x") + opt(OPT_GO, b"\0\0") + opt(OPT_GO, b"\0\0\0\x09fuzz\0\0") + go("fuzz"))
    write(d, "option-too-big", s + flags() + opt(42, b"\0" * 100, length=16385) + b"\0" * 16285 + go("fuzz") + cmd(READ, 0, 512))
    write(d, "export-name-too-big", s + flags() + opt(OPT_EXPORT_NAME, b"", length=16385))
    write(d, "locked-token", s + flags() + go("locked:s3cret") + cmd(WRITE, 0, 4096, fl=FUA, payload=sectors(8)) + cmd(READ, 0, 4096))
    write(d, "locked-wrong-token", s + flags() + go("locked:nope") + go("locked") + go("fuzz:ignored") + cmd(READ, 0, 512))
    write(d, "default-edge", s + flags() + go("") + cmd(READ, 0, 4096) + cmd(READ, 4096, 512) + cmd(WRITE_ZEROES, 0, 4096)
          + cmd(WRITE, 3584, 1024, payload=sectors(2)) + cmd(TRIM, 0, 4096))
    write(d, "zeroes-chain-fua", shape(sync=False) + flags() + go("locked:s3cret") + cmd(WRITE_ZEROES, 0, 2 << 20, fl=FUA | NO_HOLE)
          + cmd(WRITE, 0, 512, fl=FUA, payload=sectors(1)) + cmd(NFLUSH, 0, 0))
    write(d, "bad-client-flags", s + flags(0x10))
    write(d, "bad-option-magic", s + flags() + struct.pack(">QII", 0x1234, OPT_GO, 0))
    write(d, "bad-request-magic", s + flags() + go("fuzz") + cmd(READ, 0, 512, magic=0x25609514))
    write(d, "huge-write-closes", s + flags() + go("fuzz") + cmd(WRITE, 0, (32 << 20) + 512))
    write(d, "truncated-write", s + flags() + go("fuzz") + cmd(WRITE, 0, 4096, payload=sectors(1)))
    write(d, "segmented-slow-reader", shape(segment=1, window=1) + flags() + go("fuzz") + cmd(READ, 0, 65536)
          + cmd(WRITE, 0, 1024, payload=sectors(2)) + cmd(DISC, 0, 0))
    write(d, "burst-300", shape(window=1) + flags() + go("fuzz") + b"".join(cmd(READ, (i * 4096) % (1 << 20), 4096, handle=i) for i in range(300)))


# ---- SLO table (YAML/JSON; SloTable javadoc) ------------------------------------------------------------------------
def slo_seeds():
    d = target("dataplane", "io.reflex.dataplane.fuzz", "SloTableFuzzTest", "sloTable")
    digest = "sha256:" + hashlib.sha256(b"s3cret").hexdigest()
    write(d, "two-tenants.yaml", """tenants:
  - name: lc1
    port: 5678
    class: LC
    iops: 50000
    readPercent: 90
    p95Micros: 1000
    lbaBase: 0
    lbaCount: 1048576
    token: s3cret
  - name: be1
    port: 5679
    class: BE
    lbaBase: 1048576
    lbaCount: 1048576
""")
    write(d, "flow.yaml", "tenants: [{name: a, port: 1, class: BE, lbaCount: 8}, {name: b.c-d_e, port: 65535, class: LC, iops: 1, "
          "p95Micros: 1, lbaBase: 8, lbaCount: 8, token: '" + digest + "'}]\n")
    write(d, "json.json", '{"tenants": [{"name": "j", "port": 7, "class": "BE", "lbaBase": 2097144, "lbaCount": 8}]}')
    write(d, "empty-list.yaml", "tenants: []\n")
    write(d, "no-tenants.yaml", "other: 1\n")
    write(d, "empty.yaml", "")
    write(d, "overlap.yaml", "tenants:\n  - {name: a, port: 1, class: BE, lbaBase: 0, lbaCount: 16}\n"
          "  - {name: b, port: 2, class: BE, lbaBase: 8, lbaCount: 16}\n")
    write(d, "duplicates.yaml", "tenants:\n  - {name: a, port: 1, class: BE, lbaCount: 1}\n  - {name: a, port: 1, class: BE, lbaBase: 1, lbaCount: 1}\n")
    write(d, "past-device.yaml", "tenants:\n  - {name: a, port: 1, class: BE, lbaBase: 2097152, lbaCount: 1}\n")
    write(d, "bad-values.yaml", "tenants:\n  - {name: A_, port: 0, class: lc, readPercent: 101, iops: -1, p95Micros: 5, "
          "lbaBase: -1, lbaCount: 0, token: 'sha256:zz', extra: 1}\n")
    write(d, "anchors.yaml", "base: &b {port: 1, class: BE, lbaCount: 8}\ntenants:\n  - *b\n")
    # Found by review, not by the fuzzer (1.5 M executions without the fix did not reach it): lbaBase + lbaCount
    # overflowed and the window passed the device check.
    write(d, "review-window-overflow.yaml", "tenants:\n  - {name: a, port: 1, class: BE, lbaBase: 9223372036854775807, "
          "lbaCount: 1}\n  - {name: b, port: 2, class: BE, lbaBase: 4611686018427387904, lbaCount: 4611686018427387904}\n")
    write(d, "types.yaml", "tenants:\n  - {name: [1], port: '80', class: BE, lbaCount: 0x10, iops: 1e3}\n")


# ---- FuzzedDataProvider targets (node agent, operator) ----------------------------------------------------------------
def provider_seeds():
    """FuzzedDataProvider reads integers from the input's end and strings from its start: plain patterns give the
    fuzzer both an admitted and an any-values tenant to start from (the first boolean is the input's last byte)."""
    for module, package, cls, method in (("node-agent", "io.reflex.agent.fuzz", "TenantRowsFuzzTest", "tenantRow"),
                                         ("operator", "io.reflex.operator.fuzz", "TranslateFuzzTest", "translate")):
        d = target(module, package, cls, method)
        write(d, "zeros-admitted", b"\0" * 63 + b"\1")
        write(d, "zeros-any", b"\0" * 64)
        write(d, "ascending-admitted", bytes(range(255)) + b"\1")
        write(d, "ascending-any", bytes(range(256)))
        write(d, "ones-admitted", b"\xff" * 128)


if __name__ == "__main__":
    reflex_seeds()
    nbd_seeds()
    slo_seeds()
    provider_seeds()
    print("seeds written under", ROOT, file=sys.stderr)
