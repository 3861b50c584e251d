#!/usr/bin/python3
"""Builds the corpus that `sixstack dump --json` is compared against tshark with.

Run with Debian's /usr/bin/python3 (it has scapy):

    /usr/bin/python3 tests/corpus/gen_corpus.py OUTDIR

Packets are built by scapy (an implementation independent of ours and of Wireshark),
deterministically (fixed seeds, fixed addresses, fixed timestamps), so the same corpus
comes out on every run. Writes into OUTDIR:

    eth.pcap     linktype 1 (Ethernet II, some with one or two 802.1Q tags): every packet
    raw.pcap     linktype 101 (raw IP, IPv4 or IPv6 by the first nibble): every IP packet
    sll.pcap     linktype 113 (Linux cooked v1): every 5th packet and link-specific ones
    null.pcap    linktype 0 (BSD loopback, AF_INET6 as 24/28/30): every 9th packet
    fddi.pcap    linktype 10 (FDDI with LLC/SNAP): every 11th packet
    manifest.jsonl  one line per frame: {"file", "frame", "kind", "label"}

The network-layer packets are built once and wrapped in each link layer, so a failure in
one link file but not another points at the link layer.
"""

import json
import os
import random
import struct
import sys

import logging

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.all import (  # noqa: E402
    AH, ARP, ESP, HAO, ICMP, IP, TCP, UDP, IPOption_NOP, IPOption_RR,
    IPOption_Router_Alert, IPOption_EOL, ICMPv6DestUnreach, ICMPv6EchoReply,
    ICMPv6EchoRequest, ICMPv6MLDMultAddrRec, ICMPv6MLDone, ICMPv6MLQuery,
    ICMPv6MLQuery2, ICMPv6MLReport, ICMPv6MLReport2, ICMPv6ND_NA, ICMPv6ND_NS,
    ICMPv6ND_RA, ICMPv6ND_Redirect, ICMPv6ND_RS, ICMPv6NDOptDNSSL,
    ICMPv6NDOptDstLLAddr, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, ICMPv6NDOptRDNSS,
    ICMPv6NDOptRedirectedHdr, ICMPv6NDOptRouteInfo, ICMPv6NDOptSrcLLAddr,
    ICMPv6NDOptUnknown, ICMPv6PacketTooBig, ICMPv6ParamProblem, ICMPv6TimeExceeded,
    ICMPv6Unknown, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting, IPv6ExtHdrSegmentRouting, IPv6ExtHdrSegmentRoutingTLVPadN,
    HBHOptUnknown, Jumbo, MIP6MH_BA, MIP6MH_BE, MIP6MH_BRR, MIP6MH_BU, MIP6MH_CoT,
    MIP6MH_CoTI, MIP6MH_Generic, MIP6MH_HoT, MIP6MH_HoTI, MIP6OptAltCoA,
    MIP6OptBindingAuthData, MIP6OptBRAdvice, MIP6OptNonceIndices, Pad1, PadN, Raw,
    RouterAlert, conf,
)

conf.verb = 0
SEED = 0x5157AC
random.seed(SEED)  # scapy's own Rand* fields draw from the global generator
R = random.Random(SEED)

A = ["2001:db8::%x" % i for i in range(1, 17)]
LL = ["fe80::%x:%x" % (i, i * 7) for i in range(1, 9)]
MC = ["ff02::1", "ff02::2", "ff05::1:3", "ff02::1:ff00:1", "ff0e::101", "ff02::16"]
V4 = ["192.0.2.%d" % i for i in range(1, 20)] + ["198.51.100.%d" % i for i in range(1, 10)]
MACS = ["02:00:5e:00:%02x:%02x" % (i, i * 3 % 256) for i in range(1, 16)]

# --- helpers ---------------------------------------------------------------------------


def csum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def pseudo6(src, dst, length, nh):
    from socket import AF_INET6, inet_pton
    return inet_pton(AF_INET6, src) + inet_pton(AF_INET6, dst) + struct.pack("!IxxxB", length, nh)


def ip6(nh_payload, **kw):
    """IPv6 header with explicit addresses (scapy otherwise asks the routing table)."""
    kw.setdefault("src", R.choice(A))
    kw.setdefault("dst", R.choice(A))
    pkt = IPv6(**kw) / nh_payload
    if pkt.haslayer(AH):
        fix_upper_checksum_after_ah(pkt)
    return pkt


def fix_upper_checksum_after_ah(pkt):
    """scapy computes a transport checksum of 0 when AH sits between it and IPv6. AH is
    not part of the pseudo-header, so build the packet without AH, let scapy compute the
    checksum there, and copy it over (unless one was set on purpose)."""
    layers = []
    layer = pkt
    while layer is not None and layer.__class__.__name__ != "NoPayload":
        layers.append(layer)
        layer = layer.payload
    upper = layers[-1] if not isinstance(layers[-1], Raw) else layers[-2]
    names = [f.name for f in upper.fields_desc]
    field = "chksum" if "chksum" in names else "cksum" if "cksum" in names else None
    if field is None or upper.getfieldval(field) is not None or isinstance(upper, (AH, ESP)):
        return
    rebuilt = None
    for l in layers:
        if isinstance(l, AH):
            continue
        c = l.copy()
        c.remove_payload()
        rebuilt = c if rebuilt is None else rebuilt / c
    parsed = IPv6(bytes(rebuilt))
    value = parsed[upper.__class__].getfieldval(field)
    upper.setfieldval(field, value)


def raw6(payload_bytes, nh, src=None, dst=None, plen=None, hlim=64, tc=0, fl=0):
    """An IPv6 packet assembled by hand around already-built payload bytes."""
    from socket import AF_INET6, inet_pton
    src = src or R.choice(A)
    dst = dst or R.choice(A)
    if plen is None:
        plen = len(payload_bytes)
    hdr = struct.pack("!IHBB", (6 << 28) | (tc << 20) | fl, plen, nh, hlim)
    return hdr + inet_pton(AF_INET6, src) + inet_pton(AF_INET6, dst) + payload_bytes


def layer_offsets(pkt):
    """Byte offsets where each scapy layer of pkt starts (after the first)."""
    total = len(bytes(pkt))
    offs = []
    layer = pkt.payload
    while layer is not None and len(layer.fields_desc) if layer else False:
        try:
            n = len(bytes(layer))
        except Exception:
            break
        offs.append(total - n)
        layer = layer.payload
        if isinstance(layer, Raw) or layer.__class__.__name__ == "NoPayload":
            if isinstance(layer, Raw):
                offs.append(total - len(bytes(layer)))
            break
    return sorted(set(o for o in offs if 0 < o < total))


NH = {"IPv6ExtHdrHopByHop": 0, "IPv6ExtHdrDestOpt": 60, "IPv6ExtHdrRouting": 43,
      "IPv6ExtHdrSegmentRouting": 43, "IPv6ExtHdrFragment": 44, "AH": 51, "ESP": 50, "UDP": 17,
      "TCP": 6, "Raw": 59, "NoPayload": 59, "IPv6": 41}


def nh_of(layer):
    name = layer.__class__.__name__
    if name.startswith("ICMPv6"):
        return 58
    if name.startswith("MIP6MH"):
        return 135
    return NH[name]


