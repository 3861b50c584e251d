//! Neighbor Discovery messages (RFC 4861 §4), with the Home Agent flag of RFC 6275 §7.1
//! and the Default Router Preference of RFC 4191 §2.2.
//!
//! ```text
//! Router Solicitation (133)           Router Advertisement (134)
//! +-------+-------+---------------+   +-------+-------+---------------+
//! | Type  | Code  |   Checksum    |   | Type  | Code  |   Checksum    |
//! +-------+-------+---------------+   +-------+-------+---------------+
//! |           Reserved            |   |CurHop |M|O|H|Prf|P|R| Lifetime|
//! +-------------------------------+   +-------+-------+---------------+
//! | Options ...                       |        Reachable Time         |
//!                                     +-------------------------------+
//!                                     |        Retrans Timer          |
//!                                     +-------------------------------+
//!                                     | Options ...
//!
//! Neighbor Solicitation (135)         Neighbor Advertisement (136)
//! +-------+-------+---------------+   +-------+-------+---------------+
//! | Type  | Code  |   Checksum    |   | Type  | Code  |   Checksum    |
//! +-------+-------+---------------+   +-------+-------+---------------+
//! |           Reserved            |   |R|S|O|        Reserved         |
//! +-------------------------------+   +-------------------------------+
//! |      Target Address (128)     |   |      Target Address (128)     |
//! +-------------------------------+   +-------------------------------+
//! | Options ...                       | Options ...
//!
//! Redirect (137): Type, Code, Checksum, Reserved (32), Target Address (128),
//! Destination Address (128), Options ...
//! ```
//!
//! The messages are ICMPv6 messages: this module adds accessors to
//! [`icmpv6::Packet`](crate::icmpv6::Packet) and its [`Repr`] is one arm of
//! [`icmpv6::Repr`](crate::icmpv6::Repr). Options are kept as their checked bytes; walk
//! them with [`ndiscopt::Iter`].

use core::net::Ipv6Addr;

use crate::error::{ErrorKind, Result};
use crate::icmpv6::{self, Message, Packet, bad, need_len};
use crate::ndiscopt::{self, Preference};

mod field {
    pub const RA_CUR_HOP_LIMIT: usize = 4;
    pub const RA_FLAGS: usize = 5;
    pub const RA_ROUTER_LIFETIME: usize = 6;
    pub const RA_REACHABLE_TIME: usize = 8;
    pub const RA_RETRANS_TIMER: usize = 12;
    pub const RA_OPTIONS: usize = 16;
    pub const NA_FLAGS: usize = 4;
    pub const TARGET: usize = 8;
    pub const NS_OPTIONS: usize = 24;
    pub const REDIRECT_DEST: usize = 24;
    pub const REDIRECT_OPTIONS: usize = 40;
    pub const RS_OPTIONS: usize = 8;
}

pub const RS_LEN: usize = field::RS_OPTIONS;
pub const RA_LEN: usize = field::RA_OPTIONS;
pub const NS_LEN: usize = field::NS_OPTIONS;
pub const NA_LEN: usize = field::NS_OPTIONS;
pub const REDIRECT_LEN: usize = field::REDIRECT_OPTIONS;

/// Router Advertisement flags (RFC 4861 §4.2, RFC 6275 §7.1, RFC 4191 §2.2).
pub mod router_flags {
    pub const MANAGED: u8 = 0x80;
    pub const OTHER: u8 = 0x40;
    pub const HOME_AGENT: u8 = 0x20;
    /// The two Prf bits (RFC 4191 §2.2).
    pub const PRF_MASK: u8 = 0x18;
    /// The Proxy bit (RFC 4389 §4.1.3.3).
    pub const PROXY: u8 = 0x04;
}

/// Neighbor Advertisement flags: the top byte of the flags word (RFC 4861 §4.4).
pub mod neighbor_flags {
    pub const ROUTER: u8 = 0x80;
    pub const SOLICITED: u8 = 0x40;
    pub const OVERRIDE: u8 = 0x20;
}

