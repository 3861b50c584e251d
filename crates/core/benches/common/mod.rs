//! What the benches that compare with smoltcp share: Ethernet frames built by hand, and
//! a smoltcp `Device` that hands in a given frame.
#![allow(dead_code)]

pub mod link;

use std::net::Ipv6Addr;

use sixstack_wire::checksum::Checksum;
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};

pub const OURS: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x02];
pub const PEER: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x01];

pub fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

/// An Ethernet frame with an ICMPv6 message, its checksum filled in.
pub fn icmp_frame(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hl: u8,
    mut icmp: Vec<u8>,
) -> Vec<u8> {
    let c = Checksum::ipv6_pseudo_header(&src, &dst, icmp.len() as u32, 58)
        .add_bytes(&icmp)
        .finish();
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    let mut f = dst_mac.to_vec();
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0]);
    f.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[58, hl]);
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(&icmp);
    f
}

/// A Neighbor Solicitation from `src` (MAC `src_mac`, in its Source Link-Layer Address
/// option) for `target`, to target's solicited-node group.
pub fn solicitation(src_mac: [u8; 6], src: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
    let mut ns = vec![135, 0, 0, 0, 0, 0, 0, 0];
    ns.extend_from_slice(&target.octets());
    ns.extend_from_slice(&[1, 1]);
    ns.extend_from_slice(&src_mac);
    let t = target.octets();
    let mut g = [0u8; 16];
    g[..2].copy_from_slice(&[0xff, 0x02]);
    g[11..13].copy_from_slice(&[0x01, 0xff]);
    g[13..].copy_from_slice(&t[13..]);
    let mac = [0x33, 0x33, 0xff, t[13], t[14], t[15]];
    icmp_frame(mac, src_mac, src, Ipv6Addr::from(g), 255, ns)
}

/// An echo request with 56 bytes of data, as ping sends.
pub fn echo_request(src: Ipv6Addr, dst: Ipv6Addr) -> Vec<u8> {
    let mut m = vec![128, 0, 0, 0, 0x12, 0x34, 0, 1];
    m.extend((0..56u8).map(|i| i.wrapping_mul(7)));
    icmp_frame(OURS, PEER, src, dst, 64, m)
}

pub fn is_echo_reply(f: &[u8]) -> bool {
    f.len() > 54 && f[12..14] == [0x86, 0xdd] && f[20] == 58 && f[54] == 129
}

/// A smoltcp device that hands in `frame` `pending` more times, and counts what is sent
/// into one reused buffer (which keeps the last frame sent).
pub struct Feed<'f> {
    pub frame: &'f [u8],
    pub pending: usize,
    pub sent: usize,
    pub buf: Vec<u8>,
}

impl<'f> Feed<'f> {
    pub fn new(frame: &'f [u8]) -> Self {
        Self {
            frame,
            pending: 0,
            sent: 0,
            buf: Vec::with_capacity(1514),
        }
    }
}

pub struct Rx<'a>(&'a [u8]);

pub struct Tx<'a> {
    buf: &'a mut Vec<u8>,
    sent: &'a mut usize,
}

impl phy::RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.buf.resize(len, 0);
        *self.sent += 1;
        f(&mut self.buf[..len])
    }
}

impl Device for Feed<'_> {
    type RxToken<'a>
        = Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a>
    where
        Self: 'a;

    fn receive(
        &mut self,
        _: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        if self.pending == 0 {
            return None;
        }
        self.pending -= 1;
        Some((
            Rx(self.frame),
            Tx {
                buf: &mut self.buf,
                sent: &mut self.sent,
            },
        ))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(Tx {
            buf: &mut self.buf,
            sent: &mut self.sent,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c
    }
}

/// `n` distinct IPv6 prefixes as (bits, length), drawn from a seeded generator under
/// 2000::/3 with a length mix like the global table's: mostly /48, many /32 to /44, some
/// /29, /56 and /64, a few /128. Prefixes longer than /32 sit inside one of a pool of
/// /32 allocations, as customer prefixes sit inside their provider's block.
pub fn internet_prefixes(n: usize, seed: u64) -> Vec<(u128, u8)> {
    use sixstack_core::rng::Rng;
    let mut rng = Rng::new(seed);
    let random = |rng: &mut Rng| (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
    let global = |bits: u128| (bits >> 3) | (1u128 << 125);
    let mask = |bits: u128, len: u8| match len {
        0 => 0,
        128 => bits,
        l => bits & (u128::MAX << (128 - u32::from(l))),
    };
    let pool: Vec<u128> = (0..(n / 16).max(1))
        .map(|_| mask(global(random(&mut rng)), 32))
        .collect();
    // Per mille of each length.
    let mix: [(u8, u64); 11] = [
        (29, 20),
        (32, 120),
        (36, 40),
        (40, 60),
        (44, 80),
        (48, 550),
        (56, 60),
        (60, 10),
        (64, 50),
        (96, 2),
        (128, 8),
    ];
    let mut seen = std::collections::HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let mut pick = rng.below(1000);
        let len = mix
            .iter()
            .find(|&&(_, w)| {
                let hit = pick < w;
                pick = pick.saturating_sub(w);
                hit
            })
            .map_or(48, |m| m.0);
        let bits = if len <= 32 {
            global(random(&mut rng))
        } else {
            let block = pool[rng.below(pool.len() as u64) as usize];
            block | (random(&mut rng) >> 32)
        };
        let p = (mask(bits, len), len);
        if seen.insert(p) {
            out.push(p);
        }
    }
    out
}

/// A destination inside `prefix`: its bits, the rest random.
pub fn inside(prefix: (u128, u8), random: u128) -> u128 {
    let host = match prefix.1 {
        0 => u128::MAX,
        128 => 0,
        l => u128::MAX >> l,
    };
    prefix.0 | (random & host)
}