def ah(spi, seq, icv, nh):
    """AH (RFC 4302 §2.2) with its length set: scapy leaves it 0 outside an SA."""
    return AH(spi=spi, seq=seq, icv=icv, nh=nh, payloadlen=(12 + len(icv)) // 4 - 2)


def fix_ah(pkt):
    """Sets each AH's next header from the layer after it."""
    layer = pkt
    while layer is not None and layer.__class__.__name__ != "NoPayload":
        if isinstance(layer, AH):
            layer.nh = nh_of(layer.payload)
            layer.payloadlen = (12 + len(layer.icv or b"")) // 4 - 2
        layer = layer.payload
    return pkt


class Corpus:
    def __init__(self):
        self.items = []  # (kind, label, bytes, family) family: 6, 4 or "arp"

    def add(self, kind, label, data, family=6):
        if not isinstance(data, bytes):
            data = bytes(data)
        self.items.append((kind, label, data, family))


C = Corpus()


def add6(kind, label, pkt):
    C.add(kind, label, bytes(pkt), 6)


def add4(kind, label, pkt):
    C.add(kind, label, bytes(pkt), 4)


def upper(i):
    """A varied upper-layer payload for chains: UDP, TCP, ICMPv6 echo, or nothing."""
    k = i % 4
    if k == 0:
        return UDP(sport=1024 + i, dport=41234) / Raw(b"q" * (i % 13)), "udp"
    if k == 1:
        return TCP(sport=40000 + i, dport=80, seq=1000 * i, flags="S"), "tcp"
    if k == 2:
        return ICMPv6EchoRequest(id=i, seq=i * 3, data=b"e" * (i % 9)), "echo"
    return Raw(b""), "nonext"


# --- IPv6 base header variety --------------------------------------------------------------

for i in range(40):
    tc = R.choice([0, 0x10, 0xB8, 0x01, 0x02, 0x03, 0xFF, R.randrange(256)])
    fl = R.choice([0, 1, 0xFFFFF, R.randrange(1 << 20)])
    hl = R.choice([0, 1, 64, 128, 255])
    up, name = upper(i)
    add6("ipv6", "ipv6 tc=%#x fl=%#x hlim=%d %s" % (tc, fl, hl, name),
         ip6(up, tc=tc, fl=fl, hlim=hl, nh=59 if name == "nonext" else None)
         if name == "nonext" else ip6(up, tc=tc, fl=fl, hlim=hl))
# addresses of every scope / form
for s, d in [("::", "ff02::1:ff00:1"), ("::1", "::1"), ("fe80::1", "ff02::2"),
             ("::ffff:192.0.2.1", "2001:db8::1"), ("2001:db8::1", "64:ff9b::c000:201"),
             ("fc00::1", "fd12:3456::1"), ("2002:c000:201::1", "ff05::1:3")]:
    add6("ipv6", "ipv6 addrs %s > %s" % (s, d), ip6(ICMPv6EchoRequest(id=7), src=s, dst=d))
# No Next Header with trailing bytes (RFC 8200 §4.7)
add6("ipv6", "ipv6 nonext with 8 trailing bytes", ip6(Raw(b"\x01" * 8), nh=59))

# --- Hop-by-Hop and Destination Options -----------------------------------------------

# Option types with no meaning to tshark 4.0 (0x07 is CALIPSO, 0x63 RPL, and so on):
# the RFC 4727 experimental values in each action/change combination, and 0x19/0xd9.
unknown_types = [0x1E, 0x5E, 0x9E, 0xDE, 0x3E, 0x7E, 0xBE, 0xFE, 0x19, 0xD9]
hbh_sets = [
    ("pad1", [Pad1()]),
    ("padn0", [PadN(optdata=b"")]),
    ("padn4", [PadN(optdata=b"\0" * 4)]),
    ("ra mld", [RouterAlert(value=0)]),
    ("ra rsvp", [RouterAlert(value=1)]),
    ("ra active", [RouterAlert(value=2)]),
    ("ra 0xffff", [RouterAlert(value=0xFFFF)]),
    ("pad1 x3 + ra", [Pad1(), Pad1(), Pad1(), RouterAlert(value=0)]),
    ("padn nonzero", [PadN(optdata=b"\x01\x02\x03")]),
]
for t in unknown_types:
    hbh_sets.append(("unknown %#04x act=%d chg=%d" % (t, t >> 6, (t >> 5) & 1),
                     [HBHOptUnknown(otype=t, optdata=bytes(range(R.randrange(0, 9))))]))
hbh_sets.append(("mixed unknown", [HBHOptUnknown(otype=t, optdata=b"\xaa" * (j + 1))
                                   for j, t in enumerate(unknown_types[:4])]))
for i, (lab, opts) in enumerate(hbh_sets):
    up, name = upper(i)
    add6("hopopts", "hbh %s / %s" % (lab, name), ip6(IPv6ExtHdrHopByHop(options=opts) / up))
    up, name = upper(i + 1)
    add6("dstopts", "dstopts %s / %s" % (lab, name), ip6(IPv6ExtHdrDestOpt(options=opts) / up))
# Jumbo payload (RFC 2675): plen 0 plus the option; also the wrong forms
for jl, plen, lab in [(None, 0, "jumbo consistent"), (70000, 0, "jumbo larger than frame"),
                      (100, None, "jumbo with nonzero plen")]:
    body = IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=jl)]) / UDP(sport=9, dport=9) / Raw(b"j" * 20)
    if jl is None:
        jl = len(bytes(body))
        body = IPv6ExtHdrHopByHop(options=[Jumbo(jumboplen=jl)]) / UDP(sport=9, dport=9) / Raw(b"j" * 20)
    pkt = ip6(body)
    if plen is not None:
        pkt[IPv6].plen = plen
    add6("hopopts", "hbh %s" % lab, pkt)
# Home Address option (RFC 6275 §6.3) in Destination Options
for i in range(6):
    opts = [HAO(hoa=A[i])] if i % 2 == 0 else [PadN(optdata=b"\0\0"), HAO(hoa=A[i + 3])]
    up = [MIP6MH_BU(seq=i, mhtime=i), ICMPv6EchoRequest(id=i), UDP(sport=5, dport=6)][i % 3]
    add6("dstopts", "dstopts home address #%d / %s" % (i, up.__class__.__name__),
         ip6(IPv6ExtHdrDestOpt(options=opts) / up))

# --- Routing headers --------------------------------------------------------------------

for i in range(8):
    n = [0, 1, 2, 3, 5, 8, 1, 2][i]
    sl = min(n, [0, 1, 1, 2, 0, 8, 0, 2][i])
    up, name = upper(i)
    add6("routing", "routing type0 n=%d segleft=%d / %s" % (n, sl, name),
         ip6(IPv6ExtHdrRouting(type=0, addresses=A[:n], segleft=sl) / up))
for i in range(4):
    up, name = upper(i)
    add6("routing", "routing type2 segleft=%d / %s" % (i % 2, name),
         ip6(IPv6ExtHdrRouting(type=2, addresses=[A[10 + i]], segleft=i % 2) / up))
