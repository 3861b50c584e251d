#!/usr/bin/env python3
"""Compares `sixstack dump --json` with tshark, packet by packet and field by field.

    compare.py CORPUS_DIR [SIXSTACK_BIN]      (or SIXSTACK_BIN in the environment)

CORPUS_DIR holds the pcaps and manifest.jsonl written by gen_corpus.py. The report goes to
CORPUS_DIR/report.txt (and a short summary to standard output); the exit status is 0 only
when nothing failed. Needs only the standard library (any python3) and tshark.

The rules:
- Each frame is flattened on both sides into field name -> list of values in document
  order (tshark: every key that is a field name, at any depth, descending into `*_tree`
  subtrees and text-labelled subtrees; ours: across the layers in order).
- Every field name present on BOTH sides is compared value by value after normalising
  (numbers decimal or hex, booleans, addresses, byte strings, checksum statuses). Lists of
  different lengths are a difference unless a QUIRK says otherwise.
- Coverage, so that the test cannot pass by emitting nothing: every protocol tshark
  dissected (frame.protocols) must be among our layers as often; the REQUIRED fields of a
  protocol must be emitted whenever tshark has them; the number of values compared must
  reach FLOOR_PER_FRAME on average.
- Malformed agreement: a frame tshark calls malformed (its malformed marker or an
  expert error other than a bad checksum) must be malformed in ours, and the other way
  round, unless a QUIRK explains it.
"""

import fnmatch
import ipaddress
import json
import os
import re
import subprocess
import sys
from collections import Counter, OrderedDict, defaultdict

# tshark preferences: verify every checksum it can, and dissect each frame on its own
# (no reassembly, no conversation state, no relative sequence numbers), as we do.
TSHARK_PREFS = [
    "udp.check_checksum:TRUE",
    "tcp.check_checksum:TRUE",
    "ip.check_checksum:TRUE",
    "udplite.check_checksum:TRUE",
    # RFC 3828 §3.1: the checksum covers only `coverage` bytes; tshark by default ignores it.
    "udplite.ignore_checksum_coverage:FALSE",
    "ip.defragment:FALSE",
    "ipv6.defragment:FALSE",
    "tcp.desegment_tcp_streams:FALSE",
    "tcp.analyze_sequence_numbers:FALSE",
    "tcp.relative_sequence_numbers:FALSE",
    "tcp.calculate_timestamps:FALSE",
    "udp.calculate_timestamps:FALSE",
    "udplite.calculate_timestamps:FALSE",
    "esp.do_esp_sequence_analysis:FALSE",
]
# Application protocols tshark would otherwise guess from port numbers or heuristics;
# we stop at the transport layer. (The corpus avoids well-known ports as well.)
TSHARK_DISABLE = ["dns", "mdns", "ntp", "dhcpv6", "vxlan", "ssdp", "http", "echo", "find",
                  "discard", "snmp", "syslog", "quic", "rtp", "rtcp", "tls", "ssh"]

# tshark protocol (frame.protocols token) -> our layer name. None: a tshark pseudo-layer
# with no header of its own, not required of us.
PROTO_MAP = {
    "frame": None,
    "ethertype": None,   # tshark's dispatch step, not a header
    "raw": None,         # linktype 101's "Raw packet data" marker, not a header
    "data": None,        # undissected bytes; where they show differs legitimately
    "eth": "eth",
    "vlan": "vlan",
    "sll": "sll",
    "null": "null",
    "fddi": "fddi",
    "llc": "llc",
    "ip": "ip",
    "icmp": "icmp",
    "arp": "arp",
    "ipv6": "ipv6",
    "ipv6.hopopts": "ipv6.hopopts",
    "ipv6.dstopts": "ipv6.dstopts",
    "ipv6.routing": "ipv6.routing",
    "ipv6.fraghdr": "ipv6.fraghdr",
    "ah": "ah",
    "esp": "esp",
    "icmpv6": "icmpv6",
    "mipv6": "mipv6",    # tshark's protocol is "mipv6"; its fields are named "mip6.*"
    "udp": "udp",
    "udplite": "udplite",  # its fields are udp.* plus udp.checksum_coverage
    "tcp": "tcp",
}

