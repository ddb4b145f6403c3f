#!/usr/bin/env python3
"""Runs every probe of issue 11 against an elastic binary and prints a
Markdown table: the command, its exit status, the first line of stderr,
the peak resident memory and the wall time.

Usage: scripts/probe-issue11.py ELASTIC_BINARY WORKDIR

It needs the data packages (scripts/install-data.sh) and builds its files
in WORKDIR from demo/assets and the binary itself: a screener, hidden
vectors with a bad label, little modules and models with corrupted sizes,
biases or bits. Each probe runs under a 120 s timeout; exit 2 is a Go
panic, a kill by signal is an out-of-memory crash or the timeout.
"""
import json
import os
import struct
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(REPO, "demo", "assets")
TIMEOUT = 120


def read_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    meta = hdr.pop("__metadata__", {})
    data = b[8 + n:]
    ts = {k: (v["dtype"], v["shape"], data[v["data_offsets"][0]:v["data_offsets"][1]]) for k, v in hdr.items()}
    return meta, ts


def write_st(path, meta, ts):
    hdr, off, blobs = {"__metadata__": meta}, 0, []
    for k in sorted(ts):
        dt, shape, raw = ts[k]
        hdr[k] = {"dtype": dt, "shape": shape, "data_offsets": [off, off + len(raw)]}
        off += len(raw)
        blobs.append(raw)
    h = json.dumps(hdr).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def f32(vals):
    return struct.pack("<%df" % len(vals), *vals)


def run(binary, args, env=None):
    t0 = time.time()
    cmd = ["/usr/bin/time", "-f", "MAXRSS %M", binary] + args
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
        rc, err = p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        rc, err = "timeout", (e.stderr or b"").decode(errors="replace") if isinstance(e.stderr, bytes) else (e.stderr or "")
    secs = time.time() - t0
    rss = ""
    lines = []
    for line in err.splitlines():
        if line.startswith("MAXRSS "):
            rss = "%.0f" % (int(line.split()[1]) / 1024)
        elif line.startswith("Command "):  # /usr/bin/time's note on a signal or exit status
            continue
        elif line.strip():
            lines.append(line.strip())
    first = next((l for l in lines if l.startswith("elastic:") or l.startswith("panic") or l.startswith("fatal")), lines[0] if lines else "")
    if rc == 0:
        first = "(ran to completion)"
    return rc, first, rss, secs