for i in range(8):
    n = [1, 2, 3, 4, 1, 2, 3, 6][i]
    tlvs = [IPv6ExtHdrSegmentRoutingTLVPadN(padding=b"\0" * 2)] if i >= 6 else []
    up, name = upper(i)
    add6("routing", "routing srh n=%d tag=%d tlvs=%d / %s" % (n, i * 11, len(tlvs), name),
         ip6(IPv6ExtHdrSegmentRouting(addresses=A[:n], segleft=n - 1 - (i % n), tag=i * 11,
                                      tlv_objects=tlvs) / up))
# an unknown routing type with segleft 0 (must be ignored) and > 0
for sl in (0, 1):
    body = struct.pack("!BBBB", 59, 1, 253, sl) + b"\0" * 12
    C.add("routing", "routing type253 segleft=%d" % sl, raw6(body, 43))

# --- Fragments ----------------------------------------------------------------------------

for i in range(10):
    ident = R.choice([0, 1, 0xFFFFFFFF, R.randrange(1 << 32)])
    up, name = upper(i)
    add6("fragment", "frag first id=%#x / %s" % (ident, name),
         ip6(IPv6ExtHdrFragment(offset=0, m=1, id=ident) / up / Raw(b"f" * 16)))
    add6("fragment", "frag middle id=%#x" % ident,
         ip6(IPv6ExtHdrFragment(offset=R.randrange(1, 8000), m=1, id=ident, nh=17) / Raw(b"m" * 24)))
    add6("fragment", "frag last id=%#x" % ident,
         ip6(IPv6ExtHdrFragment(offset=R.randrange(1, 8000), m=0, id=ident, nh=6) / Raw(b"l" * 9)))
    up, name = upper(i + 2)
    add6("fragment", "frag atomic id=%#x / %s" % (ident, name),
         ip6(IPv6ExtHdrFragment(offset=0, m=0, id=ident) / up))
add6("fragment", "frag reserved fields set",
     ip6(IPv6ExtHdrFragment(offset=3, m=1, id=5, res1=0xAB, res2=3, nh=59) / Raw(b"r" * 8)))

# --- AH, ESP ------------------------------------------------------------------------------

for i in range(6):
    up, name = upper(i)
    icv = bytes(R.randrange(256) for _ in range([12, 20, 12, 28, 36, 12][i]))
    add6("ah", "ah spi=%d icv=%d / %s" % (i + 256, len(icv), name),
         ip6(fix_ah(AH(spi=256 + i, seq=i * 1000, icv=icv) / up)))
for i in range(6):
    data = bytes(R.randrange(256) for _ in range(8 + i * 7))
    add6("esp", "esp spi=%#x len=%d" % (0x1000 + i, len(data)),
         ip6(ESP(spi=0x1000 + i, seq=i + 1, data=data)))
add6("ah", "ah then esp", ip6(ah(9, 1, b"\x11" * 12, 50) / ESP(spi=10, seq=2, data=b"\x22" * 16)))

# --- ICMPv6 errors with quoted packets ----------------------------------------------------


def invoking(i):
    """Packets an error may quote, in variety."""
    src, dst = A[i % 8], A[8 + i % 8]
    k = i % 6
    if k == 0:
        return IPv6(src=src, dst=dst) / UDP(sport=33434 + i, dport=33435) / Raw(b"u" * 20), "udp"
    if k == 1:
        return IPv6(src=src, dst=dst) / TCP(sport=50000, dport=443, seq=12345 + i, ack=99, flags="PA") / Raw(b"t" * 10), "tcp"
    if k == 2:
        return IPv6(src=src, dst=dst) / ICMPv6EchoRequest(id=i, seq=1, data=b"p" * 32), "echo"
    if k == 3:
        return IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=i, m=1) / UDP(sport=7, dport=7) / Raw(b"x" * 40), "frag/udp"
    if k == 4:
        return IPv6(src=src, dst=dst) / IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLReport(mladdr="ff02::fb"), "hbh/mld"
    return IPv6(src=src, dst=dst) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / TCP(sport=1, dport=2, options=[("MSS", 1400)]), "dst/tcp"


errors = []
for code in range(0, 9):
    errors.append(("destunreach", code, lambda c: ICMPv6DestUnreach(code=c)))
errors.append(("packettoobig", 0, lambda c: ICMPv6PacketTooBig(mtu=R.choice([1280, 1400, 1500, 9000, 0xFFFFFFFF]))))
errors.append(("packettoobig", 1, lambda c: ICMPv6PacketTooBig(code=c, mtu=1280)))
for code in (0, 1, 2):
    errors.append(("timeexceeded", code, lambda c: ICMPv6TimeExceeded(code=c)))
for code in range(0, 11):
    errors.append(("paramproblem", code, lambda c: ICMPv6ParamProblem(code=c, ptr=R.choice([0, 6, 7, 40, 42, 0xFFFF]))))
for j, (name, code, mk) in enumerate(errors):
    for k in range(3):
        i = j * 3 + k
        inv, iname = invoking(i)
        full = bytes(inv)
        # whole, cut inside the upper layer, cut inside the quoted IPv6 header
        cuts = [len(full), max(41, len(full) - R.randrange(1, 30)), R.choice([8, 20, 39, 40])]
        cut = cuts[k]
        quote = full[:cut]
        what = "whole" if cut == len(full) else "cut %d/%d" % (cut, len(full))
        add6("icmpv6.error", "icmpv6 %s code=%d quote=%s %s" % (name, code, iname, what),
             ip6(mk(code) / Raw(quote), src=A[8 + i % 8], dst=A[i % 8]))
# error quoting a packet longer than the minimum MTU allows: cut by the sender to 1280
big = bytes(IPv6(src=A[0], dst=A[1]) / UDP(sport=1, dport=2) / Raw(b"B" * 1400))
add6("icmpv6.error", "icmpv6 packettoobig quote cut to fit 1280",
     ip6(ICMPv6PacketTooBig(mtu=1280) / Raw(big[:1280 - 48]), src=A[1], dst=A[0]))

# --- ICMPv6 informational -----------------------------------------------------------------

for i in range(20):
    cls = ICMPv6EchoRequest if i % 2 == 0 else ICMPv6EchoReply
    data = bytes(R.randrange(256) for _ in range(R.choice([0, 1, 8, 56, 100])))
    ident = R.choice([0, 1, 0xFFFF, R.randrange(65536)])
    add6("icmpv6.echo", "icmpv6 %s id=%d len=%d" % (cls.__name__, ident, len(data)),
         ip6(cls(id=ident, seq=i, data=data)))
for t in (100, 101, 127, 200, 201, 255, 160, 5):
    add6("icmpv6.other", "icmpv6 unknown type=%d" % t, ip6(ICMPv6Unknown(type=t, code=R.randrange(3), msgbody=b"\x01\x02\x03\x04")))

# --- Neighbor Discovery --------------------------------------------------------------------