# Fields we must emit whenever tshark shows them in a frame (presence, not count).
REQUIRED = {
    "eth": ["eth.dst", "eth.src", "eth.type"],
    "vlan": ["vlan.priority", "vlan.dei", "vlan.id", "vlan.etype"],
    "sll": ["sll.pkttype", "sll.hatype", "sll.halen", "sll.etype"],
    "null": ["null.family"],
    "fddi": ["fddi.fc", "fddi.dst", "fddi.src"],
    "llc": ["llc.dsap", "llc.ssap", "llc.oui", "llc.type"],
    "ip": ["ip.version", "ip.hdr_len", "ip.dsfield", "ip.len", "ip.id", "ip.flags",
           "ip.frag_offset", "ip.ttl", "ip.proto", "ip.checksum", "ip.checksum.status",
           "ip.src", "ip.dst"],
    "icmp": ["icmp.type", "icmp.code", "icmp.checksum", "icmp.checksum.status"],
    "arp": ["arp.hw.type", "arp.proto.type", "arp.hw.size", "arp.proto.size", "arp.opcode",
            "arp.src.hw_mac", "arp.src.proto_ipv4", "arp.dst.hw_mac", "arp.dst.proto_ipv4"],
    "ipv6": ["ipv6.version", "ipv6.tclass", "ipv6.flow", "ipv6.plen", "ipv6.nxt", "ipv6.hlim",
             "ipv6.src", "ipv6.dst"],
    "ipv6.hopopts": ["ipv6.hopopts.nxt", "ipv6.hopopts.len", "ipv6.opt.type", "ipv6.opt.length"],
    "ipv6.dstopts": ["ipv6.dstopts.nxt", "ipv6.dstopts.len", "ipv6.opt.type", "ipv6.opt.length"],
    "ipv6.routing": ["ipv6.routing.nxt", "ipv6.routing.len", "ipv6.routing.type",
                     "ipv6.routing.segleft"],
    "ipv6.fraghdr": ["ipv6.fraghdr.nxt", "ipv6.fraghdr.offset", "ipv6.fraghdr.more",
                     "ipv6.fraghdr.ident"],
    "ah": ["ah.length", "ah.spi", "ah.sequence", "ah.icv"],
    "esp": ["esp.spi", "esp.sequence"],
    "icmpv6": ["icmpv6.type", "icmpv6.code", "icmpv6.checksum", "icmpv6.checksum.status"],
    "mipv6": ["mip6.proto", "mip6.hlen", "mip6.mhtype", "mip6.csum"],
    "udp": ["udp.srcport", "udp.dstport", "udp.length", "udp.checksum", "udp.checksum.status"],
    "udplite": ["udp.srcport", "udp.dstport", "udp.checksum_coverage", "udp.checksum",
                "udp.checksum.status"],
    "tcp": ["tcp.srcport", "tcp.dstport", "tcp.seq", "tcp.ack", "tcp.hdr_len", "tcp.flags",
            "tcp.window_size_value", "tcp.checksum", "tcp.checksum.status", "tcp.urgent_pointer"],
}

# On average at least this many values must have been compared per frame.
FLOOR_PER_FRAME = 20

# tshark's checksum status is an enum shown as a number (tshark 4.0, proto.h
# proto_checksum_enum_e): 0 bad, 1 good, 2 unverified, 3 not present, 4 illegal.
CHECKSUM_STATUS = {0: "bad", 1: "good", 2: "unverified", 3: "not present", 4: "illegal"}
# What of ours each tshark status accepts. "not present" is a zero UDP checksum over IPv4
# (RFC 768: the sender computed none), which we show as unverified; "illegal" is a zero
# UDP checksum over IPv6 (RFC 8200 §8.1: receivers MUST discard it), which is bad.
CHECKSUM_ACCEPT = {"bad": {"bad"}, "good": {"good"}, "unverified": {"unverified"},
                   "not present": {"unverified"}, "illegal": {"bad"}}

# tshark expert severities and groups (epan/proto.h).
PI_ERROR = 0x00800000
PI_CHECKSUM = 0x01000000

