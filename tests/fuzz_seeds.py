"""Turns the frames of pcap files into fuzz seeds.

    fuzz_seeds.py CORPUS_DIR OUT_DIR [SIM_DIR]

The dissect target gets one file per frame, its first byte selecting the link type (its
LINKTYPES table); the pcap target gets whole files. The stack_receive target gets
sequences of "receive this frame, then poll" operations (its input format is described
at the top of fuzz/fuzz_targets/stack_receive.rs): windows of consecutive frames from
SIM_DIR's lan1.pcap and lan2.pcap (written by `cargo run -p sixstack-sim --example
fuzz_seeds`, addressed to the nodes the target builds), and each Ethernet frame of the
scapy corpus alone. CORPUS_DIR may be missing (no scapy). Plain Python, no scapy needed.
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


def frames_timed(path):
    """(seconds, frame) of each record of a pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        return
    frac = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    off = 24
    while off + 16 <= len(data):
        sec, sub, incl = struct.unpack(e + "III", data[off:off + 12])
        yield sec + sub * frac, data[off + 16:off + 16 + incl]
        off += 16 + incl


# stack_receive: the mode byte (bit 0 router, bit 1 drain transmit, bits 2-7 seed; the
# seeds are those of the example's nodes), the nodes' MACs, and the operations.
HOST_MODE = (3 << 2) | 2
ROUTER_MODE = (2 << 2) | 2 | 1
HOST_MACS = {bytes([2, 0, 0x5E, 0, 0x53, 0x11])}
ROUTER_MACS = {bytes([2, 0, 0x5E, 0, 0x53, 1]), bytes([2, 0, 0x5E, 0, 0x53, 2])}
OP_POLL = 4
OP_FIX_MAC = 0x08
WINDOW = 12


def dt_byte(seconds):
    """The target's time step closest to `seconds` (10 ms steps below 128, else n² s)."""
    if seconds < 1.275:
        return max(0, min(127, round(seconds / 0.01)))
    return 128 + min(127, round(seconds ** 0.5))


def receive_op(op, iface, dt, frame):
    frame = frame[:4095]
    return bytes([op, iface, dt, len(frame) & 0xFF, len(frame) >> 8]) + frame + bytes([OP_POLL, 0])


def is_ra(frame):
    return len(frame) > 54 and frame[12:14] == b"\x86\xdd" and frame[20] == 58 and frame[54] == 134


def stack_seeds(sim, out):
    """Windows of the simulated conversations, as the host and as the router hear them."""
    links = {}
    for iface, name in enumerate(("lan1", "lan2")):
        path = os.path.join(sim, name + ".pcap")
        if os.path.exists(path):
            links[iface] = list(frames_timed(path))
    n = 0
    for mode, macs, ifaces in ((HOST_MODE, HOST_MACS, (0,)), (ROUTER_MODE, ROUTER_MACS, (0, 1))):
        seq = sorted(
            (t, i, f) for i in ifaces for t, f in links.get(i, []) if f[6:12] not in macs
        )
        # Each window starts on a node that has run for 2 s (DAD done) and, a host, heard
        # the first Router Advertisement (so it has its global address).
        setup = bytearray([mode, OP_POLL, 100, OP_POLL, 100])
        if mode == HOST_MODE:
            ra = next((x for x in seq if is_ra(x[2])), None)
            if ra:
                setup += receive_op(0, ra[1], 0, ra[2])
        for start in range(0, max(1, len(seq) - WINDOW // 2), WINDOW // 2):
            body = bytearray(setup)
            prev = seq[start][0] if seq else 0.0
            for t, i, f in seq[start:start + WINDOW]:
                body += receive_op(0, i, dt_byte(t - prev), f)
                prev = t
            with open(os.path.join(out, "sim-%04d" % n), "wb") as f:
                f.write(body)
            n += 1
    return n


def main():
    src, dst = sys.argv[1], sys.argv[2]
    sim = sys.argv[3] if len(sys.argv) > 3 else None
    for t in ("dissect", "pcap", "stack_receive"):
        os.makedirs(os.path.join(dst, t), exist_ok=True)
    if sim:
        print(stack_seeds(sim, os.path.join(dst, "stack_receive")), "stack_receive seeds from", sim)
    if not os.path.isdir(src):
        return
    n = 0
    m = 0
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
            if lt == 1:
                # Alone, as the host (even) or the router (odd) hears it, its destination
                # MAC made one the node accepts.
                mode = HOST_MODE if m % 2 == 0 else ROUTER_MODE
                op = receive_op(OP_FIX_MAC, 0, 0, frame)
                with open(os.path.join(dst, "stack_receive", "corpus-%05d" % m), "wb") as f:
                    f.write(bytes([mode]) + op)
                m += 1
    print(n, "seeds,", m, "stack_receive seeds from the corpus")


if __name__ == "__main__":
    main()
