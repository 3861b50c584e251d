//! The Mobility Header of Mobile IPv6 (RFC 6275 §6.1), its messages and options.
//!
//! Field names are tshark 4.0's (`mip6.*`) in the layer Wireshark calls `mipv6`. Where
//! tshark has no field we add as few as we can: `mip6.csum.status` (tshark does not
//! verify this checksum). tshark shows the Care-of Test's keygen token as
//! `mip6.hot.token`, and so do we, so that a filter written for one works on the other.

use sixstack_wire::IpProtocol;
use sixstack_wire::mobility::{
    self, Message, MobilityOption, Packet, RawOption, bu_flag, option_type,
};

use super::{ChecksumStatus, Dissector, IpContext, Layer, Next};

const PROTO: &str = "mipv6";

/// Binding Update flags after A H L K, as later RFCs and tshark name them.
const BU_MORE_FLAGS: [(&str, u16); 6] = [
    ("mip6.bu.m_flag", 0x0800),
    ("mip6.nemo.bu.r_flag", 0x0400),
    ("mip6.bu.p_flag", 0x0200),
    ("mip6.bu.f_flag", 0x0100),
    ("mip6.bu.t_flag", 0x0080),
    ("mip6.bu.b_flag", 0x0040),
];

/// Binding Acknowledgement flags after K.
const BA_MORE_FLAGS: [(&str, u8); 4] = [
    ("mip6.nemo.ba.r_flag", 0x40),
    ("mip6.ba.p_flag", 0x20),
    ("mip6.ba.t_flag", 0x10),
    ("mip6.ba.b_flag", 0x08),
];

pub(super) fn dissect_mobility<'a>(d: &mut Dissector, data: &'a [u8]) -> Next<'a> {
    let p = match Packet::new_lenient(data) {
        Ok(p) => p,
        Err(e) => {
            d.layer(PROTO);
            if d.is_quoted() {
                return Next::Done;
            }
            return d.malformed(PROTO, e.to_string());
        }
    };
    let status = match d.ip {
        Some(IpContext::V6 { src, dst }) if !p.is_truncated() && d.can_verify_upper() => {
            ChecksumStatus::from_verified(p.verify_checksum(&src, &dst))
        }
        _ => ChecksumStatus::Unverified,
    };
    let quoted = d.is_quoted();
    let l = d.layer(PROTO);
    l.uint("mip6.proto", p.payload_proto().0)
        .uint("mip6.hlen", p.header_len())
        .uint("mip6.mhtype", p.mh_type().0)
        .uint("mip6.reserved", p.reserved())
        .checksum("mip6.csum", "mip6.csum.status", p.checksum(), status);

    let t = p.mh_type();
    if let Some(min) = t.options_offset()
        && p.header_len_bytes() < min
    {
        // RFC 6275 §9.2: shorter than the type's fixed fields; nothing more to read.
        l.info(format!(
            "mobility: (header length {} is too small for type {})",
            p.header_len_bytes(),
            t.0
        ));
        return d.malformed(
            PROTO,
            format!(
                "header length {} is too small for message type {}",
                p.header_len_bytes(),
                t.0
            ),
        );
    }
    let message = match Message::parse(t, p.message_data()) {
        Ok(m) => m,
        Err(e) => {
            l.info(format!("mobility: {}", t.abbrev().unwrap_or("?")));
            if quoted {
                return Next::Done;
            }
            return d.malformed(PROTO, e.to_string());
        }
    };
    let summary = message_fields(l, &message, p.header_len());
    l.info(format!("mobility: {summary}"));

    for opt in p.options() {
        let raw = match opt {
            Ok(raw) => raw,
            // Cut by the capture, not by the header: reported as truncation below.
            Err(_) if p.is_truncated() => break,
            Err(e) => return d.malformed(PROTO, e.to_string()),
        };
        if let Err(e) = option_fields(l, &raw) {
            return d.malformed(PROTO, e.to_string());
        }
    }

    if p.is_truncated() {
        if quoted {
            return Next::Done;
        }
        return d.malformed(
            PROTO,
            format!(
                "header length {} exceeds the {} bytes captured",
                p.header_len_bytes(),
                data.len()
            ),
        );
    }
    let rest = p.into_payload();
    // RFC 6275 §6.1.1: 59 (no next header) is what senders use; anything else with
    // bytes after the header is followed (tshark 4.0 ignores it).
    if p.payload_proto() != IpProtocol::NO_NEXT_HEADER && !rest.is_empty() {
        return Next::Ip(p.payload_proto(), rest);
    }
    Next::Done
}