# Differences explained by tshark rather than by us. Each entry has a reason. Kinds:
#   drop_in_layer: (tshark layer, field glob) values tshark adds inside a layer that
#       are a convenience alias, not a header field; dropped from tshark's side.
#   skip: field glob never compared (tshark computes it from state or preferences).
#   prefix: field glob whose lists may differ in length; only the common prefix counts.
#   value: (manifest label regex, field glob) values not compared on those packets.
#   malformed: (manifest label regex, "tshark-only"|"ours-only"|"either") a malformed
#       disagreement that is expected.
QUIRKS = [
    {"kind": "drop_in_layer", "layer": "ipv6", "field": "ip.version",
     "reason": "tshark adds ip.version=6 inside every ipv6 layer so that `ip.version` "
               "filters match both families; it is not an IPv4 header field"},
    {"kind": "drop_in_layer", "layer": "ipv6", "field": "ip.*",
     "reason": "same aliasing as ip.version (ip.src/ip.dst are never set by ipv6)"},
    {"kind": "skip", "field": "*.stream",
     "reason": "conversation index: tshark's cross-frame state, not a header field"},
    {"kind": "skip", "field": "*_resolved",
     "reason": "name resolution output (OUI and host names), not header fields"},
    {"kind": "skip", "field": "*.time_*",
     "reason": "per-conversation timing computed by tshark across frames"},
    {"kind": "skip", "field": "tcp.completeness",
     "reason": "tshark's view of the whole conversation, not this segment"},
    {"kind": "skip", "field": "tcp.window_size",
     "reason": "tshark scales the window by a factor learned from an earlier SYN in the "
               "same conversation; across our unrelated frames it is arbitrary"},
    {"kind": "skip", "field": "tcp.window_size_scalefactor",
     "reason": "as tcp.window_size: conversation state"},
    {"kind": "skip", "field": "esp.sequence-analysis.*",
     "reason": "cross-frame ESP sequence analysis (disabled, listed for completeness)"},
    {"kind": "malformed", "label": r"quote=\S+( \S+)? cut (8|20|24|39)\b", "side": "tshark-only",
     "reason": "an ICMPv6 error or Redirect quoting fewer than 40 bytes of the invoking "
               "packet: tshark reports 'IPv6 header must be exactly 40 bytes' as an error; "
               "a quote is as much as fits (RFC 4443 §3.1, RFC 4861 §4.6.3), so we show what "
               "there is without calling the frame malformed"},
    {"kind": "malformed", "label": r"nd redirect .* padded", "side": "tshark-only",
     "reason": "the Redirected Header option is padded to a multiple of 8 octets "
               "(RFC 4861 §4.6.3); tshark calls the zero bytes after the quoted packet "
               "'Unknown Data' with error severity"},
    {"kind": "value", "label": r"home address", "field": "*checksum.status",
     "reason": "RFC 6275 §6.3: with a Home Address option the upper-layer checksum's "
               "pseudo-header uses the home address as source (scapy does so); tshark 4.0 "
               "uses the IPv6 source, so it calls such checksums bad"},
    {"kind": "prefix", "field": "fddi.src",
     "reason": "tshark lists the FDDI source and destination twice (once in the header, once "
               "in the address subtree it adds for filters); the first values are compared"},
    {"kind": "prefix", "field": "fddi.dst",
     "reason": "as fddi.src"},
    {"kind": "value", "label": r"plen[+-]\d|truncated|cut", "field": "*checksum.status",
     "reason": "when the IP payload length says more (or less) than the frame holds, tshark "
               "still sums the bytes that are there and calls the checksum good or bad; we "
               "know the data is incomplete and call it unverified (and the frame malformed)"},
    {"kind": "value", "label": r"^icmp error", "field": "*checksum.status",
     "reason": "tshark does not verify transport checksums inside an ICMPv4 error's quote; "
               "we verify a whole quote, as tshark itself does inside ICMPv6 errors"},
    {"kind": "value", "label": r"udp length shorter than payload", "field": "udp.payload",
     "reason": "tshark shows all the IP payload as udp.payload; RFC 768's length ends the "
               "datagram, so ours shows only what the UDP length covers"},
    {"kind": "malformed", "label": r"^tcp .*(option length|past header|cut by header end)",
     "side": "ours-only",
     "reason": "a TCP option whose length is below 2 or runs past the data offset makes the "
               "header unparseable (RFC 9293 §3.1); tshark only warns"},
    {"kind": "malformed", "label": r"^mh option past header", "side": "ours-only",
     "reason": "a mobility option running past the header is malformed (RFC 6275 §6.2); "
               "tshark only warns"},
    {"kind": "malformed", "label": r"^ipv6 plen\+|^truncated ", "side": "ours-only",
     "reason": "an IPv6 payload length beyond the frame is a malformed packet that a stack must "
               "drop (RFC 8200 §3); tshark complains only when a dissector reads past the end"},
    {"kind": "malformed", "label": r"opts=eol then garbage", "side": "tshark-only",
     "reason": "bytes after a TCP End of Option List are padding that receivers ignore "
               "(RFC 9293 §3.2); tshark calls non-zero padding an error"},
    {"kind": "required", "label": r"truncated|\bcut\b|plen \d|length shorter",
     "reason": "a header cut short by the end of the frame or of an ICMP quote: tshark shows "
               "its leading fields one by one; we show the layer, mark the frame malformed "
               "with the reason, and give the leading fields for IPv6, ICMPv6, UDP and TCP"},
    {"kind": "malformed", "label": r"^hbh jumbo consistent", "side": "tshark-only",
     "reason": "a Jumbo Payload option with a length below 65536 (RFC 2675 §3 asks the stack "
               "to send a Parameter Problem); the dissector shows it as it is, tshark calls it "
               "an error"},
    {"kind": "value", "label": r"^truncated (hbh|dst)", "field": "ipv6.opt.*",
     "reason": "options of an options header cut by the end of the frame: tshark stops at the "
               "option that does not fit; we show each option whose type and length bytes are "
               "there and mark the frame malformed"},
    {"kind": "prefix", "field": "data.*",
     "reason": "where undissected bytes show (a data layer, or a field of the layer) is "
               "presentation; tshark adds data layers after a quoted packet's transport"},
]