/// The RFC 4191 preference in a Router Advertisement's flags byte.
pub const fn router_preference(flags: u8) -> Preference {
    Preference::from_bits(flags >> 3)
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn cur_hop_limit(&self) -> u8 {
        self.read::<1>(field::RA_CUR_HOP_LIMIT)[0]
    }

    /// The Router Advertisement flags byte (see [`router_flags`]).
    pub fn router_flags(&self) -> u8 {
        self.read::<1>(field::RA_FLAGS)[0]
    }

    /// Seconds; zero means "not a default router" (RFC 4861 §4.2).
    pub fn router_lifetime(&self) -> u16 {
        self.read_u16(field::RA_ROUTER_LIFETIME)
    }

    /// Milliseconds; zero means unspecified.
    pub fn reachable_time(&self) -> u32 {
        self.read_u32(field::RA_REACHABLE_TIME)
    }

    /// Milliseconds; zero means unspecified.
    pub fn retrans_time(&self) -> u32 {
        self.read_u32(field::RA_RETRANS_TIMER)
    }

    /// The Neighbor Advertisement flags word: R, S, O and 29 reserved bits.
    pub fn neighbor_flags_word(&self) -> u32 {
        self.read_u32(field::NA_FLAGS)
    }

    /// The Neighbor Advertisement flags byte (see [`neighbor_flags`]).
    pub fn neighbor_flags(&self) -> u8 {
        self.read::<1>(field::NA_FLAGS)[0]
    }

    /// Neighbor Solicitation / Advertisement and Redirect: the target address.
    pub fn target_addr(&self) -> Ipv6Addr {
        self.read_addr(field::TARGET)
    }

    /// Redirect: the destination address.
    pub fn dest_addr(&self) -> Ipv6Addr {
        self.read_addr(field::REDIRECT_DEST)
    }

    /// Where the options of this ND message start, or `None` for other messages.
    pub fn ndisc_options_offset(&self) -> Option<usize> {
        Some(match self.msg_type() {
            Message::ROUTER_SOLICIT => field::RS_OPTIONS,
            Message::ROUTER_ADVERT => field::RA_OPTIONS,
            Message::NEIGHBOR_SOLICIT | Message::NEIGHBOR_ADVERT => field::NS_OPTIONS,
            Message::REDIRECT => field::REDIRECT_OPTIONS,
            _ => return None,
        })
    }
}

impl<'a> Packet<&'a [u8]> {
    /// The option area of an ND message (empty for other messages or when cut short).
    pub fn into_ndisc_options(self) -> &'a [u8] {
        match self.ndisc_options_offset() {
            Some(at) => self.into_tail(at),
            None => &[],
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn write(&mut self, at: usize, bytes: &[u8]) {
        self.buffer.as_mut()[at..at + bytes.len()].copy_from_slice(bytes);
    }

    pub fn set_cur_hop_limit(&mut self, v: u8) {
        self.write(field::RA_CUR_HOP_LIMIT, &[v]);
    }

    pub fn set_router_flags(&mut self, v: u8) {
        self.write(field::RA_FLAGS, &[v]);
    }

    pub fn set_router_lifetime(&mut self, v: u16) {
        self.write(field::RA_ROUTER_LIFETIME, &v.to_be_bytes());
    }

    pub fn set_reachable_time(&mut self, v: u32) {
        self.write(field::RA_REACHABLE_TIME, &v.to_be_bytes());
    }

    pub fn set_retrans_time(&mut self, v: u32) {
        self.write(field::RA_RETRANS_TIMER, &v.to_be_bytes());
    }

    /// Sets the flags byte and clears the reserved bits after it.
    pub fn set_neighbor_flags(&mut self, v: u8) {
        self.write(
            field::NA_FLAGS,
            &u32::from(v).wrapping_shl(24).to_be_bytes(),
        );
    }

    pub fn set_target_addr(&mut self, a: Ipv6Addr) {
        self.write(field::TARGET, &a.octets());
    }

    pub fn set_dest_addr(&mut self, a: Ipv6Addr) {
        self.write(field::REDIRECT_DEST, &a.octets());
    }
}

/// A Neighbor Discovery message as values. `options` is the checked option area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repr<'a> {
    RouterSolicit {
        options: &'a [u8],
    },
    RouterAdvert {
        cur_hop_limit: u8,
        /// M, O, H, Prf, P and the reserved bits, as sent (see [`router_flags`]).
        flags: u8,
        router_lifetime: u16,
        reachable_time: u32,
        retrans_time: u32,
        options: &'a [u8],
    },
    NeighborSolicit {
        target_addr: Ipv6Addr,
        options: &'a [u8],
    },
    NeighborAdvert {
        /// R, S, O (see [`neighbor_flags`]); the reserved bits are sent as zero.
        flags: u8,
        target_addr: Ipv6Addr,
        options: &'a [u8],
    },
    Redirect {
        target_addr: Ipv6Addr,
        dest_addr: Ipv6Addr,
        options: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Parses an ND message: its fixed part present, code 0 and every option valid
    /// (RFC 4861 §6.1, §7.1, §8.1: otherwise the message MUST be discarded). Hop limit
    /// 255 is the caller's to check: it is in the IPv6 header.
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Self> {
        let Some(at) = p.ndisc_options_offset() else {
            return Err(bad(
                ErrorKind::BadValue,
                0,
                "not a Neighbor Discovery message",
            ));
        };
        need_len(p.bytes(), at)?;
        if p.msg_code() != 0 {
            return Err(bad(ErrorKind::BadValue, 1, "ICMP code is not 0"));
        }
        let options = p.into_ndisc_options();
        ndiscopt::validate(options).map_err(|e| e.at(at))?;
        Ok(match p.msg_type() {
            Message::ROUTER_SOLICIT => Repr::RouterSolicit { options },
            Message::ROUTER_ADVERT => Repr::RouterAdvert {
                cur_hop_limit: p.cur_hop_limit(),
                flags: p.router_flags(),
                router_lifetime: p.router_lifetime(),
                reachable_time: p.reachable_time(),
                retrans_time: p.retrans_time(),
                options,
            },
            Message::NEIGHBOR_SOLICIT => Repr::NeighborSolicit {
                target_addr: p.target_addr(),
                options,
            },
            Message::NEIGHBOR_ADVERT => Repr::NeighborAdvert {
                flags: p.neighbor_flags(),
                target_addr: p.target_addr(),
                options,
            },
            _ => Repr::Redirect {
                target_addr: p.target_addr(),
                dest_addr: p.dest_addr(),
                options,
            },
        })
    }

    pub fn msg_type(&self) -> Message {
        match self {
            Repr::RouterSolicit { .. } => Message::ROUTER_SOLICIT,
            Repr::RouterAdvert { .. } => Message::ROUTER_ADVERT,
            Repr::NeighborSolicit { .. } => Message::NEIGHBOR_SOLICIT,
            Repr::NeighborAdvert { .. } => Message::NEIGHBOR_ADVERT,
            Repr::Redirect { .. } => Message::REDIRECT,
        }
    }

    pub fn options(&self) -> &'a [u8] {
        match self {
            Repr::RouterSolicit { options }
            | Repr::RouterAdvert { options, .. }
            | Repr::NeighborSolicit { options, .. }
            | Repr::NeighborAdvert { options, .. }
            | Repr::Redirect { options, .. } => options,
        }
    }

