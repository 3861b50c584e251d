"""Turns the frames of pcap files into fuzz seeds: one file per frame.

The dissect target's first byte selects the link type (its LINKTYPES table); the pcap
target gets whole files. Plain Python, no scapy needed.
"""
import os
import struct
import sys

# Must match the order of LINKTYPES in fuzz/fuzz_targets/dissect.rs.
SELECTOR = {1: 0, 10: 1, 101: 2, 229: 3, 228: 4, 113: 5, 0: 6, 108: 7}


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    linktype = struct.unpack(e + "I", data[20:24])[0] & 0x0FFFFFFF
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        yield linktype, data[off + 16:off + 16 + incl]
        off += 16 + incl


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(dst, "dissect"), exist_ok=True)
    os.makedirs(os.path.join(dst, "pcap"), exist_ok=True)
    n = 0
    for name in sorted(os.listdir(src)):
        path = os.path.join(src, name)
        if not name.endswith(".pcap"):
            continue
        with open(path, "rb") as f:
            head = f.read(1 << 16)
        with open(os.path.join(dst, "pcap", name), "wb") as f:
            f.write(head)
        for lt, frame in frames(path):
            if lt in SELECTOR:
                with open(os.path.join(dst, "dissect", "seed-%06d" % n), "wb") as f:
                    f.write(bytes([SELECTOR[lt]]) + frame)
                n += 1
    print(n, "seeds")


if __name__ == "__main__":
    main()