def nd_opts(i):
    """A varied list of ND options."""
    pool = [
        lambda: ICMPv6NDOptSrcLLAddr(lladdr=MACS[i % 15]),
        lambda: ICMPv6NDOptMTU(mtu=R.choice([1280, 1500, 9000])),
        lambda: ICMPv6NDOptPrefixInfo(prefixlen=R.choice([48, 64, 128]), prefix="2001:db8:%x::" % i,
                                      L=i % 2, A=(i >> 1) % 2, R=(i >> 2) % 2,
                                      validlifetime=R.choice([0, 3600, 0xFFFFFFFF]),
                                      preferredlifetime=R.choice([0, 1800, 0xFFFFFFFF])),
        lambda: ICMPv6NDOptRouteInfo(plen=0, len=1, prf=i % 4, rtlifetime=300, prefix="::"),
        lambda: ICMPv6NDOptRouteInfo(plen=48, len=2, prf=1, rtlifetime=0xFFFFFFFF, prefix="2001:db8:1::"),
        lambda: ICMPv6NDOptRouteInfo(plen=128, len=3, prf=3, rtlifetime=10, prefix=A[i % 16]),
        lambda: ICMPv6NDOptRDNSS(lifetime=600, dns=A[: 1 + i % 3]),
        lambda: ICMPv6NDOptDNSSL(lifetime=1200, searchlist=["example.com", "sub.example.org"][: 1 + i % 2]),
        lambda: ICMPv6NDOptUnknown(type=14, len=1, data=bytes(R.randrange(256) for _ in range(6))),  # Nonce
    ]
    n = 1 + i % 5
    return [pool[(i + j * 3) % len(pool)]() for j in range(n)]


def chain(msg, opts):
    for o in opts:
        msg = msg / o
    return msg


for i in range(25):
    add6("nd.rs", "nd rs #%d slla" % i if i % 3 else "nd rs #%d no options" % i,
         ip6(ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=MACS[i % 15]) if i % 3 else ICMPv6ND_RS(),
             src=LL[i % 8] if i % 4 else "::", dst="ff02::2", hlim=255))
    if i % 2 == 0:
        pass
for i in range(30):
    ra = ICMPv6ND_RA(chlim=R.choice([0, 64, 255]), M=i % 2, O=(i >> 1) % 2, H=(i >> 2) % 2,
                     prf=i % 4, P=(i >> 3) % 2, routerlifetime=R.choice([0, 1800, 9000, 65535]),
                     reachabletime=R.choice([0, 30000]), retranstimer=R.choice([0, 1000]))
    opts = nd_opts(i)
    add6("nd.ra", "nd ra #%d opts=%s" % (i, ",".join(o.__class__.__name__[10:] for o in opts)),
         ip6(chain(ra, opts), src=LL[i % 8], dst="ff02::1", hlim=255))
for i in range(20):
    opts = [ICMPv6NDOptSrcLLAddr(lladdr=MACS[i % 15])] if i % 3 else []
    if i % 4 == 1:
        opts.append(ICMPv6NDOptUnknown(type=14, len=1, data=b"\x12\x34\x56\x78\x9a" + bytes([i])))
    src = "::" if i % 5 == 0 else LL[i % 8]
    add6("nd.ns", "nd ns #%d src=%s opts=%d" % (i, src, len(opts)),
         ip6(chain(ICMPv6ND_NS(tgt=A[i % 16]), opts), src=src, dst="ff02::1:ff00:%x" % (i + 1), hlim=255))
for i in range(20):
    opts = [ICMPv6NDOptDstLLAddr(lladdr=MACS[i % 15])] if i % 4 else []
    add6("nd.na", "nd na #%d R=%d S=%d O=%d" % (i, i % 2, (i >> 1) % 2, (i >> 2) % 2),
         ip6(chain(ICMPv6ND_NA(tgt=A[i % 16], R=i % 2, S=(i >> 1) % 2, O=(i >> 2) % 2), opts),
             src=LL[i % 8], dst=R.choice(["ff02::1", LL[(i + 1) % 8]]), hlim=255))