    /// The options, parsed one by one.
    pub fn options_iter(&self) -> impl Iterator<Item = Result<ndiscopt::Repr<'a>>> + use<'a> {
        ndiscopt::Iter::new(self.options()).map(|o| o.and_then(|o| ndiscopt::Repr::parse(&o)))
    }

    fn fixed_len(&self) -> usize {
        match self {
            Repr::RouterSolicit { .. } => RS_LEN,
            Repr::RouterAdvert { .. } => RA_LEN,
            Repr::NeighborSolicit { .. } => NS_LEN,
            Repr::NeighborAdvert { .. } => NA_LEN,
            Repr::Redirect { .. } => REDIRECT_LEN,
        }
    }

    /// The whole ICMPv6 message's length.
    pub fn buffer_len(&self) -> usize {
        self.fixed_len() + self.options().len()
    }

    /// Writes everything after type, code and checksum into a zeroed, exactly sized
    /// message buffer (see [`icmpv6::Repr::emit`]).
    pub(crate) fn emit_body(&self, buf: &mut [u8]) -> Result<()> {
        need_len(buf, self.buffer_len())?;
        let mut p = Packet::new_unchecked(&mut *buf);
        match *self {
            Repr::RouterSolicit { .. } => {}
            Repr::RouterAdvert {
                cur_hop_limit,
                flags,
                router_lifetime,
                reachable_time,
                retrans_time,
                ..
            } => {
                p.set_cur_hop_limit(cur_hop_limit);
                p.set_router_flags(flags);
                p.set_router_lifetime(router_lifetime);
                p.set_reachable_time(reachable_time);
                p.set_retrans_time(retrans_time);
            }
            Repr::NeighborSolicit { target_addr, .. } => p.set_target_addr(target_addr),
            Repr::NeighborAdvert {
                flags, target_addr, ..
            } => {
                p.set_neighbor_flags(flags);
                p.set_target_addr(target_addr);
            }
            Repr::Redirect {
                target_addr,
                dest_addr,
                ..
            } => {
                p.set_target_addr(target_addr);
                p.set_dest_addr(dest_addr);
            }
        }
        let at = self.fixed_len();
        buf[at..at + self.options().len()].copy_from_slice(self.options());
        Ok(())
    }
}

