//! Every parser family of sixstack-wire on arbitrary bytes: views never panic, and what a
//! strict view accepts survives parse -> emit -> parse unchanged. The first byte picks
//! the format; the next 32 bytes give the pseudo-header addresses where one is needed.
#![no_main]

use std::net::Ipv6Addr;

use libfuzzer_sys::fuzz_target;
use sixstack_wire::{
    IpProtocol, ah, arp, ethernet, fddi, icmpv4, icmpv6, ipv4, ipv6, ipv6chain, ipv6fragment,
    ipv6opts, ipv6routing, mobility, sll, tcp, udp,
};

/// Emits `$repr` into a buffer of its length and parses it back with `$reparse`.
macro_rules! roundtrip {
    ($repr:expr, $len:expr, |$buf:ident| $emit:expr, |$b:ident| $reparse:expr) => {{
        let repr = $repr;
        let mut $buf = vec![0u8; $len];
        if $emit.is_ok() {
            let $b: &[u8] = &$buf;
            let again = $reparse.expect("what we emit parses again");
            assert_eq!(again, repr, "parse(emit(repr)) != repr");
        }
    }};
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 33 {
        return;
    }
    let sel = data[0];
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&data[1..17]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&data[17..33]).unwrap());
    let b = &data[33..];
    let ph = udp::PseudoHeader::V6 { src, dst };
    match sel % 12 {
        0 => {
            if let Ok(p) = ipv6::Packet::new_checked(b) {
                let r = ipv6::Repr::parse(&p).unwrap();
                roundtrip!(r, ipv6::HEADER_LEN, |buf| r.emit(&mut buf), |x| {
                    ipv6::Packet::new_lenient(x).and_then(|p| ipv6::Repr::parse(&p))
                });
                let chain = ipv6chain::Chain::walk(p.next_header(), p.payload());
                let _ = (chain.is_complete(), chain.upper_layer());
            }
        }
        1 => {
            if let Ok(p) = ipv6opts::Packet::new_checked(b) {
                if let Ok(r) = ipv6opts::Repr::parse(&p) {
                    roundtrip!(r.clone(), r.buffer_len(), |buf| r.emit(&mut buf), |x| {
                        ipv6opts::Packet::new_checked(x).and_then(|p| ipv6opts::Repr::parse(&p))
                    });
                }
            }
        }
        2 => {
            if let Ok(p) = ipv6routing::Packet::new_checked(b) {
                if let Ok(r) = ipv6routing::Repr::parse(&p) {
                    let _ = p.final_destination();
                    roundtrip!(r.clone(), r.buffer_len(), |buf| r.emit(&mut buf), |x| {
                        ipv6routing::Packet::new_checked(x)
                            .and_then(|p| ipv6routing::Repr::parse(&p))
                    });
                }
            }
        }
        3 => {
            if let Ok(p) = ipv6fragment::Packet::new_checked(b) {
                let r = ipv6fragment::Repr::parse(&p).unwrap();
                roundtrip!(r, 8, |buf| r.emit(&mut buf), |x| {
                    ipv6fragment::Packet::new_checked(x).and_then(|p| ipv6fragment::Repr::parse(&p))
                });
            }
            if let Ok(p) = ah::Packet::new_checked(b) {
                if let Ok(r) = ah::Repr::parse(&p) {
                    roundtrip!(r.clone(), r.buffer_len(), |buf| r.emit(&mut buf), |x| {
                        ah::Packet::new_checked(x).and_then(|p| ah::Repr::parse(&p))
                    });
                }
            }
        }
        4 => {
            if let Ok(p) = icmpv6::Packet::new_checked(b) {
                if let Ok(r) = icmpv6::Repr::parse(&p) {
                    let mut buf = vec![0u8; r.buffer_len()];
                    if let Ok(n) = r.emit(&src, &dst, &mut buf) {
                        let q =
                            icmpv6::Packet::new_checked(&buf[..n]).expect("emitted ICMPv6 parses");
                        assert!(q.verify_checksum(&src, &dst), "emitted checksum verifies");
                        assert_eq!(icmpv6::Repr::parse(&q).expect("emitted ICMPv6 parses"), r);
                    }
                }
            }
        }
        5 => {
            if let Ok(p) = udp::Packet::new_checked(b) {
                let _ = p.checksum_verdict(&ph);
                if let Ok(r) = udp::Repr::parse(&p) {
                    let mut buf = b.to_vec();
                    if r.emit(&mut buf, &ph).is_ok() {
                        let q = udp::Packet::new_checked(&buf[..]).expect("emitted UDP parses");
                        assert!(q.verify_checksum(&ph).is_ok());
                    }
                }
            }
        }
        6 => {
            if let Ok(p) = tcp::Packet::new_checked(b) {
                let _ = p.verify_checksum(&ph);
                if let Ok(r) = tcp::Repr::parse(&p) {
                    let mut buf = vec![0u8; r.buffer_len()];
                    if r.emit(&mut buf, &ph).is_ok() {
                        let q = tcp::Packet::new_checked(&buf[..]).expect("emitted TCP parses");
                        assert!(q.verify_checksum(&ph));
                        assert_eq!(tcp::Repr::parse(&q).expect("emitted TCP parses"), r);
                    }
                }
            }
        }
        7 => {
            if let Ok(p) = mobility::Packet::new_checked(b) {
                if let Ok(r) = mobility::Repr::parse(&p) {
                    let mut buf = vec![0u8; r.buffer_len()];
                    if r.emit(&mut buf, &src, &dst).is_ok() {
                        let q = mobility::Packet::new_checked(&buf[..]).expect("emitted MH parses");
                        assert!(q.verify_checksum(&src, &dst));
                        assert_eq!(mobility::Repr::parse(&q).expect("emitted MH parses"), r);
                    }
                }
            }
        }
        8 => {
            if let Ok(p) = ethernet::Packet::new_checked(b) {
                let r = ethernet::Repr::parse(&p).unwrap();
                roundtrip!(r, ethernet::HEADER_LEN, |buf| r.emit(&mut buf), |x| {
                    ethernet::Packet::new_checked(x).and_then(|p| ethernet::Repr::parse(&p))
                });
            }
            let _ = sll::Packet::new_checked(b).and_then(|p| sll::Repr::parse(&p));
            let _ = fddi::Packet::new_checked(b).and_then(|p| fddi::Repr::parse(&p));
        }
        9 => {
            if let Ok(p) = ipv4::Packet::new_checked(b) {
                if let Ok(r) = ipv4::Repr::parse(&p) {
                    roundtrip!(r, r.buffer_len(), |buf| r.emit(&mut buf), |x| {
                        ipv4::Packet::new_lenient(x).and_then(|p| ipv4::Repr::parse(&p))
                    });
                }
            }
        }
        10 => {
            if let Ok(p) = icmpv4::Packet::new_checked(b) {
                if let Ok(r) = icmpv4::Repr::parse(&p) {
                    let mut buf = vec![0u8; r.buffer_len()];
                    if r.emit(&mut buf).is_ok() {
                        let q = icmpv4::Packet::new_checked(&buf[..]).expect("emitted ICMP parses");
                        assert_eq!(icmpv4::Repr::parse(&q).expect("emitted ICMP parses"), r);
                    }
                }
            }
            let _ = arp::Packet::new_checked(b).and_then(|p| arp::Repr::parse(&p));
        }
        _ => {
            if let Some((&first, rest)) = b.split_first() {
                let _ = ipv6chain::Chain::walk(IpProtocol(first), rest);
            }
        }
    }
});