def field_glob_match(name, glob):
    return fnmatch.fnmatchcase(name, glob)


def quirk(kind, name):
    for q in QUIRKS:
        if q["kind"] == kind and field_glob_match(name, q["field"]):
            return q
    return None


FIELD_RE = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)+$")


# --- flattening ------------------------------------------------------------------------------


class TFrame:
    """One tshark frame, flattened."""

    def __init__(self):
        self.fields = OrderedDict()  # name -> [values]
        self.protocols = []
        self.malformed = False
        self.short = False
        self.experts = []  # (severity, group, message)
        self.number = None


def flatten_tshark(layers_pairs):
    tf = TFrame()
    drop = [(q["layer"], q["field"]) for q in QUIRKS if q["kind"] == "drop_in_layer"]

    def add(name, value, layer):
        for lay, glob in drop:
            if lay == layer and field_glob_match(name, glob):
                return
        tf.fields.setdefault(name, []).append(value)

    def walk(pairs, layer):
        for k, v in pairs:
            if k == "_ws.expert":
                e = dict(v) if isinstance(v, list) else {}
                try:
                    sev = int(e.get("_ws.expert.severity", "0"), 0)
                    grp = int(e.get("_ws.expert.group", "0"), 0)
                except ValueError:
                    sev, grp = 0, 0
                tf.experts.append((sev, grp, e.get("_ws.expert.message", "")))
                continue
            if k == "_ws.malformed":
                tf.malformed = True
                if isinstance(v, list):
                    walk(v, layer)
                continue
            if k.startswith("_ws.short"):
                tf.short = True
                continue
            if k.startswith("_ws."):
                continue
            if isinstance(v, list) and (not v or isinstance(v[0], tuple)):
                # A subtree: a protocol layer, a field's `_tree`, or a text-labelled group.
                # Top-level keys are protocols; nested protocols (an ICMPv6 error's quoted
                # ipv6, extension headers, mipv6) are keys named as PROTO_MAP names them.
                sub_layer = k if (layer is None or k in PROTO_MAP) and not k.endswith("_tree") else layer
                walk(v, sub_layer)
                continue
            if not FIELD_RE.match(k):
                continue  # text-only keys
            if layer == "frame":
                if k in ("frame.len", "frame.cap_len"):
                    add(k, v, layer)
                elif k == "frame.protocols":
                    tf.protocols = v.split(":")
                elif k == "frame.number":
                    tf.number = int(v)
                continue
            if isinstance(v, list):
                for x in v:
                    if isinstance(x, str):
                        add(k, x, layer)
            elif isinstance(v, str):
                add(k, v, layer)

    walk(layers_pairs, None)
    return tf


class OFrame:
    def __init__(self):
        self.fields = OrderedDict()
        self.protocols = []
        self.malformed = None