for i in range(12):
    inv, iname = invoking(i)
    full = bytes(inv)
    opts = []
    if i % 3 != 2:
        opts.append(ICMPv6NDOptDstLLAddr(lladdr=MACS[i % 15]))
    if i % 2 == 0:
        # RFC 4861 §4.6.3: as much of the packet as fits, in units of 8 octets
        q = full[: [len(full), 48, 40, 64, 8, 24][i // 2 % 6]]
        iname += " whole" if len(q) == len(full) else " cut %d" % len(q)
        q = q + b"\0" * (-len(q) % 8)
        if len(q) > len(full):
            iname += " padded"
        opts.append(ICMPv6NDOptRedirectedHdr(pkt=q))
    add6("nd.redirect", "nd redirect #%d opts=%d quote=%s" % (i, len(opts), iname if i % 2 == 0 else "-"),
         ip6(chain(ICMPv6ND_Redirect(tgt=LL[i % 8], dst=A[i % 16]), opts), src=LL[(i + 1) % 8],
             dst=A[(i + 3) % 16], hlim=255))

# --- MLD -------------------------------------------------------------------------------------

for i in range(8):
    g = "::" if i % 3 == 0 else MC[i % len(MC)]
    add6("mld", "mldv1 query group=%s mrd=%d" % (g, i * 1000),
         ip6(IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / ICMPv6MLQuery(mladdr=g, mrd=i * 1000),
             src=LL[i % 8], dst="ff02::1", hlim=1))
    add6("mld", "mldv1 report group=%s" % MC[i % len(MC)],
         ip6(IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / ICMPv6MLReport(mladdr=MC[i % len(MC)]),
             src=LL[i % 8], dst=MC[i % len(MC)], hlim=1))
    add6("mld", "mldv1 done group=%s" % MC[i % len(MC)],
         ip6(IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / ICMPv6MLDone(mladdr=MC[i % len(MC)]),
             src=LL[i % 8], dst="ff02::2", hlim=1))
for i in range(10):
    srcs = A[: i % 4]
    add6("mld", "mldv2 query S=%d QRV=%d QQIC=%d sources=%d" % (i % 2, i % 8, i * 25, len(srcs)),
         ip6(IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) /
             ICMPv6MLQuery2(mladdr="::" if i % 3 == 0 else MC[i % len(MC)], mrd=R.choice([1000, 10000, 40000]),
                            S=i % 2, QRV=i % 8, QQIC=i * 25, sources=srcs),
             src=LL[i % 8], dst="ff02::1", hlim=1))
for i in range(12):
    recs = []
    for j in range(1 + i % 4):
        recs.append(ICMPv6MLDMultAddrRec(rtype=1 + (i + j) % 6, dst=MC[(i + j) % len(MC)],
                                         sources=A[: (i + j) % 3],
                                         auxdata=b"\xa5" * (4 * (j % 2 if i >= 8 else 0)),
                                         auxdata_len=(j % 2 if i >= 8 else 0)))
    add6("mld", "mldv2 report records=%d" % len(recs),
         ip6(IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / ICMPv6MLReport2(records=recs),
             src=LL[i % 8], dst="ff02::16", hlim=1))

# --- Mobility Header (RFC 6275) ----------------------------------------------------------


def mh_opts(i):
    pool = [
        lambda: MIP6OptBRAdvice(rinter=R.randrange(65536)),
        lambda: MIP6OptAltCoA(acoa=A[i % 16]),
        lambda: MIP6OptNonceIndices(olen=4, hni=i, coni=i + 1),
        lambda: MIP6OptBindingAuthData(olen=12, authenticator=R.randrange(1 << 64)),
        lambda: Pad1(),
        lambda: PadN(optdata=b"\0" * 3),
    ]
    return [pool[(i + j * 2) % len(pool)]() for j in range(i % 4)]


for i in range(36):
    k = i % 9
    if k == 0:
        m, lab = MIP6MH_BRR(), "brr"
    elif k == 1:
        m, lab = MIP6MH_HoTI(cookie=struct.pack("!Q", R.randrange(1 << 64))), "hoti"
    elif k == 2:
        m, lab = MIP6MH_CoTI(cookie=struct.pack("!Q", R.randrange(1 << 64))), "coti"
    elif k == 3:
        m, lab = MIP6MH_HoT(index=i, cookie=b"c" * 8, token=b"t" * 8), "hot"
    elif k == 4:
        m, lab = MIP6MH_CoT(index=i, cookie=b"C" * 8, token=b"T" * 8), "cot"
    elif k == 5:
        m, lab = MIP6MH_BU(seq=i * 100, flags=R.randrange(256), mhtime=R.choice([0, 3, 0xFFFF]),
                           options=mh_opts(i)), "bu"
    elif k == 6:
        m, lab = MIP6MH_BA(status=R.choice([0, 1, 128, 129, 135, 174]), flags=R.randrange(4),
                           seq=i, mhtime=R.choice([0, 5, 0xFFFF]), options=mh_opts(i + 1)), "ba"
    elif k == 7:
        m, lab = MIP6MH_BE(status=1 + i % 2, ha=A[i % 16]), "be"
    else:
        m, lab = MIP6MH_Generic(mhtype=R.choice([8, 9, 100, 255]), msg=b"\x00\x00" + b"\x01" * 4), "generic"
    if k in (1, 2, 3, 4) and i >= 18:
        m.options = mh_opts(i)
    add6("mipv6", "mh %s #%d opts=%d" % (lab, i, len(getattr(m, "options", []) or [])),
         ip6(m, src=A[i % 16], dst=A[(i + 5) % 16]))
# a Mobility Header after a Destination Options header with the Home Address
add6("mipv6", "mh bu after dstopts hoa",
     ip6(IPv6ExtHdrDestOpt(options=[HAO(hoa=A[9])]) / MIP6MH_BU(seq=77, options=[MIP6OptAltCoA(acoa=A[3])])))

# --- UDP ------------------------------------------------------------------------------------

for i in range(24):
    sp = R.choice([33434, 1024 + i, 65535, 0, 49999, 61000])
    dp = R.choice([50000, 33435, 60000 + i, 65535, 0])
    data = bytes(R.randrange(256) for _ in range(R.choice([0, 1, 10, 100])))
    pkt = ip6(UDP(sport=sp, dport=dp) / Raw(data))
    lab = "good"
    if i % 4 == 1:
        pkt[UDP].chksum = (bytes(pkt[UDP])[6] << 8 | bytes(pkt[UDP])[7]) ^ 0x1111
        lab = "bad checksum"
    elif i % 4 == 2:
        pkt[UDP].chksum = 0
        lab = "zero checksum"
    add6("udp", "udp %d>%d len=%d %s" % (sp, dp, len(data), lab), pkt)
# a UDP checksum whose computed value is 0 is sent as 0xffff (RFC 768)
for n in range(300):
    pkt = ip6(UDP(sport=1000, dport=2000) / Raw(struct.pack("!H", n)), src=A[0], dst=A[1])
    if bytes(pkt[UDP])[6:8] == b"\xff\xff":
        add6("udp", "udp checksum computes to 0xffff", pkt)
        break
# length field lying
for ulen, lab in [(8, "udp length 8 with payload"), (20, "udp length shorter than payload"),
                  (200, "udp length longer than packet"), (4, "udp length below 8")]:
    pkt = ip6(UDP(sport=4000, dport=5000, len=ulen) / Raw(b"L" * 30))
    add6("udp", lab, pkt)

# --- UDP-Lite (RFC 3828), raw bytes, protocol 136 --------------------------------------------


def udplite(src, dst, sp, dp, data, cov, bad=False):
    length = 8 + len(data)
    hdr = struct.pack("!HHHH", sp, dp, cov, 0)
    covered = (hdr + data) if cov == 0 else (hdr + data)[:cov]
    c = csum(pseudo6(src, dst, length, 136) + covered)
    if c == 0:
        c = 0xFFFF
    if bad:
        c ^= 0x0F0F
    return struct.pack("!HHHH", sp, dp, cov, c) + data


for i, (cov, bad) in enumerate([(0, False), (8, False), (12, False), (20, False), (0, True),
                                (8, True), (16, True), (9, False), (3, False), (200, False),
                                (0, False), (13, False)]):
    src, dst = A[i % 16], A[(i + 1) % 16]
    data = bytes(R.randrange(256) for _ in range(12 + i))
    lab = "udplite cov=%d %s" % (cov, "bad" if bad else "good")
    if cov in (3, 200):
        lab += " (illegal coverage)"
    C.add("udplite", lab, raw6(udplite(src, dst, 5000 + i, 6000, data, cov, bad), 136, src=src, dst=dst))

# --- TCP -------------------------------------------------------------------------------------

tcp_opt_sets = [
    ("mss", [("MSS", 1460)]),
    ("mss ws sackok ts", [("MSS", 1440), ("SAckOK", b""), ("Timestamp", (12345, 0)), ("NOP", None), ("WScale", 7)]),
    ("nop nop ts", [("NOP", None), ("NOP", None), ("Timestamp", (0xFFFFFFFF, 1))]),
    ("sack 1", [("NOP", None), ("NOP", None), ("SAck", (1000, 2000))]),
    ("sack 2", [("NOP", None), ("NOP", None), ("SAck", (1000, 2000, 3000, 4000))]),
    ("sack 3", [("NOP", None), ("NOP", None), ("SAck", (1, 2, 3, 4, 5, 6))]),
    ("sack 4", [("SAck", (10, 20, 30, 40, 50, 60, 70, 80))]),
    ("ws 14", [("WScale", 14), ("NOP", None)]),
    ("ws 0", [("WScale", 0)]),
    ("eol", [("MSS", 536), ("EOL", None)]),
    ("eol then garbage", [("NOP", None), ("EOL", None), ("NOP", None), ("NOP", None)]),
    ("unknown kind 254", [(254, b"\x12\x34\x56\x78")]),
    ("md5-like kind 19", [(19, b"\x00" * 16)]),
    ("none", []),
]
flag_sets = ["S", "SA", "A", "PA", "FA", "R", "RA", "U", "UAP", "SE", "SEC", "FPU", "", "FSRPAUEC"]
for i in range(42):
    lab, opts = tcp_opt_sets[i % len(tcp_opt_sets)]
    fl = flag_sets[i % len(flag_sets)]
    data = b"D" * R.choice([0, 0, 1, 20])
    pkt = ip6(TCP(sport=R.choice([40000 + i, 50080, 65535]), dport=R.choice([50080, 51000, 1]),
                  seq=R.randrange(1 << 32), ack=R.randrange(1 << 32) if "A" in fl else 0,
                  flags=fl, window=R.choice([0, 1024, 65535]), urgptr=7 if "U" in fl else 0,
                  options=opts) / Raw(data))
    st = "good"
    if i % 7 == 3:
        pkt[TCP].chksum = 0xBEEF
        st = "bad checksum"
    add6("tcp", "tcp flags=%s opts=%s len=%d %s" % (fl or "none", lab, len(data), st), pkt)
# options running past the header, zero-length options, data offset below 5 or past the packet
tcp_raw_opts = [
    (b"\x02\x08\x05\xb4", "mss option length 8 past header"),
    (b"\x08\x00\x00\x00", "option length 0"),
    (b"\x03\x01\x07\x00", "option length 1"),
    (b"\x05\x03\x00\x00", "sack length 3"),
    (b"\x01\x01\x01\x02", "mss cut by header end"),
    (b"\x02\x04\x05\xb4\x08\x0a\x00\x00\x00\x01", "ts cut by header end"),
]
for body, lab in tcp_raw_opts:
    pad = body + b"\0" * (-len(body) % 4)
    opts_len = len(pad)
    if lab == "ts cut by header end":
        pad = body[:8]
        opts_len = 8
    pkt = ip6(TCP(sport=1, dport=2, flags="S", dataofs=5 + opts_len // 4) / Raw(pad))
    add6("tcp.malformed", "tcp %s" % lab, pkt)
for off, lab in [(4, "data offset 4"), (15, "data offset 15 past packet"), (0, "data offset 0")]:
    add6("tcp.malformed", "tcp %s" % lab, ip6(TCP(sport=3, dport=4, flags="A", dataofs=off) / Raw(b"z" * 8)))

# --- IPv4, ICMPv4, ARP, 6in4 -------------------------------------------------------------------

for i in range(16):
    opts = [[], [IPOption_NOP(), IPOption_NOP(), IPOption_NOP(), IPOption_NOP()],
            [IPOption_Router_Alert()], [IPOption_RR(routers=["192.0.2.9"]), IPOption_EOL()]][i % 4]
    fl = ["", "DF", "MF", "DF"][i % 4]
    frag = 0 if fl != "MF" else i
    pkt = IP(src=R.choice(V4), dst=R.choice(V4), ttl=R.choice([1, 64, 255]), tos=R.choice([0, 0xB8, 3]),
             id=R.randrange(65536), flags=fl, frag=frag, options=opts) / UDP(sport=40000 + i, dport=41234) / Raw(b"v4" * i)
    lab = "ipv4/udp opts=%d flags=%s" % (len(opts), fl or "-")
    if i % 5 == 4:
        pkt[IP].chksum = 0x1234
        lab += " bad ip checksum"
    if i % 6 == 5:
        pkt[UDP].chksum = 0
        lab += " udp zero checksum"
    add4("ipv4", lab, pkt)
for i in range(10):
    t = [8, 0][i % 2]
    add4("icmp", "icmp echo type=%d" % t,
         IP(src=V4[i], dst=V4[i + 1]) / ICMP(type=t, id=i, seq=i * 2) / Raw(b"ping" * (i % 4)))
icmp4_err = [(3, c) for c in (0, 1, 3, 4, 13)] + [(11, 0), (11, 1), (12, 0), (5, 1), (4, 0)]
for j, (t, c) in enumerate(icmp4_err):
    inner = bytes(IP(src=V4[j], dst=V4[j + 2], id=j) / UDP(sport=5000, dport=33434 + j) / Raw(b"i" * 24))
    q = inner if j % 2 == 0 else inner[:28]
    kw = {}
    if t == 5:
        kw["gw"] = V4[3]
    if t == 3 and c == 4:
        kw["nexthopmtu"] = 1400
    if t == 12:
        kw["ptr"] = 8
    add4("icmp.error", "icmp error type=%d code=%d quote=%s" % (t, c, "whole" if j % 2 == 0 else "28 bytes"),
         IP(src=V4[j + 5], dst=V4[j]) / ICMP(type=t, code=c, **kw) / Raw(q))
add4("icmp", "icmp bad checksum", IP(src=V4[0], dst=V4[1]) / ICMP(type=8, chksum=0xDEAD))
for i in range(6):
    up, name = upper(i)
    inner = IPv6(src=A[i], dst=A[i + 1]) / up
    add4("6in4", "6in4 / %s" % name, IP(src=V4[i], dst=V4[i + 3], proto=41) / inner)
add4("6in4", "6in4 / icmpv6 error quoting udp",
     IP(src=V4[1], dst=V4[2]) / IPv6(src=A[3], dst=A[4]) / ICMPv6DestUnreach(code=1) / Raw(bytes(invoking(0)[0])))
for i in range(8):
    op = 1 + i % 2
    C.add("arp", "arp %s #%d" % ("request" if op == 1 else "reply", i),
          bytes(ARP(op=op, hwsrc=MACS[i], psrc=V4[i], hwdst="00:00:00:00:00:00" if op == 1 else MACS[i + 1],
                    pdst=V4[i + 1])), "arp")
C.add("arp", "arp gratuitous", bytes(ARP(op=1, hwsrc=MACS[5], psrc=V4[5], pdst=V4[5])), "arp")
C.add("arp", "arp truncated to 20", bytes(ARP(op=1, hwsrc=MACS[5], psrc=V4[5], pdst=V4[6]))[:20], "arp")

# --- Random extension-header chains ----------------------------------------------------------


def rand_ext(i):
    k = R.randrange(6)
    if k == 0:
        return IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * R.randrange(0, 6))])
    if k == 1:
        return IPv6ExtHdrRouting(addresses=A[: R.randrange(0, 3)], segleft=0)
    if k == 2:
        return IPv6ExtHdrFragment(offset=0, m=0, id=R.randrange(1 << 32))
    if k == 3:
        return AH(spi=R.randrange(1, 1 << 32), seq=i, icv=b"\x5a" * 12)
    if k == 4:
        return IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=R.choice(unknown_types), optdata=b"\x01" * R.randrange(5))])
    return IPv6ExtHdrSegmentRouting(addresses=A[:2], segleft=1)