/// Adds the message's fields and returns its tcpdump-style summary.
fn message_fields(l: &mut Layer, m: &Message, hlen: u8) -> String {
    match m {
        Message::BindingRefreshRequest { reserved } => {
            l.bytes("mip6.binding_refresh_request", &reserved.to_be_bytes());
            "BRR".into()
        }
        Message::HomeTestInit {
            home_init_cookie: c,
            ..
        } => {
            l.uint("mip6.hoti.cookie", u64::from_be_bytes(*c));
            "HoTI".into()
        }
        Message::CareOfTestInit {
            care_of_init_cookie: c,
            ..
        } => {
            l.uint("mip6.coti.cookie", u64::from_be_bytes(*c));
            "CoTI".into()
        }
        Message::HomeTest {
            home_nonce_index: i,
            home_init_cookie: c,
            home_keygen_token: k,
        } => {
            l.uint("mip6.hot.nindex", *i)
                .uint("mip6.hot.cookie", u64::from_be_bytes(*c))
                .uint("mip6.hot.token", u64::from_be_bytes(*k));
            format!("HoT nonce id=0x{i:x}")
        }
        Message::CareOfTest {
            care_of_nonce_index: i,
            care_of_init_cookie: c,
            care_of_keygen_token: k,
        } => {
            // tshark 4.0 names this token mip6.hot.token too; there is no mip6.cot.token.
            l.uint("mip6.cot.nindex", *i)
                .uint("mip6.cot.cookie", u64::from_be_bytes(*c))
                .uint("mip6.hot.token", u64::from_be_bytes(*k));
            format!("CoT nonce id=0x{i:x}")
        }
        Message::BindingUpdate {
            sequence,
            flags,
            lifetime,
        } => {
            l.uint("mip6.bu.seqnr", *sequence);
            let mut letters = String::new();
            for (name, bit, letter) in [
                ("mip6.bu.a_flag", bu_flag::A, 'A'),
                ("mip6.bu.h_flag", bu_flag::H, 'H'),
                ("mip6.bu.l_flag", bu_flag::L, 'L'),
                ("mip6.bu.k_flag", bu_flag::K, 'K'),
            ] {
                l.flag(name, flags & bit != 0);
                if flags & bit != 0 {
                    letters.push(letter);
                }
            }
            for (name, bit) in BU_MORE_FLAGS {
                l.flag(name, flags & bit != 0);
            }
            l.uint("mip6.bu.lifetime", *lifetime);
            // The lifetime counts 4-second units (§6.1.7); tcpdump shows seconds.
            let space = if letters.is_empty() { "" } else { " " };
            format!(
                "BU seq#={sequence}{space}{letters} lifetime={}",
                u32::from(*lifetime) * 4
            )
        }
        Message::BindingAcknowledgement {
            status,
            flags,
            sequence,
            lifetime,
        } => {
            l.uint("mip6.ba.status", *status)
                .flag("mip6.ba.k_flag", flags & mobility::BA_FLAG_K != 0);
            for (name, bit) in BA_MORE_FLAGS {
                l.flag(name, flags & bit != 0);
            }
            l.uint("mip6.ba.seqnr", *sequence)
                .uint("mip6.ba.lifetime", *lifetime);
            let k = if flags & mobility::BA_FLAG_K != 0 {
                " K"
            } else {
                ""
            };
            format!(
                "BA status={status}{k} seq#={sequence} lifetime={}",
                u32::from(*lifetime) * 4
            )
        }
        Message::BindingError {
            status,
            home_address,
            ..
        } => {
            l.uint("mip6.be.status", *status)
                .ipv6("mip6.be.haddr", *home_address);
            format!("BE status={status} homeaddr {home_address}")
        }
        Message::Unknown { mh_type, data } => {
            if !data.is_empty() {
                l.bytes("mip6.unknown_type_data", data);
            }
            format!("type-#{mh_type} len={hlen}")
        }
    }
}