def main():
    binary, work = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(work, exist_ok=True)
    model = os.path.join(ASSETS, "model.safetensors")
    little = os.path.join(ASSETS, "little.safetensors")
    w = lambda name: os.path.join(work, name)

    # Files elastic writes (with checksums): a re-export of the demo model,
    # a screener for it, little modules fitted to it.
    prep = [
        ["lm", "export", "--model", model, "--out", w("model.safetensors")],
        ["screen", "fit", "--lm", "--classifier", w("model.safetensors"), "--tokens", "1200", "--threads", "1", "--out", w("screener.safetensors")],
        ["dmi", "fit", "--model", w("model.safetensors"), "--calib-tokens", "2000", "--threads", "1", "--out", w("little.safetensors")],
    ]
    for a in prep:
        if not os.path.exists(a[a.index("--out") + 1]):
            subprocess.run([binary] + a, check=True, capture_output=True)

    meta, ts = read_st(little)
    m2 = dict(meta, **{"l0.kx": str(2**32), "l0.dx": str(2**32)})
    write_st(w("little-2p32.safetensors"), m2, ts)
    write_st(w("little-2p62.safetensors"), dict(meta, **{"l0.kx": "1", "l0.dx": str(2**62)}), ts)
    write_st(w("little-30000.safetensors"), dict(meta, **{k: "30000" for k in ["l0.kx", "l0.dx", "l0.kh", "l0.dh", "l1.kx", "l1.dx", "l1.kh", "l1.dh"]}), ts)

    smeta, sts = read_st(w("screener.safetensors"))
    small = {k: v for k, v in sts.items() if k in ("screen.b",)}
    smeta.pop("elastic.checksum", None)  # as a file without a checksum
    write_st(w("screener-30000.safetensors"), dict(smeta, k="30000", d="30000", l="2"), {"screen.b": ("F32", [2], f32([0, 0])), "screen.w": ("U8", [2, 1], b"\0\0"), "screen.w.scale": ("F32", [2], f32([1, 1]))})
    print("screener-30000 is %d bytes" % os.path.getsize(w("screener-30000.safetensors")), file=sys.stderr)

    n, d = 40, 512
    write_st(w("hidden-badlabel.safetensors"), {}, {"hidden": ("F32", [n, d], f32([0.01] * (n * d))), "labels": ("F32", [n], f32([8323.0] + [1.0] * (n - 1)))})

    mmeta, mts = read_st(model)
    big = dict(mts)
    big["decoder.bias"] = ("F32", [8323], f32([3e38] * 8323))
    write_st(w("model-bias3e38.safetensors"), mmeta, big)
    enc = dict(mts)
    enc["encoder.weight"] = ("F32", [8323, 512], f32([1e37]) * (8323 * 512))
    write_st(w("model-enc1e37.safetensors"), mmeta, enc)

    # Flipped bits in files elastic wrote (checksummed) and in the
    # committed asset (no checksum).
    def flip(src, dst, tensor, byte):
        m, t = read_st(src)
        dt, shape, raw = t[tensor]
        raw = bytearray(raw)
        raw[byte] ^= 0x01
        t[tensor] = (dt, shape, bytes(raw))
        write_st(dst, m, t)
    flip(w("little.safetensors"), w("little-flip.safetensors"), "dmi.l0.wx.scale", 0)
    flip(w("model.safetensors"), w("model-flip.safetensors"), "decoder.bias", 0)
    flip(little, w("asset-little-flip.safetensors"), "dmi.l0.wx.scale", 0)

    probes = [
        ("little module kx = dx = 2^32", ["dmi", "eval", "--model", model, "--little", w("little-2p32.safetensors"), "--tokens", "100"]),
        ("little module kx = 1, dx = 2^62", ["dmi", "eval", "--model", model, "--little", w("little-2p62.safetensors"), "--tokens", "100"]),
        ("screen eval --hidden, label ≥ classes", ["screen", "eval", "--classifier", w("model.safetensors"), "--weight", "encoder.weight", "--hidden", w("hidden-badlabel.safetensors"), "--screener", w("screener.safetensors")]),
        ("screen eval --delta 1e-19", ["screen", "eval", "--lm", "--classifier", w("model.safetensors"), "--screener", w("screener.safetensors"), "--tokens", "200", "--delta", "1e-19"]),
        ("bench screen --delta 1e-300", ["bench", "screen", "--classes", "20000", "--delta", "1e-300"]),
    ]
    for c in [["bench", "gemv"], ["bench", "dmi"], ["bench", "fit"], ["bench", "screen"], ["lm", "train"], ["lm", "eval"], ["dmi", "fit"], ["dmi", "eval"], ["dmi", "table"], ["screen", "fit"], ["screen", "eval"], ["screen", "compare"], ["wn", "train"], ["wn", "eval"], ["demo"]]:
        probes.append(("--threads 32769: " + " ".join(c), c + ["--threads", "32769"]))
    probes += [
        ("screen fit --sgd --epochs -1", ["screen", "fit", "--lm", "--classifier", model, "--sgd", "--epochs", "-1"]),
        ("bench gemv --cols 100000", ["bench", "gemv", "--cols", "100000"]),
        ("bench dmi --input 100000", ["bench", "dmi", "--input", "100000"]),
        ("bench dmi --hidden 100000", ["bench", "dmi", "--hidden", "100000"]),
        ("bench dmi --hidden 60000 (within the width domain)", ["bench", "dmi", "--hidden", "60000"]),
        ("bench fit --n 1000000 --d 1000000", ["bench", "fit", "--n", "1000000", "--d", "1000000"]),
        ("bench fit --n 1000000 --d 60000", ["bench", "fit", "--n", "1000000", "--d", "60000"]),
        ("bench gemv --llc-mib 1000000", ["bench", "gemv", "--llc-mib", "1000000"]),
        ("screen compare --tokens 1e12", ["screen", "compare", "--tokens", "1e12"]),
        ("screen compare --tokens 1000000000000", ["screen", "compare", "--tokens", "1000000000000"]),
        ("dmi eval --data /dev/zero", ["dmi", "eval", "--model", model, "--little", little, "--data", "/dev/zero"]),
        ("2.6 MB little module claiming k = d = 30000", ["dmi", "eval", "--model", model, "--little", w("little-30000.safetensors"), "--tokens", "100"]),
        ("small screener claiming k = d = 30000", ["screen", "eval", "--lm", "--classifier", w("model.safetensors"), "--screener", w("screener-30000.safetensors"), "--tokens", "100"]),
        ("bench screen --dim 100000", ["bench", "screen", "--dim", "100000"]),
        ("bench screen --batch 100000", ["bench", "screen", "--batch", "100000"]),
        ("bench screen --delta 0", ["bench", "screen", "--delta", "0"]),
        ("bench screen --k-ratio 0", ["bench", "screen", "--k-ratio", "0"]),
        ("bench screen --bits 0", ["bench", "screen", "--bits", "0"]),
        ("bench screen --batch 0", ["bench", "screen", "--batch", "0"]),
        ("bench dmi --eps 0", ["bench", "dmi", "--eps", "0"]),
        ("dmi fit --eps 0", ["dmi", "fit", "--eps", "0"]),
        ("screen fit --k-ratio 0", ["screen", "fit", "--k-ratio", "0"]),
        ("bench gemv --threads -1", ["bench", "gemv", "--threads", "-1"]),
        ("bench screen --threads -1", ["bench", "screen", "--threads", "-1"]),
        ("lm train --max-minutes NaN", ["lm", "train", "--max-minutes", "NaN"]),
        ("wn train --max-minutes NaN", ["wn", "train", "--max-minutes", "NaN"]),
        ("lm eval, every decoder bias 3e38", ["lm", "eval", "--model", w("model-bias3e38.safetensors")]),
        ("lm eval, encoder weights 1e37", ["lm", "eval", "--model", w("model-enc1e37.safetensors")]),
        ("dmi eval --json, encoder weights 1e37", ["dmi", "eval", "--model", w("model-enc1e37.safetensors"), "--little", little, "--tokens", "200", "--json"]),
        ("flipped bit in a little-module scale (file from dmi fit)", ["dmi", "eval", "--model", w("model.safetensors"), "--little", w("little-flip.safetensors"), "--tokens", "200"]),
        ("flipped bit in a model bias (file from lm export)", ["lm", "eval", "--model", w("model-flip.safetensors")]),
        ("flipped bit in the committed asset's scale (no checksum)", ["dmi", "eval", "--model", model, "--little", w("asset-little-flip.safetensors"), "--tokens", "200", "--ratios", "0.5"]),
        ("demo --tokens 100000000", ["demo", "--tokens", "100000000", "--plot", ""]),
    ]
    print("| probe | exit | first line of stderr | peak RSS MiB | s |")
    print("|---|---|---|---|---|")
    for name, args in probes:
        rc, first, rss, secs = run(binary, args)
        first = first.replace("|", "\\|").replace(work + "/", "").replace(REPO + "/", "")
        if len(first) > 220:
            first = first[:217] + "…"
        print("| %s | %s | %s | %s | %.1f |" % (name, rc, first, rss, secs), flush=True)


if __name__ == "__main__":
    main()
