//! Walking the extension header chain of an IPv6 packet (RFC 8200 §4) to the
//! upper-layer header.
//!
//! ```text
//! +-------------+----------------+----------------+----------+-------------------
//! | IPv6 header | Hop-by-Hop     | Routing        | Fragment | upper-layer header
//! | NH = 0      | NH = 43        | NH = 44        | NH = 6   | (TCP)
//! +-------------+----------------+----------------+----------+-------------------
//!               ^ offset 0 of the payload the walker is given
//! ```
//!
//! The walker reads only each header's next header and length, so it serves the
//! stack's input path, its RFC 7112 check that a first fragment holds the whole chain,
//! and any tool that needs to find the upper layer. ESP ends the walk: what follows it
//! is encrypted. A fragment with a non-zero offset ends it too: what follows its
//! header is fragment data, not headers.

use crate::error::{Error, ErrorKind, Result, need};
use crate::proto::IpProtocol;

const PROTO: &str = "ipv6";

/// More extension headers than this is an attack, not a packet (each kind appears
/// at most once or twice, RFC 8200 §4.1).
pub const MAX_HEADERS: usize = 16;

/// Whether `p` is an IPv6 extension header that the walk goes through: the IANA
/// "IPv6 Extension Header Types" registry (RFC 7045), without ESP.
pub const fn is_extension_header(p: IpProtocol) -> bool {
    // 0 HBH, 43 Routing, 44 Fragment, 51 AH, 60 DestOpts, 135 Mobility, 139 HIP,
    // 140 Shim6, 253/254 experiments (RFC 3692).
    matches!(p.0, 0 | 43 | 44 | 51 | 60 | 135 | 139 | 140 | 253 | 254)
}

/// The Wireshark name of an extension header, for errors.
const fn proto_name(p: IpProtocol) -> &'static str {
    match p.0 {
        0 => "ipv6.hopopts",
        43 => "ipv6.routing",
        44 => "ipv6.fraghdr",
        51 => "ah",
        60 => "ipv6.dstopts",
        135 => "mipv6",
        _ => PROTO,
    }
}

/// One extension header: its type, where it starts in the payload, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtHeader {
    pub header_type: IpProtocol,
    pub offset: usize,
    pub len: usize,
    /// The next header value it carries.
    pub next_header: IpProtocol,
}

/// How a complete walk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainEnd {
    /// The upper-layer header (or No Next Header, or ESP) starts at `offset`.
    UpperLayer { protocol: IpProtocol, offset: usize },
    /// A fragment that is not the first: from `offset` on is fragment data, which
    /// continues the chain with `next_header` only after reassembly.
    FragmentData {
        next_header: IpProtocol,
        offset: usize,
    },
}

/// Yields the extension headers in order; ends after the last one, or after the
/// first error (a header cut short, or more than the limit).
#[derive(Debug, Clone)]
pub struct Walker<'a> {
    payload: &'a [u8],
    next: IpProtocol,
    offset: usize,
    count: usize,
    limit: usize,
    end: Option<ChainEnd>,
    done: bool,
}

impl<'a> Walker<'a> {
    /// Walks `payload` (what follows the IPv6 fixed header), whose first header is `first`
    /// (the fixed header's next header).
    pub fn new(first: IpProtocol, payload: &'a [u8]) -> Self {
        Self::with_limit(first, payload, MAX_HEADERS)
    }

    pub fn with_limit(first: IpProtocol, payload: &'a [u8], limit: usize) -> Self {
        Self {
            payload,
            next: first,
            offset: 0,
            count: 0,
            limit,
            end: None,
            done: false,
        }
    }

    /// How the walk ended; `None` while it goes on or after an error.
    pub fn end(&self) -> Option<ChainEnd> {
        self.end
    }

    #[inline]
    fn step(&mut self) -> Result<Option<ExtHeader>> {
        let header_type = self.next;
        if !is_extension_header(header_type) {
            self.end = Some(ChainEnd::UpperLayer {
                protocol: header_type,
                offset: self.offset,
            });
            return Ok(None);
        }
        let name = proto_name(header_type);
        if self.count >= self.limit {
            return Err(Error::new(
                name,
                ErrorKind::TooDeep,
                self.offset,
                "too many extension headers",
            ));
        }
        let rest = &self.payload[self.offset.min(self.payload.len())..];
        let truncated = |e: Error| e.at(self.offset);
        let len = match header_type {
            IpProtocol::FRAGMENT => 8,
            IpProtocol::AH => {
                need(name, rest, 2).map_err(truncated)?;
                let len = (usize::from(rest[1]) + 2) * 4;
                if len < 12 {
                    return Err(Error::new(
                        name,
                        ErrorKind::BadLength,
                        self.offset + 1,
                        "AH shorter than its fixed fields",
                    ));
                }
                len
            }
            _ => {
                need(name, rest, 2).map_err(truncated)?;
                (usize::from(rest[1]) + 1) * 8
            }
        };
        need(name, rest, len).map_err(truncated)?;
        let h = ExtHeader {
            header_type,
            offset: self.offset,
            len,
            next_header: IpProtocol(rest[0]),
        };
        self.count += 1;
        self.offset += len;
        self.next = h.next_header;
        // The offset field is the high 13 bits of bytes 2 and 3.
        if header_type == IpProtocol::FRAGMENT && (rest[2] != 0 || rest[3] & 0xf8 != 0) {
            self.end = Some(ChainEnd::FragmentData {
                next_header: h.next_header,
                offset: self.offset,
            });
            self.done = true;
        }
        Ok(Some(h))
    }
}

