//! A minimal DNS client message codec (RFC 1035): a query for one name's AAAA records
//! (RFC 3596, QTYPE 28, QCLASS IN), and the parse of the reply's answer section with
//! name compression (§4.1.4). Bounded: a reply larger than [`MAX_MESSAGE`] is refused,
//! compression pointers may only go backwards and at most [`MAX_POINTERS`] times, and
//! a name is at most 255 octets, so hostile input ends in an error, never a loop or panic.

use std::net::Ipv6Addr;

/// The UDP message size without EDNS (RFC 1035 §2.3.4); we ask for nothing larger,
/// but accept up to 4096 octets from servers that send more.
pub const MAX_MESSAGE: usize = 4096;
/// The most compression pointers followed in one name.
pub const MAX_POINTERS: usize = 32;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_CNAME: u16 = 5;
pub const CLASS_IN: u16 = 1;
const HEADER_LEN: usize = 12;
const MAX_NAME: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsError {
    /// The name cannot go into a query (empty label, label over 63, name over 255).
    BadName,
    /// The message is truncated, too large or malformed.
    Malformed(&'static str),
    /// Not a reply to our query (id, flags or question differ): ignore it.
    NotOurs,
    /// The server answered with an error RCODE (3: the name does not exist).
    Rcode(u8),
    /// The reply was truncated (TC) and we do not retry over TCP.
    Truncated,
}

impl std::fmt::Display for DnsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DnsError::BadName => write!(f, "not a valid DNS name"),
            DnsError::Malformed(w) => write!(f, "malformed DNS reply: {w}"),
            DnsError::NotOurs => write!(f, "not a reply to our query"),
            DnsError::Rcode(3) => write!(f, "the name does not exist (NXDOMAIN)"),
            DnsError::Rcode(2) => write!(f, "the server failed (SERVFAIL)"),
            DnsError::Rcode(5) => write!(f, "the server refused the query (REFUSED)"),
            DnsError::Rcode(r) => write!(f, "the server answered with RCODE {r}"),
            DnsError::Truncated => write!(f, "the reply was truncated (TC) and TCP is not used"),
        }
    }
}

/// The name's labels in wire form, with the root label at the end.
fn encode_name(name: &str) -> Result<Vec<u8>, DnsError> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() {
        return Err(DnsError::BadName);
    }
    let mut out = Vec::with_capacity(name.len() + 2);
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(DnsError::BadName);
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    if out.len() > MAX_NAME {
        return Err(DnsError::BadName);
    }
    Ok(out)
}

/// A recursive query (RD set) for `name`'s AAAA records with the given id.
pub fn build_query(id: u16, name: &str) -> Result<Vec<u8>, DnsError> {
    let qname = encode_name(name)?;
    let mut m = Vec::with_capacity(HEADER_LEN + qname.len() + 4);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00]); // QR=0, OPCODE=0, RD=1
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QDCOUNT=1
    m.extend_from_slice(&qname);
    m.extend_from_slice(&TYPE_AAAA.to_be_bytes());
    m.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(m)
}

fn u16_at(m: &[u8], at: usize) -> Result<u16, DnsError> {
    m.get(at..at + 2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .ok_or(DnsError::Malformed("truncated"))
}

/// Reads the (possibly compressed) name at `at`: its lower-cased dotted form and the
/// offset just past it in the message.
fn read_name(m: &[u8], mut at: usize) -> Result<(String, usize), DnsError> {
    let mut name = String::new();
    let mut end = None;
    let mut pointers = 0;
    let mut wire_len = 1;
    loop {
        let len = *m
            .get(at)
            .ok_or(DnsError::Malformed("name runs past the end"))?;
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Ok((name, end.unwrap_or(at + 1)));
                }
                let l = usize::from(len);
                let label = m
                    .get(at + 1..at + 1 + l)
                    .ok_or(DnsError::Malformed("label runs past the end"))?;
                wire_len += l + 1;
                if wire_len > MAX_NAME {
                    return Err(DnsError::Malformed("name longer than 255 octets"));
                }
                if !name.is_empty() {
                    name.push('.');
                }
                for &b in label {
                    name.push(char::from(b.to_ascii_lowercase()));
                }
                at += 1 + l;
            }
            0xc0 => {
                let target = usize::from(u16_at(m, at)? & 0x3fff);
                // Only backwards, and a bounded number of times: no loops.
                if target >= at {
                    return Err(DnsError::Malformed("compression pointer not backwards"));
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(DnsError::Malformed("too many compression pointers"));
                }
                if end.is_none() {
                    end = Some(at + 2);
                }
                at = target;
            }
            _ => return Err(DnsError::Malformed("unknown label type")),
        }
    }
}

