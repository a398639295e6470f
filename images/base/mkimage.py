#!/usr/bin/env python3
"""Write a one-layer container image tar from a root filesystem directory, without a daemon.

  mkimage.py ROOTFS NAME:TAG OUT.tar [--env K=V]... [--user U] [--workdir DIR] [--label K=V]... \
             [--owner PATH=UID:GID]... [--entrypoint JSON] [--cmd JSON] [--base BASE.tar]

The tar is both a docker-archive (manifest.json, what Jib's tar:// base image and `docker load` read) and an OCI
image layout (oci-layout, index.json, what `ctr images import` reads). The layer is gzip-compressed and
reproducible: entries sorted, mtimes 0, owner root unless --owner says otherwise (PATH is inside the image, e.g.
/home/nonroot=65532:65532). Same input, same digests.

--base BASE.tar (a tar this script wrote): the image is BASE's layers, byte for byte (so registries and containerd
store them once), plus ROOTFS as one more layer; BASE's config is kept, --env replaces variables of the same name,
--label adds labels, --user/--workdir/--entrypoint/--cmd replace when given.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import tarfile

ap = argparse.ArgumentParser()
ap.add_argument("rootfs")
ap.add_argument("ref")
ap.add_argument("out")
ap.add_argument("--env", action="append", default=[])
ap.add_argument("--label", action="append", default=[])
ap.add_argument("--owner", action="append", default=[])
ap.add_argument("--user", default="")
ap.add_argument("--workdir", default="")
ap.add_argument("--entrypoint", default="null")
ap.add_argument("--cmd", default="null")
ap.add_argument("--base", default=None)
a = ap.parse_args()

# The base image's blobs, config and layer descriptors (from its OCI index), or nothing.
base_blobs, base_layers, base_cfg = {}, [], None
if a.base:
    with tarfile.open(a.base) as bt:
        bidx = json.load(bt.extractfile("index.json"))
        bman = json.load(bt.extractfile("blobs/sha256/" + bidx["manifests"][0]["digest"].split(":", 1)[1]))
        base_cfg = json.load(bt.extractfile("blobs/sha256/" + bman["config"]["digest"].split(":", 1)[1]))
        base_layers = bman["layers"]
        for d in base_layers:
            h = d["digest"].split(":", 1)[1]
            base_blobs[h] = bt.extractfile("blobs/sha256/" + h).read()

owners = {}
for o in a.owner:
    path, ids = o.split("=", 1)
    uid, gid = ids.split(":")
    owners[path.strip("/")] = (int(uid), int(gid))

# The layer: a tar of the rootfs (uncompressed for the diff id), then gzip (mtime 0) for the blob.
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as lt:
    for root, dirs, files in os.walk(a.rootfs):
        dirs.sort()
        files.sort()
        for n in dirs + files:
            p = os.path.join(root, n)
            arc = os.path.relpath(p, a.rootfs)
            ti = lt.gettarinfo(p, arc)
            ti.uid, ti.gid = owners.get(arc, (0, 0))
            ti.uname = ti.gname = ""
            ti.mtime = 0
            if ti.isreg():
                with open(p, "rb") as f:
                    lt.addfile(ti, f)
            else:
                lt.addfile(ti)
layer_tar = raw.getvalue()
diff_id = "sha256:" + hashlib.sha256(layer_tar).hexdigest()
gz = io.BytesIO()
with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6) as g:
    g.write(layer_tar)
layer = gz.getvalue()
ldig = hashlib.sha256(layer).hexdigest()

config = dict(base_cfg["config"]) if base_cfg else {}
env = dict(kv.split("=", 1) for kv in config.get("Env", []))
env.update(kv.split("=", 1) for kv in a.env)
config["Env"] = [k + "=" + v for k, v in env.items()]
if a.user:
    config["User"] = a.user
if a.workdir:
    config["WorkingDir"] = a.workdir
if a.label:
    config["Labels"] = dict(config.get("Labels") or {}, **dict(kv.split("=", 1) for kv in a.label))
if json.loads(a.entrypoint) is not None:
    config["Entrypoint"] = json.loads(a.entrypoint)
if json.loads(a.cmd) is not None:
    config["Cmd"] = json.loads(a.cmd)
history = {"created": "1970-01-01T00:00:00Z", "created_by": os.environ.get("MKIMAGE_CREATED_BY", "images/base/build.sh")}
cfg = {"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z", "config": config,
       "rootfs": {"type": "layers", "diff_ids": (base_cfg["rootfs"]["diff_ids"] if base_cfg else []) + [diff_id]},
       "history": (base_cfg.get("history", []) if base_cfg else []) + [history]}
cb = json.dumps(cfg, sort_keys=True).encode()
cdig = hashlib.sha256(cb).hexdigest()
man = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
       "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + cdig,
                  "size": len(cb)},
       "layers": base_layers + [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + ldig,
                                 "size": len(layer)}]}
mb = json.dumps(man, sort_keys=True).encode()
mdig = hashlib.sha256(mb).hexdigest()
tag = a.ref.rsplit(":", 1)[1] if ":" in a.ref.rsplit("/", 1)[-1] else "latest"
index = {"schemaVersion": 2, "manifests": [{
    "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + mdig, "size": len(mb),
    "platform": {"architecture": "amd64", "os": "linux"},
    "annotations": {"io.containerd.image.name": a.ref, "org.opencontainers.image.ref.name": tag}}]}
docker_manifest = [{"Config": "blobs/sha256/" + cdig, "RepoTags": [a.ref],
                    "Layers": ["blobs/sha256/" + h for h in list(base_blobs) + [ldig]]}]


def add(t, name, data):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mtime = 0
    ti.mode = 0o644
    t.addfile(ti, io.BytesIO(data))


tmp = a.out + ".tmp"
with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as t:
    add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add(t, "index.json", json.dumps(index).encode())
    add(t, "manifest.json", json.dumps(docker_manifest).encode())
    for d, b in list(base_blobs.items()) + [(ldig, layer), (cdig, cb), (mdig, mb)]:
        add(t, "blobs/sha256/" + d, b)
os.replace(tmp, a.out)
print(f"{a.out}: {a.ref} manifest sha256:{mdig}, layer {len(layer_tar) / 1e6:.1f} MB "
      f"({len(layer) / 1e6:.1f} MB gzipped)")