impl Iterator for Walker<'_> {
    type Item = Result<ExtHeader>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(h)) => Some(Ok(h)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// The outcome of a whole walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chain {
    /// How many extension headers were walked.
    pub headers: usize,
    /// The fragment header, if one was met.
    pub fragment: Option<ExtHeader>,
    /// Where the walk ended, or why it could not.
    pub end: Result<ChainEnd>,
}

impl Chain {
    #[inline]
    pub fn walk(first: IpProtocol, payload: &[u8]) -> Self {
        let mut w = Walker::new(first, payload);
        let mut headers = 0;
        let mut fragment = None;
        for r in w.by_ref() {
            match r {
                Ok(h) => {
                    headers += 1;
                    if h.header_type == IpProtocol::FRAGMENT {
                        fragment = Some(h);
                    }
                }
                Err(e) => {
                    return Self {
                        headers,
                        fragment,
                        end: Err(e),
                    };
                }
            }
        }
        // The walker ends with `end` set unless it stopped on an error, returned above.
        let end = w.end().ok_or(Error::new(
            PROTO,
            ErrorKind::BadValue,
            0,
            "walk ended without an end",
        ));
        Self {
            headers,
            fragment,
            end,
        }
    }

    /// Whether every header through the start of the upper-layer header is in the
    /// packet (RFC 7112 §5 has a first fragment without that discarded). A non-first
    /// fragment counts as complete: its chain was in the first fragment.
    pub fn is_complete(&self) -> bool {
        self.end.is_ok()
    }

    /// Whether the walk ran off the end of the packet.
    pub fn is_truncated(&self) -> bool {
        matches!(
            self.end,
            Err(Error {
                kind: ErrorKind::Truncated { .. },
                ..
            })
        )
    }

    /// The upper-layer protocol and where its header starts.
    pub fn upper_layer(&self) -> Option<(IpProtocol, usize)> {
        match self.end {
            Ok(ChainEnd::UpperLayer { protocol, offset }) => Some((protocol, offset)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[rustfmt::skip]
    const CHAIN: [u8; 52] = [
        // Hop-by-Hop: next 60 (dst opts), len 0, PadN 4
        0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        // Destination Options: next 43 (routing), len 0, PadN 4
        0x2b, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
        // Routing: next 44 (fragment), len 2, type 0, segments left 1, reserved
        0x2c, 0x02, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a,
        // Fragment: next 58, offset 0, M clear, identification 1
        0x3a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        // ICMPv6 echo request
        0x80, 0x00, 0x24, 0x40,
    ];

    #[test]
    fn walk_chain() {
        let hs: Vec<_> = Walker::new(IpProtocol::HOPOPTS, &CHAIN)
            .map(|r| r.unwrap())
            .collect::<Vec<_>>();
        let summary: Vec<_> = hs
            .iter()
            .map(|h| (h.header_type.0, h.offset, h.len))
            .collect();
        assert_eq!(summary, [(0, 0, 8), (60, 8, 8), (43, 16, 24), (44, 40, 8)]);
        let c = Chain::walk(IpProtocol::HOPOPTS, &CHAIN);
        assert_eq!(c.headers, 4);
        assert!(c.is_complete());
        assert_eq!(c.upper_layer(), Some((IpProtocol::ICMPV6, 48)));
        assert_eq!(c.fragment.map(|f| f.offset), Some(40));
    }

    #[test]
    fn truncated_and_fragments() {
        // Cut in the routing header: the chain is not whole (RFC 7112).
        let c = Chain::walk(IpProtocol::HOPOPTS, &CHAIN[..30]);
        assert!(!c.is_complete() && c.is_truncated());
        let e = c.end.unwrap_err();
        assert_eq!((e.protocol, e.offset), ("ipv6.routing", 30));
        // A non-first fragment ends the walk at its data.
        let mut later = CHAIN;
        later[42] = 0x04;
        let c = Chain::walk(IpProtocol::HOPOPTS, &later);
        assert_eq!(
            c.end,
            Ok(ChainEnd::FragmentData {
                next_header: IpProtocol::ICMPV6,
                offset: 48
            })
        );
        assert_eq!(c.upper_layer(), None);
        // No extension headers at all.
        let c = Chain::walk(IpProtocol::TCP, &[]);
        assert_eq!(c.upper_layer(), Some((IpProtocol::TCP, 0)));
        // ESP ends the walk.
        let c = Chain::walk(IpProtocol::ESP, &[0; 16]);
        assert_eq!(c.upper_layer(), Some((IpProtocol::ESP, 0)));
    }

    #[test]
    fn bounded() {
        // Destination options pointing to themselves, over and over.
        let many = [0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00].repeat(40);
        let c = Chain::walk(IpProtocol::DSTOPTS, &many);
        assert_eq!(c.headers, MAX_HEADERS);
        assert_eq!(c.end.unwrap_err().kind, ErrorKind::TooDeep);
        // AH with a length below its fixed part.
        let c = Chain::walk(IpProtocol::AH, &[0x3a, 0x00, 0, 0, 0, 0, 0, 0]);
        assert_eq!(c.end.unwrap_err().kind, ErrorKind::BadLength);
    }

    proptest! {
        #[test]
        fn never_panics(first: u8, data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let c = Chain::walk(IpProtocol(first), &data);
            prop_assert!(c.headers <= MAX_HEADERS);
            if let Some((_, off)) = c.upper_layer() {
                prop_assert!(off <= data.len());
            }
            for h in Walker::new(IpProtocol(first), &data).flatten() {
                prop_assert!(h.offset + h.len <= data.len());
            }
        }
    }
}