def flatten_ours(obj):
    of = OFrame()
    of.fields["frame.len"] = [obj.get("len")]
    of.fields["frame.cap_len"] = [obj.get("caplen")]
    for layer in obj.get("layers", []):
        of.protocols.append(layer.get("protocol"))
        for k, v in layer.items():
            if k == "protocol":
                continue
            vals = v if isinstance(v, list) else [v]
            of.fields.setdefault(k, []).extend(vals)
    m = obj.get("malformed")
    if m:
        of.malformed = m
    return of


# --- normalising -----------------------------------------------------------------------------

HEXBYTES = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2})*$")


def norm(name, v, side):
    """A comparable form of a value from either side."""
    if name.endswith(".status") and "checksum" in name or name.endswith("csum.status"):
        if side == "tshark":
            try:
                return ("cks", CHECKSUM_STATUS.get(int(v, 0), v))
            except (ValueError, TypeError):
                return ("cks", str(v).lower())
        return ("cks", str(v).lower())
    if isinstance(v, bool):
        return ("n", int(v))
    if isinstance(v, int):
        return ("n", v)
    if v is None:
        return ("none", None)
    if isinstance(v, float):
        return ("n", v)
    s = str(v).strip()
    if s in ("True", "true"):
        return ("n", 1)
    if s in ("False", "false"):
        return ("n", 0)
    if re.fullmatch(r"-?[0-9]+", s):
        return ("n", int(s))
    if re.fullmatch(r"0[xX][0-9a-fA-F]+", s):
        return ("n", int(s, 16))
    if ":" in s or "." in s:
        try:
            return ("a", str(ipaddress.ip_address(s)))
        except ValueError:
            pass
    if HEXBYTES.match(s):
        return ("b", s.lower())
    return ("s", s)


def equal(name, t, o):
    nt, no = norm(name, t, "tshark"), norm(name, o, "ours")
    if nt[0] == "cks":
        return no[1] in CHECKSUM_ACCEPT.get(nt[1], {nt[1]})
    if nt == no:
        return True
    # A one-byte byte field against a number (tshark shows some 1-byte fields as bytes).
    if nt[0] == "b" and no[0] == "n" and len(nt[1]) == 2:
        return int(nt[1], 16) == no[1]
    if no[0] == "b" and nt[0] == "n" and len(no[1]) == 2:
        return int(no[1], 16) == nt[1]
    return False


# --- running the tools -------------------------------------------------------------------------


def run_ours(binary, path):
    p = subprocess.run([binary, "dump", "--json", path], capture_output=True, text=True)
    frames = {}
    bad_lines = 0
    for line in p.stdout.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            bad_lines += 1
            continue
        frames[obj.get("frame")] = obj
    return frames, p.returncode, p.stderr, bad_lines


def run_tshark(path):
    cmd = ["tshark", "-r", path, "-T", "json", "-n"]
    for pref in TSHARK_PREFS:
        cmd += ["-o", pref]
    for proto in TSHARK_DISABLE:
        cmd += ["--disable-protocol", proto]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("tshark failed on %s: %s" % (path, p.stderr.strip()[-500:]))
    docs = json.loads(p.stdout, object_pairs_hook=lambda pairs: pairs)
    frames = {}
    for doc in docs:
        src = dict(doc)["_source"]
        layers = dict(src)["layers"]
        tf = flatten_tshark(layers)
        frames[len(frames) + 1 if tf.number is None else tf.number] = tf
    return frames


# --- comparing -------------------------------------------------------------------------------


class Report:
    def __init__(self):
        self.compared = Counter()      # field -> values compared
        self.differing = Counter()     # field -> values differing
        self.examples = defaultdict(list)
        self.only_tshark = Counter()
        self.only_ours = Counter()
        self.failures = Counter()      # category -> count
        self.fail_examples = defaultdict(list)
        self.frames = 0
        self.values = 0
        self.kinds = Counter()
        self.kind_fail = Counter()
        self.malformed = Counter()
        self.tshark_protocols = Counter()
        self.status_seen = Counter()

    def fail(self, cat, where, text):
        self.failures[cat] += 1
        if len(self.fail_examples[cat]) < int(os.environ.get("SIXSTACK_CORPUS_EXAMPLES", "5")):
            self.fail_examples[cat].append("%s: %s" % (where, text))


def tshark_is_malformed(tf):
    if tf.malformed or tf.short:
        return True
    return any(sev >= PI_ERROR and grp != PI_CHECKSUM for sev, grp, _ in tf.experts)


def malformed_quirk(label, which):
    for q in QUIRKS:
        if q["kind"] == "malformed" and re.search(q["label"], label) and q["side"] in (which, "either"):
            return q
    return None