/// Adds one option's fields: tshark shows each option as its bytes under the option's
/// protocol name, then its length and values.
fn option_fields(l: &mut Layer, raw: &RawOption<'_>) -> sixstack_wire::Result<()> {
    let name = match raw.option_type {
        option_type::PAD1 => Some("mip6.options.pad1"),
        option_type::PADN => Some("mip6.options.padn"),
        option_type::BINDING_REFRESH_ADVICE => Some("mip6.options.bra"),
        option_type::ALTERNATE_CARE_OF_ADDRESS => Some("mip6.options.acoa"),
        option_type::NONCE_INDICES => Some("mip6.options.ni"),
        option_type::BINDING_AUTHORIZATION_DATA => Some("mip6.options.bad_auth"),
        _ => None,
    };
    match name {
        Some(n) => {
            l.bytes(n, raw.bytes);
        }
        None => {
            l.uint("mip6.mobility_opt", raw.option_type);
        }
    }
    if let Some(len) = raw.option_len() {
        l.uint("mip6.mobility_opt.len", len);
    }
    match MobilityOption::parse(raw)? {
        MobilityOption::PadN(d) if !d.is_empty() => {
            l.bytes("mip6.padn", &d);
        }
        MobilityOption::BindingRefreshAdvice { refresh_interval } => {
            l.uint("mip6.bra.interval", refresh_interval);
        }
        MobilityOption::AlternateCareOfAddress(a) => {
            l.ipv6("mip6.acoa.acoa", a);
        }
        MobilityOption::NonceIndices {
            home_nonce_index,
            care_of_nonce_index,
        } => {
            l.uint("mip6.ni.hni", home_nonce_index)
                .uint("mip6.ni.cni", care_of_nonce_index);
        }
        MobilityOption::BindingAuthorizationData(d) => {
            l.bytes("mip6.bad.auth", &d);
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{LinkType, Value, dissect};
    use super::*;

    /// IPv6 from 2001:db8::1 to 2001:db8::2 carrying a Binding Update, as scapy builds it.
    #[rustfmt::skip]
    const BU_FRAME: [u8; 56] = [
        0x60, 0, 0, 0, 0x00, 0x10, 0x87, 0x40, // IPv6, payload 16, next header 135
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // 2001:db8::2
        0x3b, 0x01, 0x05, 0x00,             // payload proto 59, hlen 1, BU, reserved
        0x92, 0x8a,                         // checksum
        0x00, 0x01,                         // sequence 1
        0xd0, 0x00,                         // A H K
        0x00, 0x64,                         // lifetime 100 (400 s)
        0x01, 0x02, 0x00, 0x00,             // PadN
    ];

    fn mip_layer(frame: &[u8]) -> (Layer, Option<super::super::Malformed>) {
        let (layers, malformed) = dissect(LinkType::IPV6, frame);
        let l = layers.into_iter().find(|l| l.protocol == PROTO).unwrap();
        (l, malformed)
    }

    #[test]
    fn binding_update() {
        let (l, m) = mip_layer(&BU_FRAME);
        assert!(m.is_none());
        assert_eq!(l.get("mip6.csum"), Some(&Value::Uint(0x928a)));
        assert_eq!(l.get("mip6.csum.status"), Some(&Value::Str("good".into())));
        assert_eq!(l.get("mip6.bu.seqnr"), Some(&Value::Uint(1)));
        assert_eq!(l.get("mip6.bu.a_flag"), Some(&Value::Bool(true)));
        assert_eq!(l.get("mip6.bu.l_flag"), Some(&Value::Bool(false)));
        assert_eq!(l.get("mip6.bu.lifetime"), Some(&Value::Uint(100)));
        assert_eq!(
            l.get("mip6.options.padn"),
            Some(&Value::Bytes(vec![1, 2, 0, 0]))
        );
        assert_eq!(l.get("mip6.padn"), Some(&Value::Bytes(vec![0, 0])));
        assert_eq!(l.info, "mobility: BU seq#=1 AHK lifetime=400");
    }

    #[test]
    fn bad_checksum_and_malformed() {
        let mut f = BU_FRAME;
        f[45] ^= 0xff;
        let (l, m) = mip_layer(&f);
        assert!(m.is_none());
        assert_eq!(l.get("mip6.csum.status"), Some(&Value::Str("bad".into())));
        // An option whose length runs past the header.
        let mut f = BU_FRAME;
        f[53] = 0x09;
        let (_, m) = mip_layer(&f);
        assert!(m.unwrap().reason.contains("past the header"));
        // Header Len 0 is too short for a Binding Update (RFC 6275 §9.2).
        let mut f = BU_FRAME;
        f[41] = 0;
        f[5] = 8;
        let (l, m) = mip_layer(&f[..48]);
        assert!(m.is_some());
        assert!(l.get("mip6.bu.seqnr").is_none());
    }

    #[test]
    fn quoted_and_truncated() {
        let mut d = Dissector {
            quoted: 1,
            ip: Some(IpContext::V6 {
                src: "2001:db8::1".parse().unwrap(),
                dst: "2001:db8::2".parse().unwrap(),
            }),
            ..Dissector::default()
        };
        // Cut inside the PadN option: still no complaint inside a quote.
        let next = dissect_mobility(&mut d, &BU_FRAME[40..53]);
        assert!(matches!(next, Next::Done));
        assert!(d.malformed.is_none());
        d.layers.clear();
        let next = dissect_mobility(&mut d, &BU_FRAME[40..50]);
        assert!(matches!(next, Next::Done));
        assert!(d.malformed.is_none());
        let l = &d.layers[0];
        assert_eq!(
            l.get("mip6.csum.status"),
            Some(&Value::Str("unverified".into()))
        );
        assert_eq!(l.get("mip6.bu.seqnr"), None);
        // The same cut outside a quote is malformed.
        d.quoted = 0;
        dissect_mobility(&mut d, &BU_FRAME[40..50]);
        assert!(d.malformed.is_some());
    }

    #[test]
    fn payload_after_header() {
        let mut mh = BU_FRAME[40..].to_vec();
        mh[0] = 58;
        mh.extend_from_slice(&[0x80, 0, 0, 0, 0, 1, 0, 1]);
        let mut d = Dissector::default();
        match dissect_mobility(&mut d, &mh) {
            Next::Ip(p, rest) => assert_eq!((p, rest.len()), (IpProtocol::ICMPV6, 8)),
            other => panic!("{other:?}"),
        }
        // With payload proto 59 what follows is not dissected.
        mh[0] = 59;
        assert!(matches!(dissect_mobility(&mut d, &mh), Next::Done));
    }

    #[test]
    fn never_panics_on_garbage() {
        // Every prefix and every single-octet corruption of a frame with options.
        for cut in 0..BU_FRAME.len() {
            let _ = dissect(LinkType::IPV6, &BU_FRAME[..cut]);
        }
        for i in 40..BU_FRAME.len() {
            for v in [0x00, 0x01, 0x7f, 0xff] {
                let mut f = BU_FRAME;
                f[i] = v;
                let _ = dissect(LinkType::IPV6, &f);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(mh in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
                                       quoted in 0u8..2) {
            let mut f = BU_FRAME[..40].to_vec();
            f[4..6].copy_from_slice(&(mh.len() as u16).to_be_bytes());
            f.extend_from_slice(&mh);
            let _ = dissect(LinkType::IPV6, &f);
            let mut d = Dissector { quoted, ..Dissector::default() };
            let _ = dissect_mobility(&mut d, &mh);
        }
    }
}