fn canonical(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

/// The AAAA addresses a reply gives `name` (following CNAMEs within the answer), in
/// answer order, without repeats. The reply must carry our id, be a response, and
/// repeat our question.
pub fn parse_reply(m: &[u8], id: u16, name: &str) -> Result<Vec<Ipv6Addr>, DnsError> {
    if m.len() < HEADER_LEN {
        return Err(DnsError::Malformed("shorter than a header"));
    }
    if m.len() > MAX_MESSAGE {
        return Err(DnsError::Malformed("larger than 4096 octets"));
    }
    if u16_at(m, 0)? != id {
        return Err(DnsError::NotOurs);
    }
    let flags = u16_at(m, 2)?;
    if flags & 0x8000 == 0 || (flags >> 11) & 0xf != 0 {
        return Err(DnsError::NotOurs); // not a response, or not a standard query
    }
    let qd = u16_at(m, 4)?;
    let an = u16_at(m, 6)?;
    if qd != 1 {
        return Err(DnsError::NotOurs);
    }
    let (qname, mut at) = read_name(m, HEADER_LEN)?;
    let want = canonical(name);
    if qname != want || u16_at(m, at)? != TYPE_AAAA || u16_at(m, at + 2)? != CLASS_IN {
        return Err(DnsError::NotOurs);
    }
    at += 4;
    if flags & 0x0200 != 0 {
        return Err(DnsError::Truncated);
    }
    let rcode = (flags & 0xf) as u8;
    if rcode != 0 {
        return Err(DnsError::Rcode(rcode));
    }
    let mut records = Vec::new();
    for _ in 0..an {
        let (owner, next) = read_name(m, at)?;
        let rtype = u16_at(m, next)?;
        let class = u16_at(m, next + 2)?;
        let rdlen = usize::from(u16_at(m, next + 8)?);
        let start = next + 10;
        let rdata = m
            .get(start..start + rdlen)
            .ok_or(DnsError::Malformed("record data runs past the end"))?;
        if class == CLASS_IN {
            match rtype {
                TYPE_AAAA if rdlen == 16 => {
                    let mut b = [0u8; 16];
                    b.copy_from_slice(rdata);
                    records.push((owner, Some(Ipv6Addr::from(b)), None));
                }
                TYPE_AAAA => return Err(DnsError::Malformed("AAAA record not 16 octets")),
                TYPE_CNAME => {
                    let (target, _) = read_name(m, start)?;
                    records.push((owner, None, Some(target)));
                }
                _ => {}
            }
        }
        at = start + rdlen;
    }
    // Follow the CNAME chain from the question's name, a bounded number of steps.
    let mut names = vec![want];
    for _ in 0..8 {
        let last = names.last().cloned().unwrap_or_default();
        match records
            .iter()
            .find_map(|(o, _, c)| c.as_ref().filter(|_| *o == last))
        {
            Some(t) if !names.contains(t) => names.push(t.clone()),
            _ => break,
        }
    }
    let mut out = Vec::new();
    for (o, a, _) in &records {
        if let Some(a) = a
            && names.contains(o)
            && !out.contains(a)
        {
            out.push(*a);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bytes() {
        let q = build_query(0xbeef, "test.example.").unwrap();
        let want: &[u8] = &[
            0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4, b't', b'e', b's', b't', 7, b'e',
            b'x', b'a', b'm', b'p', b'l', b'e', 0, 0, 28, 0, 1,
        ];
        assert_eq!(q, want);
        assert_eq!(build_query(1, ""), Err(DnsError::BadName));
        assert_eq!(build_query(1, "a..b"), Err(DnsError::BadName));
        assert_eq!(build_query(1, &"x".repeat(64)), Err(DnsError::BadName));
        let long = vec!["abcdefgh"; 40].join(".");
        assert_eq!(build_query(1, &long), Err(DnsError::BadName));
    }

    /// A reply as a recursive server sends it: the question, a CNAME and two AAAA
    /// records whose owners are compression pointers (0xc00c, and into the CNAME's data).
    fn reply() -> Vec<u8> {
        let mut m = build_query(0x1234, "www.Example")
            .unwrap()
            .into_iter()
            .collect::<Vec<_>>();
        m[2] = 0x81; // QR, RD
        m[3] = 0x80; // RA
        m[7] = 3; // ANCOUNT
        // www.example CNAME host.example: owner 0xc00c, data "host" + pointer to "example"
        m.extend_from_slice(&[0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 7]);
        let cname_data = m.len();
        m.extend_from_slice(&[4, b'h', b'o', b's', b't', 0xc0, 16]);
        for last in [0x99u8, 0x98] {
            m.extend_from_slice(&[0xc0, cname_data as u8, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
            let a: Ipv6Addr = format!("2001:db8:1::{last:x}").parse().unwrap();
            m.extend_from_slice(&a.octets());
        }
        m
    }

    #[test]
    fn parses_compressed_answers_through_a_cname() {
        let m = reply();
        assert_eq!(
            parse_reply(&m, 0x1234, "www.example").unwrap(),
            vec![
                "2001:db8:1::99".parse::<Ipv6Addr>().unwrap(),
                "2001:db8:1::98".parse().unwrap()
            ]
        );
        assert_eq!(
            parse_reply(&m, 0x1235, "www.example"),
            Err(DnsError::NotOurs)
        );
        assert_eq!(
            parse_reply(&m, 0x1234, "other.example"),
            Err(DnsError::NotOurs)
        );
    }

    /// The reply dnsmasq 2.90 sent for `--host-record=test.example,2001:db8:1::99`
    /// (captured in the netns test; QR AA RD RA, the owner a pointer to the question).
    #[test]
    fn parses_a_dnsmasq_reply() {
        let m: &[u8] = &[
            0xbd, 0xd0, 0x85, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x04, 0x74,
            0x65, 0x73, 0x74, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0x00, 0x1c,
            0x00, 0x01, 0xc0, 0x0c, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
            0x20, 0x01, 0x0d, 0xb8, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x99,
        ];
        assert_eq!(
            parse_reply(m, 0xbdd0, "test.example").unwrap(),
            vec!["2001:db8:1::99".parse::<Ipv6Addr>().unwrap()]
        );
    }

    #[test]
    fn error_codes_and_truncation() {
        let mut m = build_query(7, "nope.example").unwrap();
        m[2] = 0x81;
        m[3] = 0x83;
        assert_eq!(parse_reply(&m, 7, "nope.example"), Err(DnsError::Rcode(3)));
        m[2] = 0x83;
        m[3] = 0x80;
        assert_eq!(parse_reply(&m, 7, "nope.example"), Err(DnsError::Truncated));
        m[2] = 0x01; // a query, not a response
        assert_eq!(parse_reply(&m, 7, "nope.example"), Err(DnsError::NotOurs));
    }

    #[test]
    fn hostile_pointers_end_in_errors() {
        let mut m = build_query(7, "a").unwrap();
        m[2] = 0x81;
        m[7] = 1;
        // An answer whose owner points at itself, then one pointing forwards.
        let here = m.len() as u8;
        m.extend_from_slice(&[0xc0, here]);
        assert!(matches!(
            parse_reply(&m, 7, "a"),
            Err(DnsError::Malformed(_))
        ));
        let n = m.len();
        m[n - 1] = here + 5;
        assert!(matches!(
            parse_reply(&m, 7, "a"),
            Err(DnsError::Malformed(_))
        ));
        // Two names pointing at each other.
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&[0xc0, 14, 0xc0, 12]);
        assert!(read_name(&m, 12).is_err());
        assert!(read_name(&m, 14).is_err());
        // A reserved label type, and a label running off the end.
        assert!(read_name(&[0x40], 0).is_err());
        assert!(read_name(&[5, b'a'], 0).is_err());
        assert!(parse_reply(&vec![0u8; MAX_MESSAGE + 1], 0, "a").is_err());
    }

    #[test]
    fn every_truncation_and_byte_flip_of_a_reply_is_safe() {
        let m = reply();
        for n in 0..m.len() {
            let _ = parse_reply(&m[..n], 0x1234, "www.example");
        }
        for i in 0..m.len() {
            for v in [0u8, 0x3f, 0x40, 0xc0, 0xff, m[i].wrapping_add(1)] {
                let mut x = m.clone();
                x[i] = v;
                let _ = parse_reply(&x, 0x1234, "www.example");
            }
        }
    }

    proptest::proptest! {
        /// Any bytes, and any bytes after a valid header and question: an answer or an
        /// error, never a panic or a hang.
        #[test]
        fn arbitrary_replies_never_panic(
            tail in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
            an in 0u16..40,
            raw in proptest::collection::vec(proptest::num::u8::ANY, 0..300),
        ) {
            let _ = parse_reply(&raw, 0, "a.example");
            let mut m = build_query(9, "a.example").unwrap();
            m[2] = 0x81;
            m[6..8].copy_from_slice(&an.to_be_bytes());
            m.extend_from_slice(&tail);
            let _ = parse_reply(&m, 9, "a.example");
        }

        /// Every name we can encode comes back from the question of a reply.
        #[test]
        fn names_round_trip(labels in proptest::collection::vec("[a-z0-9-]{1,20}", 1..6)) {
            let name = labels.join(".");
            let mut m = build_query(3, &name).unwrap();
            m[2] = 0x81;
            proptest::prop_assert_eq!(parse_reply(&m, 3, &name), Ok(vec![]));
            let (back, end) = read_name(&m, HEADER_LEN).unwrap();
            proptest::prop_assert_eq!(back, name);
            proptest::prop_assert_eq!(end, m.len() - 4);
        }
    }
}