impl<'a> From<Repr<'a>> for icmpv6::Repr<'a> {
    fn from(r: Repr<'a>) -> Self {
        icmpv6::Repr::Ndisc(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const DST: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

    #[rustfmt::skip]
    const RA: [u8; 32] = [
        0x86, 0x00, 0x00, 0x00,             // router advertisement, code 0, checksum
        0x40,                               // cur hop limit 64
        0xe8,                               // M O H, preference high (01)
        0x07, 0x08,                         // router lifetime 1800
        0x00, 0x00, 0x75, 0x30,             // reachable time 30000
        0x00, 0x00, 0x03, 0xe8,             // retrans timer 1000
        0x01, 0x01, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, // source link-layer address
        0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x05, 0xdc, // MTU 1500
    ];

    #[rustfmt::skip]
    const NA: [u8; 24] = [
        0x88, 0x00, 0x00, 0x00,             // neighbor advertisement, code 0, checksum
        0xc0, 0x00, 0x00, 0x00,             // R S
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // target 2001:db8::2
    ];

    #[test]
    fn parse_ra() {
        let p = Packet::new_checked(&RA[..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Repr::RouterAdvert {
                cur_hop_limit: 64,
                flags: 0xe8,
                router_lifetime: 1800,
                reachable_time: 30000,
                retrans_time: 1000,
                options: &RA[16..],
            }
        );
        assert_eq!(router_preference(p.router_flags()), Preference::High);
        let opts: Vec<_> = r.options_iter().map(|o| o.unwrap()).collect();
        assert_eq!(
            opts,
            [
                ndiscopt::Repr::SourceLinkLayerAddr(&RA[18..24]),
                ndiscopt::Repr::Mtu(1500)
            ]
        );
    }

    #[test]
    fn parse_na_and_refusals() {
        let p = Packet::new_checked(&NA[..]).unwrap();
        assert_eq!(
            p.neighbor_flags(),
            neighbor_flags::ROUTER | neighbor_flags::SOLICITED
        );
        assert_eq!(p.target_addr(), "2001:db8::2".parse::<Ipv6Addr>().unwrap());
        assert!(Packet::new_checked(&NA[..23]).is_err());
        let mut code = NA;
        code[1] = 1;
        assert!(Repr::parse(&Packet::new_checked(&code[..]).unwrap()).is_err());
        let mut zero_opt = RA;
        zero_opt[17] = 0;
        let e = Repr::parse(&Packet::new_checked(&zero_opt[..]).unwrap()).unwrap_err();
        assert_eq!((e.kind, e.offset), (ErrorKind::BadOption, 17));
    }

    proptest! {
        #[test]
        fn emit_parse_identity(kind in 0u8..5, a: u8, b: u16, c: u32, d: u32,
                               t: [u8; 16], u: [u8; 16], nopts in 0usize..3) {
            let mut opts = vec![0u8; 8 * nopts];
            for (i, o) in opts.chunks_mut(8).enumerate() {
                ndiscopt::Repr::Mtu(c.wrapping_add(i as u32)).emit(o).unwrap();
            }
            let r = match kind {
                0 => Repr::RouterSolicit { options: &opts },
                1 => Repr::RouterAdvert { cur_hop_limit: a, flags: b as u8, router_lifetime: b,
                                          reachable_time: c, retrans_time: d, options: &opts },
                2 => Repr::NeighborSolicit { target_addr: t.into(), options: &opts },
                3 => Repr::NeighborAdvert { flags: a & 0xe0, target_addr: t.into(), options: &opts },
                _ => Repr::Redirect { target_addr: t.into(), dest_addr: u.into(), options: &opts },
            };
            let whole = icmpv6::Repr::from(r);
            let mut buf = vec![0u8; whole.buffer_len()];
            whole.emit(&SRC, &DST, &mut buf).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum(&SRC, &DST));
            prop_assert_eq!(icmpv6::Repr::parse(&p).unwrap(), whole);
        }

        #[test]
        fn never_panics(t in 0x85u8..0x8a, data in proptest::collection::vec(any::<u8>(), 0..120)) {
            let mut data = data;
            if let Some(b) = data.first_mut() {
                *b = t;
            }
            if let Ok(p) = Packet::new_lenient(&data[..]) {
                let _ = (p.cur_hop_limit(), p.router_flags(), p.router_lifetime(), p.reachable_time(),
                         p.retrans_time(), p.neighbor_flags_word(), p.target_addr(), p.dest_addr());
                let _ = Repr::parse(&p);
                let _ = p.into_ndisc_options();
            }
        }
    }
}
