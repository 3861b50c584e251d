#!/usr/bin/python3
"""Builds a big classic pcap for timing `sixstack dump` against tshark and tcpdump.

    scripts/bench_mkpcap.py CORPUS_DIR OUT.pcap COUNT

Repeats the well-formed Ethernet frames of the corpus (CORPUS_DIR/eth.pcap, with the
kinds of CORPUS_DIR/manifest.jsonl: malformed, truncated and bad-checksum frames are
left out) in order until COUNT packets are written, one microsecond apart. Only the
standard library: it runs under any python3.
"""

import json
import os
import struct
import sys

SKIP = ("malformed", "truncated", "badcsum", "tcp.malformed")


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        e = "<"
    elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
        e = ">"
    else:
        sys.exit("%s: not a classic pcap" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit("%s: link type %d, not Ethernet" % (path, linktype))
    frames, pos = [], 24
    while pos + 16 <= len(data):
        incl, orig = struct.unpack(e + "II", data[pos + 8:pos + 16])
        frames.append((data[pos + 16:pos + 16 + incl], orig))
        pos += 16 + incl
    return frames


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    corpus, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    frames = read_pcap(os.path.join(corpus, "eth.pcap"))
    kinds = {}
    with open(os.path.join(corpus, "manifest.jsonl")) as f:
        for line in f:
            m = json.loads(line)
            if m["file"] == "eth.pcap":
                kinds[m["frame"]] = m["kind"]
    keep = [fr for i, fr in enumerate(frames, 1)
            if not kinds.get(i, "").startswith(SKIP)]
    if not keep:
        sys.exit("no well-formed frames in %s" % corpus)
    records = [struct.pack("<II", len(d), orig) + d for d, orig in keep]
    with open(out, "wb") as f:
        # Classic pcap, microseconds, snap length 65535, Ethernet.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        chunk = []
        for n in range(count):
            sec, usec = divmod(n, 1000000)
            chunk.append(struct.pack("<II", 1700000000 + sec, usec))
            chunk.append(records[n % len(records)])
            if len(chunk) >= 20000:
                f.write(b"".join(chunk))
                chunk = []
        f.write(b"".join(chunk))
    print("%s: %d packets, repeating %d well-formed frames of %d"
          % (out, count, len(keep), len(frames)))


if __name__ == "__main__":
    main()