def compare_frame(rep, fname, num, label, kind, tf, of):
    where = "%s#%d [%s]" % (fname, num, label)
    frame_failed = False
    # 1. values of fields present on both sides
    for name, tvals in tf.fields.items():
        if name.endswith("checksum.status"):
            for t in tvals:
                rep.status_seen[(name, t)] += 1
        if name not in of.fields:
            rep.only_tshark[name] += 1
            continue
        if quirk("skip", name) or any(
                q["kind"] == "value" and re.search(q["label"], label) and field_glob_match(name, q["field"])
                for q in QUIRKS):
            continue
        ovals = of.fields[name]
        n = min(len(tvals), len(ovals))
        for t, o in zip(tvals[:n], ovals[:n]):
            rep.compared[name] += 1
            rep.values += 1
            if not equal(name, t, o):
                rep.differing[name] += 1
                frame_failed = True
                if len(rep.examples[name]) < 3:
                    rep.examples[name].append("%s: tshark %r, ours %r" % (where, t, o))
        if len(tvals) != len(ovals) and not quirk("prefix", name):
            rep.compared[name] += 1
            rep.differing[name] += 1
            frame_failed = True
            if len(rep.examples[name]) < 3:
                rep.examples[name].append("%s: tshark has %d values %r, ours %d %r" % (
                    where, len(tvals), tvals[:6], len(ovals), ovals[:6]))
    for name in of.fields:
        if name not in tf.fields:
            rep.only_ours[name] += 1
    # 2. protocol coverage
    tcount = Counter()
    app = []
    for p in tf.protocols:
        rep.tshark_protocols[p] += 1
        if p in PROTO_MAP:
            if PROTO_MAP[p]:
                tcount[PROTO_MAP[p]] += 1
        else:
            app.append(p)
    ocount = Counter(of.protocols)
    for p, n in tcount.items():
        if ocount[p] < n:
            frame_failed = True
            rep.fail("missing layer " + p, where, "tshark has %d, ours %d (ours: %s)" % (
                n, ocount[p], ":".join(map(str, of.protocols))))
    # 3. required fields
    cut_quirk = next((q for q in QUIRKS if q["kind"] == "required" and re.search(q["label"], label)), None)
    for p in tcount:
        for f in REQUIRED.get(p, []):
            if f in tf.fields and f not in of.fields:
                if cut_quirk and (of.malformed is not None or "quote" in label):
                    rep.malformed["required field missing in a cut header (quirk)"] += 1
                    continue
                frame_failed = True
                rep.fail("missing required field " + f, where, "tshark: %r" % tf.fields[f][:3])
    # 4. malformed agreement
    tm, om = tshark_is_malformed(tf), of.malformed is not None
    if app:
        rep.malformed["skipped: tshark dissected an application protocol"] += 1
    elif tm and om:
        rep.malformed["both"] += 1
    elif not tm and not om:
        rep.malformed["neither"] += 1
    else:
        which = "tshark-only" if tm else "ours-only"
        q = malformed_quirk(label, which)
        if q:
            rep.malformed[which + " (quirk)"] += 1
        else:
            rep.malformed[which] += 1
            frame_failed = True
            why = "; ".join(m for s, g, m in tf.experts if s >= PI_ERROR and g != PI_CHECKSUM)[:200]
            rep.fail("malformed " + which, where,
                     "tshark: %s; ours: %s" % (why or ("malformed" if tm else "-"),
                                               json.dumps(of.malformed) if om else "-"))
    if frame_failed:
        rep.kind_fail[kind] += 1


