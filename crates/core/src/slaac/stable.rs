//! Interface identifiers that stay the same while the network does: RFC 7217 stable
//! opaque identifiers (the default), modified EUI-64 from a MAC (RFC 4291 appendix A),
//! and the identifiers no generator may pick (RFC 5453).

use sha2::{Digest, Sha256};
use sixstack_wire::addr::EthernetAddress;

/// RFC 7217 §5: RID = F(Prefix, Net_Iface, Network_ID, DAD_Counter, secret_key) with
/// F = SHA-256; the interface identifier is the first 64 bits of the digest. (The RFC
/// leaves which 64 bits to the implementation; only this node ever computes them.)
pub fn stable_iid(
    prefix: u64,
    net_iface: &[u8],
    network_id: &[u8],
    dad_counter: u32,
    secret_key: &[u8; 32],
) -> [u8; 8] {
    let mut h = Sha256::new();
    h.update(prefix.to_be_bytes());
    // Variable-length inputs carry their length, so that shifting bytes from Net_Iface
    // into Network_ID cannot give the same hash input.
    h.update(len32(net_iface));
    h.update(net_iface);
    h.update(len32(network_id));
    h.update(network_id);
    h.update(dad_counter.to_be_bytes());
    h.update(secret_key);
    first_64(&h.finalize())
}

/// Interface identifiers reserved by RFC 5453 §3 and its IANA registry: the
/// Subnet-Router anycast identifier (all zeros, RFC 4291 §2.6.1), the identifiers that
/// modified EUI-64 gives for the IANA Ethernet block 0200:5EFF:FE00:0000 to
/// 0200:5EFF:FEFF:FFFF (RFC 4291, RFC 6543), and the reserved subnet anycast identifiers
/// FDFF:FFFF:FFFF:FF80 to FDFF:FFFF:FFFF:FFFF (RFC 2526).
pub fn is_reserved_iid(iid: [u8; 8]) -> bool {
    let v = u64::from_be_bytes(iid);
    v == 0
        || (0x0200_5eff_fe00_0000..=0x0200_5eff_feff_ffff).contains(&v)
        || v >= 0xfdff_ffff_ffff_ff80
}

/// The modified EUI-64 identifier of a MAC (RFC 4291 appendix A): hardware-derived, so
/// a duplicate means two interfaces share a MAC (RFC 4862 §5.4.5).
pub fn eui64(mac: [u8; 6]) -> [u8; 8] {
    EthernetAddress(mac).modified_eui64()
}

fn len32(b: &[u8]) -> [u8; 4] {
    u32::try_from(b.len()).unwrap_or(u32::MAX).to_be_bytes()
}

/// The first eight bytes of a SHA-256 digest (which always has 32).
pub(super) fn first_64(digest: &[u8]) -> [u8; 8] {
    let mut iid = [0u8; 8];
    for (o, d) in iid.iter_mut().zip(digest) {
        *o = *d;
    }
    iid
}