for i in range(240):
    n = R.randrange(1, 6)
    chain_pkt = IPv6ExtHdrHopByHop(options=[PadN(optdata=b"\0" * 4)]) if i % 3 == 0 else None
    exts = [rand_ext(i) for _ in range(n)]
    body = None
    for e in ([chain_pkt] if chain_pkt is not None else []) + exts:
        body = e if body is None else body / e
    up, name = upper(i)
    body = fix_ah(body / up)
    add6("chain", "chain %s / %s" % ("/".join(l.__class__.__name__.replace("IPv6ExtHdr", "") for l in
                                                ([chain_pkt] if chain_pkt else []) + exts), name), ip6(body))
# long chains of Destination Options headers
for n in (10, 30, 60, 100):
    body = None
    for _ in range(n):
        e = IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)])
        body = e if body is None else body / e
    add6("chain.long", "chain of %d dstopts / echo" % n, ip6(body / ICMPv6EchoRequest(id=n)))

# --- Malformed: lying lengths, bad option lengths, bad checksums ---------------------------------

# payload length lying: larger than the data, smaller than the data
for i, (pkt, name) in enumerate([(ip6(UDP(sport=1, dport=2) / Raw(b"p" * 20)), "udp"),
                                 (ip6(ICMPv6EchoRequest(id=1, data=b"x" * 30)), "echo"),
                                 (ip6(TCP(sport=1, dport=2, flags="S", options=[("MSS", 1460)])), "tcp")]):
    b = bytearray(bytes(pkt))
    plen = len(b) - 40
    for newlen, lab in [(plen + 1, "plen+1"), (plen + 100, "plen+100"), (plen - 1, "plen-1"),
                        (0, "plen 0"), (4, "plen 4")]:
        b2 = bytearray(b)
        struct.pack_into("!H", b2, 4, newlen)
        C.add("malformed.plen", "ipv6 %s %s" % (lab, name), bytes(b2))
