//! The Internet checksum (RFC 1071) and the pseudo-headers of IPv6 (RFC 8200 §8.1)
//! and IPv4 (RFC 768, RFC 793) that upper-layer checksums cover.
//!
//! The sum is computed in native byte order over 32-bit words, which the compiler
//! vectorises, and turned into network order once at the end (RFC 1071 §2(B)).

use core::net::{Ipv4Addr, Ipv6Addr};

/// A running one's-complement sum. Pieces may have any length, in any number:
/// an odd-length piece shifts the byte alignment of the next one, as if all the
/// pieces were one buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    /// Folded sum of the 16-bit big-endian words seen so far.
    sum: u32,
    /// Whether an odd number of bytes has been added.
    odd: bool,
}

impl Checksum {
    pub const fn new() -> Self {
        Self { sum: 0, odd: false }
    }

    /// The sum that starts with the IPv6 pseudo-header (RFC 8200 §8.1).
    pub fn ipv6_pseudo_header(
        src: &Ipv6Addr,
        dst: &Ipv6Addr,
        upper_layer_length: u32,
        next_header: u8,
    ) -> Self {
        let mut c = Self::new();
        c.add_bytes(&src.octets());
        c.add_bytes(&dst.octets());
        c.add_u32(upper_layer_length);
        c.add_u32(u32::from(next_header));
        c
    }

    /// The sum that starts with the IPv4 pseudo-header (RFC 768).
    pub fn ipv4_pseudo_header(src: &Ipv4Addr, dst: &Ipv4Addr, protocol: u8, length: u16) -> Self {
        let mut c = Self::new();
        c.add_bytes(&src.octets());
        c.add_bytes(&dst.octets());
        c.add_u16(u16::from(protocol));
        c.add_u16(length);
        c
    }

    pub fn add_bytes(&mut self, data: &[u8]) -> &mut Self {
        let mut s = sum_be(data);
        if self.odd {
            s = s.rotate_left(8);
        }
        self.sum = fold32(u64::from(self.sum) + u64::from(s));
        self.odd ^= data.len() % 2 == 1;
        self
    }

    pub fn add_u16(&mut self, v: u16) -> &mut Self {
        self.add_bytes(&v.to_be_bytes())
    }

    pub fn add_u32(&mut self, v: u32) -> &mut Self {
        self.add_bytes(&v.to_be_bytes())
    }

    /// The one's-complement sum, folded to 16 bits (not yet complemented).
    pub fn sum(&self) -> u16 {
        self.sum as u16
    }

    /// The value to write in a checksum field: the complement of the sum.
    pub fn finish(&self) -> u16 {
        !self.sum()
    }

    /// Whether data that includes its own checksum field sums to all ones, i.e. verifies.
    pub fn verifies(&self) -> bool {
        self.sum() == 0xffff
    }
}

/// The checksum of one buffer.
pub fn internet_checksum(data: &[u8]) -> u16 {
    Checksum::new().add_bytes(data).finish()
}

/// Folds a wide one's-complement sum to 16 bits.
#[inline]
fn fold32(mut s: u64) -> u32 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u32
}

/// One's-complement sum of `data` as big-endian 16-bit words, padded with a zero byte
/// when odd, folded to 16 bits.
#[inline]
fn sum_be(data: &[u8]) -> u16 {
    let mut acc: u64 = 0;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        // Unwrap: chunks_exact yields exactly four bytes.
        acc += u64::from(u32::from_ne_bytes(w.try_into().unwrap()));
    }
    let rem = words.remainder();
    if !rem.is_empty() {
        let mut last = [0u8; 4];
        last[..rem.len()].copy_from_slice(rem);
        acc += u64::from(u32::from_ne_bytes(last));
    }
    // The sum of native-order words, folded, is the byte-swapped big-endian sum on a
    // little-endian machine and the sum itself on a big-endian one.
    u16::from_be(fold32(acc) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A plain word-by-word reference, as RFC 1071 §4.1 writes it.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for pair in data.chunks(2) {
            let hi = u32::from(pair[0]) << 8;
            let lo = pair.get(1).map_or(0, |&b| u32::from(b));
            sum += hi | lo;
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Checksum::new().add_bytes(&data).sum(), 0xddf2);
        assert_eq!(internet_checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_pieces_equal_one_buffer() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1001).collect();
        let whole = internet_checksum(&data);
        let mut c = Checksum::new();
        c.add_bytes(&data[..3])
            .add_bytes(&data[3..10])
            .add_bytes(&data[10..]);
        assert_eq!(c.finish(), whole);
        assert_eq!(whole, reference(&data));
    }

    proptest! {
        #[test]
        fn matches_reference(data in proptest::collection::vec(any::<u8>(), 0..3000), cut in 0usize..3000) {
            let cut = cut.min(data.len());
            let mut c = Checksum::new();
            c.add_bytes(&data[..cut]).add_bytes(&data[cut..]);
            prop_assert_eq!(c.finish(), reference(&data));
        }
    }
}