def write_report(rep, out, files_summary):
    lines = []
    w = lines.append
    w("sixstack dump --json vs tshark: corpus comparison")
    w("=" * 60)
    for s in files_summary:
        w(s)
    w("")
    w("frames %d, field values compared %d (%.1f per frame; floor %d)" % (
        rep.frames, rep.values, rep.values / max(rep.frames, 1), FLOOR_PER_FRAME))
    w("")
    w("malformed agreement:")
    for k, v in sorted(rep.malformed.items()):
        w("  %-50s %d" % (k, v))
    w("")
    w("checksum statuses seen (tshark raw value):")
    for (name, v), n in sorted(rep.status_seen.items()):
        w("  %-28s %s=%-12s %d" % (name, v, CHECKSUM_STATUS.get(int(v, 0)) if v.isdigit() else v, n))
    w("")
    w("frames with a failure, by corpus kind (failed/total):")
    for k, n in sorted(rep.kinds.items()):
        w("  %-22s %d/%d" % (k, rep.kind_fail[k], n))
    w("")
    w("failures by category:")
    for cat, n in sorted(rep.failures.items(), key=lambda kv: (-kv[1], kv[0])):
        w("  %-50s %d" % (cat, n))
        for ex in rep.fail_examples[cat]:
            w("      " + ex)
    w("")
    w("fields compared (name: compared, differing):")
    for name in sorted(rep.compared):
        w("  %-44s %6d %6d" % (name, rep.compared[name], rep.differing[name]))
        for ex in rep.examples[name]:
            w("      " + ex)
    w("")
    w("fields only tshark shows (frames), top 60:")
    for name, n in rep.only_tshark.most_common(60):
        w("  %-44s %d" % (name, n))
    w("")
    w("fields only we show (frames):")
    for name, n in rep.only_ours.most_common():
        w("  %-44s %d" % (name, n))
    w("")
    w("tshark protocols seen (frame.protocols tokens):")
    for p, n in rep.tshark_protocols.most_common():
        w("  %-22s %d%s" % (p, n, "" if p in PROTO_MAP else "   (not mapped: application protocol?)"))
    w("")
    w("quirks in force:")
    for q in QUIRKS:
        w("  [%s] %s: %s" % (q["kind"], " ".join(str(q[k]) for k in ("layer", "label", "field", "side") if k in q), q["reason"]))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "report.txt"), "w") as f:
        f.write(text)
    return text


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    corpus = sys.argv[1]
    binary = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("SIXSTACK_BIN", "sixstack")
    manifest = {}
    order = []
    with open(os.path.join(corpus, "manifest.jsonl")) as f:
        for line in f:
            m = json.loads(line)
            manifest[(m["file"], m["frame"])] = m
            if m["file"] not in order:
                order.append(m["file"])
    rep = Report()
    files_summary = []
    for fname in order:
        path = os.path.join(corpus, fname)
        ours, rc, err, bad = run_ours(binary, path)
        theirs = run_tshark(path)
        files_summary.append("%-10s tshark %d frames, ours %d (exit %d%s)" % (
            fname, len(theirs), len(ours), rc, ", %d unparsable lines" % bad if bad else ""))
        if rc != 0:
            rep.fail("sixstack exit status", fname, "exit %d: %s" % (rc, err.strip()[-300:]))
        if bad:
            rep.fail("sixstack output not JSON", fname, "%d lines" % bad)
        for num in sorted(theirs):
            m = manifest.get((fname, num), {"label": "?", "kind": "?"})
            rep.frames += 1
            rep.kinds[m["kind"]] += 1
            if num not in ours:
                rep.fail("frame missing in ours", "%s#%d [%s]" % (fname, num, m["label"]), "")
                rep.kind_fail[m["kind"]] += 1
                continue
            compare_frame(rep, fname, num, m["label"], m["kind"], theirs[num], flatten_ours(ours[num]))
    for name, n in rep.differing.items():
        rep.failures["value differences"] += n
    if rep.values < FLOOR_PER_FRAME * rep.frames:
        rep.fail("coverage floor", "all", "%d values compared < %d x %d frames" % (
            rep.values, FLOOR_PER_FRAME, rep.frames))
    text = write_report(rep, corpus, files_summary)
    # A short summary on standard output; the details are in the report.
    head = text.split("frames with a failure, by corpus kind")[0]
    print(head.rstrip())
    print("\nfailures by category (first example; all in the report):")
    for cat, n in sorted(rep.failures.items(), key=lambda kv: (-kv[1], kv[0]))[:40]:
        print("  %-50s %d" % (cat, n))
        for ex in rep.fail_examples[cat][:1]:
            print("      " + ex[:220])
    worst = sorted(rep.differing.items(), key=lambda kv: -kv[1])[:15]
    if worst:
        print("\nfields with most differing values:")
        for name, n in worst:
            print("  %-44s %d of %d" % (name, n, rep.compared[name]))
            for ex in rep.examples[name][:1]:
                print("      " + ex[:220])
    print("\nfull report: %s" % os.path.join(corpus, "report.txt"))
    total = sum(rep.failures.values())
    print("RESULT: %s (%d failures)" % ("FAIL" if total else "PASS", total))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