# option lengths running past the header
for lab, body in [
    ("hbh padn past header", struct.pack("!BB", 59, 0) + b"\x01\x05\0\0\0\0"),
    ("hbh unknown opt past header", struct.pack("!BB", 59, 0) + b"\x1e\x20\0\0\0\0"),
    ("hbh ra with length 4", struct.pack("!BB", 59, 0) + b"\x05\x04\0\0\0\0"),
    ("hbh jumbo with length 2", struct.pack("!BB", 59, 0) + b"\xc2\x02\0\0\x01\x00"),
    ("hbh hdr len past packet", struct.pack("!BB", 59, 3) + b"\x01\x04\0\0\0\0"),
]:
    C.add("malformed.opts", lab, raw6(body, 0))
for lab, body in [
    ("dstopts hao wrong length", struct.pack("!BB", 59, 1) + b"\xc9\x08" + b"\0" * 12),
    ("dstopts padn past header", struct.pack("!BB", 59, 0) + b"\x01\x09\0\0\0\0"),
]:
    C.add("malformed.opts", lab, raw6(body, 60))
# routing: type 0 with odd header length, segments left beyond addresses, SRH last entry beyond
C.add("malformed.routing", "routing type0 hdr len odd", raw6(struct.pack("!BBBB", 59, 1, 0, 1) + b"\0" * 12, 43))
C.add("malformed.routing", "routing type0 segleft > n",
      raw6(struct.pack("!BBBB", 59, 2, 0, 5) + b"\0" * 4 + bytes(16), 43))
C.add("malformed.routing", "routing type2 hdr len 0", raw6(struct.pack("!BBBB", 59, 0, 2, 1) + b"\0" * 4, 43))
C.add("malformed.routing", "srh last entry past header",
      raw6(struct.pack("!BBBBBBH", 59, 2, 4, 0, 7, 0, 0) + bytes(16), 43))
# ND option with length 0 (RFC 4861 §4.6: MUST silently discard), and options past the end
for lab, tail in [("nd ra option length 0", b"\x01\x00\0\0\0\0\0\0"),
                  ("nd ra option past end", b"\x03\x04" + b"\0" * 14),
                  ("nd ra slla then trailing 3 bytes", b"\x01\x01\x02\0\0\0\0\x01" + b"\xff\xff\xff")]:
    add6("malformed.nd", lab, ip6(ICMPv6ND_RA() / Raw(tail), src=LL[0], dst="ff02::1", hlim=255))
add6("malformed.nd", "nd ns option length 0", ip6(ICMPv6ND_NS(tgt=A[1]) / Raw(b"\x0e\x00" + b"\0" * 6),
                                                  src=LL[1], dst="ff02::1:ff00:1", hlim=255))
add6("malformed.nd", "nd ns too short", ip6(ICMPv6Unknown(type=135, msgbody=b"\0" * 8), src=LL[1], dst=A[1], hlim=255))
add6("malformed.mld", "mldv2 report sources past end",
     ip6(ICMPv6MLReport2(records_number=1) / Raw(struct.pack("!BBH", 1, 0, 5) + bytes(16) + bytes(16)),
         src=LL[0], dst="ff02::16", hlim=1))
# mobility header: length past the packet, option past the header, wrong payload proto
mh = bytearray(bytes(MIP6MH_BU(seq=1, options=[MIP6OptBRAdvice(rinter=5)])))
mh_long = bytearray(mh)
mh_long[1] = 8
C.add("malformed.mipv6", "mh header length past packet", raw6(bytes(mh_long), 135))
mh_opt = bytearray(bytes(MIP6MH_BU(seq=2, options=[PadN(optdata=b"\0" * 2)])))
mh_opt[-4:] = b"\x02\x09\0\0"
C.add("malformed.mipv6", "mh option past header", raw6(bytes(mh_opt), 135))
mh_bad = bytearray(bytes(ip6(MIP6MH_BU(seq=3), src=A[1], dst=A[2])))
mh_bad[44] ^= 0xFF
C.add("malformed.mipv6", "mh bad checksum", bytes(mh_bad))
# bad checksums
for i in range(4):
    pkt = ip6(ICMPv6EchoRequest(id=i, seq=i, cksum=0x1111 * (i + 1)))
    add6("badcsum", "icmpv6 echo bad checksum %#x" % (0x1111 * (i + 1)), pkt)
add6("badcsum", "icmpv6 nd ns bad checksum", ip6(ICMPv6ND_NS(tgt=A[0], cksum=1), src=LL[0], dst="ff02::1:ff00:1", hlim=255))
add6("badcsum", "icmpv6 checksum zero", ip6(ICMPv6EchoReply(id=5, cksum=0)))

# --- Truncation at every layer boundary --------------------------------------------------------

trunc_base = [
    ("udp", ip6(UDP(sport=41234, dport=41234) / Raw(b"d" * 12))),
    ("tcp+opts", ip6(TCP(sport=80, dport=1234, flags="SA", options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]))),
    ("hbh/echo", ip6(IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6EchoRequest(id=3, data=b"abcd"))),
    ("dst/rt0/frag/udp", ip6(IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)]) / IPv6ExtHdrRouting(addresses=A[:2], segleft=1)
                             / IPv6ExtHdrFragment(id=1) / UDP(sport=1, dport=2) / Raw(b"u" * 8))),
    ("srh/tcp", ip6(IPv6ExtHdrSegmentRouting(addresses=A[:3], segleft=2) / TCP(sport=1, dport=2, flags="S"))),
    ("ah/udp", ip6(ah(7, 1, b"\x01" * 12, 17) / UDP(sport=1, dport=2) / Raw(b"a" * 4))),
    ("esp", ip6(ESP(spi=9, seq=2, data=b"\x00" * 24))),
    ("ra+opts", ip6(ICMPv6ND_RA() / ICMPv6NDOptSrcLLAddr(lladdr=MACS[1]) / ICMPv6NDOptMTU(mtu=1500)
                    / ICMPv6NDOptPrefixInfo(prefix="2001:db8:5::", prefixlen=64), src=LL[0], dst="ff02::1", hlim=255)),
    ("ns+slla", ip6(ICMPv6ND_NS(tgt=A[2]) / ICMPv6NDOptSrcLLAddr(lladdr=MACS[2]), src=LL[1], dst="ff02::1:ff00:2", hlim=255)),
    ("destunreach/udp", ip6(ICMPv6DestUnreach(code=4) / bytes(invoking(0)[0]))),
    ("mldv2 report", ip6(ICMPv6MLReport2(records=[ICMPv6MLDMultAddrRec(dst=MC[0], sources=A[:2])]), src=LL[0], dst="ff02::16", hlim=1)),
    ("mh bu+opts", ip6(MIP6MH_BU(seq=4, options=[MIP6OptAltCoA(acoa=A[5])]))),
    ("dst hao/mh hoti", ip6(IPv6ExtHdrDestOpt(options=[HAO(hoa=A[6])]) / MIP6MH_HoTI(cookie=b"k" * 8))),
]
for name, pkt in trunc_base:
    full = bytes(pkt)
    cuts = set([0, 1, 8, 20, 39, 40, 41])
    for o in layer_offsets(pkt):
        for d in (-1, 0, 1, 4):
            if 0 < o + d < len(full):
                cuts.add(o + d)
    cuts.add(len(full) - 1)
    for c in sorted(cuts):
        if c <= 0 or c >= len(full):
            continue
        C.add("truncated", "truncated %s at %d/%d" % (name, c, len(full)), full[:c])
# IPv4 truncations
for name, pkt in [("ipv4/udp", IP(src=V4[0], dst=V4[1]) / UDP(sport=1, dport=2) / Raw(b"u" * 8)),
                  ("ipv4/icmp", IP(src=V4[0], dst=V4[1]) / ICMP(id=1) / Raw(b"ping")),
                  ("6in4/udp", IP(src=V4[0], dst=V4[1], proto=41) / IPv6(src=A[0], dst=A[1]) / UDP(sport=1, dport=2))]:
    full = bytes(pkt)
    for c in sorted(set([1, 10, 19, 20, 21, 24, 27, 28, 40, 59, 60, 61, 67, len(full) - 1])):
        if 0 < c < len(full):
            C.add("truncated", "truncated %s at %d/%d" % (name, c, len(full)), full[:c], 4)

# --- Writing -----------------------------------------------------------------------------------


class Pcap:
    def __init__(self, path, linktype):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        self.n = 0

    def write(self, data, origlen=None):
        self.n += 1
        ts = 1700000000 + self.n
        self.f.write(struct.pack("<IIII", ts, (self.n * 1000) % 1000000, len(data),
                                 origlen if origlen is not None else len(data)))
        self.f.write(data)
        return self.n

    def close(self):
        self.f.close()


ETYPE = {6: 0x86DD, 4: 0x0800, "arp": 0x0806}


def mac_bytes(m):
    return bytes(int(x, 16) for x in m.split(":"))


def main(out):
    os.makedirs(out, exist_ok=True)
    files = {
        "eth": Pcap(os.path.join(out, "eth.pcap"), 1),
        "raw": Pcap(os.path.join(out, "raw.pcap"), 101),
        "sll": Pcap(os.path.join(out, "sll.pcap"), 113),
        "null": Pcap(os.path.join(out, "null.pcap"), 0),
        "fddi": Pcap(os.path.join(out, "fddi.pcap"), 10),
    }
    manifest = open(os.path.join(out, "manifest.jsonl"), "w")

    def emit(fname, data, kind, label):
        n = files[fname].write(data)
        manifest.write(json.dumps({"file": fname + ".pcap", "frame": n, "kind": kind, "label": label}) + "\n")

    for idx, (kind, label, data, fam) in enumerate(C.items):
        et = ETYPE[fam]
        dst, src = mac_bytes(MACS[idx % 15]), mac_bytes(MACS[(idx + 4) % 15])
        # Ethernet II; every 6th with an 802.1Q tag, every 31st with two (Q-in-Q)
        if idx % 31 == 7:
            eth = dst + src + struct.pack("!HHHHH", 0x8100, (3 << 13) | 100, 0x8100, (idx % 8) << 13 | 200 + idx % 100, et)
            emit("eth", eth + data, kind, label + " [eth 802.1Q x2]")
        elif idx % 6 == 1:
            tci = ((idx % 8) << 13) | ((idx % 2) << 12) | (idx * 37 % 4095)
            emit("eth", dst + src + struct.pack("!HHH", 0x8100, tci, et) + data, kind, label + " [eth 802.1Q]")
        else:
            emit("eth", dst + src + struct.pack("!H", et) + data, kind, label + " [eth]")
        if fam != "arp":
            emit("raw", data, kind, label + " [raw]")
        if idx % 5 == 0 or fam == "arp":
            pkttype = [0, 1, 2, 3, 4][idx // 5 % 5]
            sll = struct.pack("!HHH", pkttype, 1, 6) + src + b"\0\0" + struct.pack("!H", et)
            emit("sll", sll + data, kind, label + " [sll pkttype %d]" % pkttype)
        if idx % 9 == 0 and fam != "arp":
            af = 2 if fam == 4 else [24, 28, 30][idx // 9 % 3]
            emit("null", struct.pack("<I", af) + data, kind, label + " [null af %d]" % af)
        if idx % 11 == 0:
            fddi = bytes([0x50]) + dst + src + b"\xaa\xaa\x03\x00\x00\x00" + struct.pack("!H", et)
            emit("fddi", fddi + data, kind, label + " [fddi snap]")
    # link-specific malformations
    emit("eth", mac_bytes(MACS[0]) + mac_bytes(MACS[1])[:3], "truncated.link", "ethernet cut at 9 [eth]")
    emit("eth", mac_bytes(MACS[0]) + mac_bytes(MACS[1]) + b"\x81\x00\x00", "truncated.link", "vlan tag cut [eth]")
    emit("eth", mac_bytes(MACS[0]) + mac_bytes(MACS[1]) + b"\x86\xdd", "truncated.link", "ethernet header only [eth]")
    emit("eth", mac_bytes(MACS[2]) + mac_bytes(MACS[3]) + b"\x88\xb5" + b"\x01" * 20, "eth.other", "unknown ethertype 0x88b5 [eth]")
    emit("sll", struct.pack("!HHH", 4, 1, 6) + mac_bytes(MACS[1]), "truncated.link", "sll cut at 12 [sll]")
    emit("sll", struct.pack("!HHH", 0, 772, 0) + b"\0" * 8 + struct.pack("!H", 0x86DD)
         + bytes(ip6(ICMPv6EchoRequest(id=1), src="::1", dst="::1")), "sll", "sll loopback hatype 772 [sll]")
    emit("null", b"\x18\x00", "truncated.link", "null cut at 2 [null]")
    emit("fddi", bytes([0x50]) + mac_bytes(MACS[0]) + mac_bytes(MACS[1]) + b"\xaa\xaa", "truncated.link", "fddi llc cut [fddi]")
    counts = {}
    for kind, _, _, _ in C.items:
        counts[kind] = counts.get(kind, 0) + 1
    for f in files.values():
        f.close()
    manifest.close()
    print("corpus: %d packets built; frames: %s" % (len(C.items), ", ".join("%s %d" % (k, f.n) for k, f in files.items())))
    print("by kind: " + ", ".join("%s %d" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "test-output/corpus")
