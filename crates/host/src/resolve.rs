//! Names to addresses for `resolve`: a literal address (with its `%zone`), or the IPv6
//! entries of an /etc/hosts-style file (`address name alias...`, `#` comments). The
//! daemon then orders them by RFC 6724 §6. Other names go to DNS (`lookup`, `dns`).

use std::net::Ipv6Addr;

/// A literal "2001:db8::1", "fe80::1%tap0" or "[fe80::1%tap0]": the address and zone.
pub fn literal(name: &str) -> Option<(Ipv6Addr, Option<String>)> {
    let s = name
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(name);
    let (a, z) = match s.split_once('%') {
        Some((a, z)) if !z.is_empty() => (a, Some(z.to_string())),
        Some(_) => return None,
        None => (s, None),
    };
    a.parse().ok().map(|a| (a, z))
}

/// Every IPv6 address the hosts file gives `name` (case-insensitive), in file order,
/// without repeats. Addresses may carry a zone ("fe80::1%tap0").
pub fn hosts_lookup(hosts: &str, name: &str) -> Vec<(Ipv6Addr, Option<String>)> {
    let mut out: Vec<(Ipv6Addr, Option<String>)> = Vec::new();
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(addr) = words.next() else {
            continue;
        };
        if !words.any(|w| w.eq_ignore_ascii_case(name)) {
            continue;
        }
        if let Some(a) = literal(addr)
            && !out.contains(&a)
        {
            out.push(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_with_and_without_zones() {
        assert_eq!(
            literal("2001:db8::1"),
            Some(("2001:db8::1".parse().unwrap(), None))
        );
        assert_eq!(
            literal("[fe80::1%tap0]"),
            Some(("fe80::1".parse().unwrap(), Some("tap0".into())))
        );
        assert_eq!(literal("fe80::1%"), None);
        assert_eq!(literal("192.0.2.1"), None);
        assert_eq!(literal("example"), None);
    }

    #[test]
    fn hosts_file_ipv6_entries_only_in_order() {
        let hosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost # loopback\n\
                     # 2001:db8::9 server\n2001:db8::1 server.example server\n\
                     fe80::5%tap0  SERVER\n2001:db8::1 server\n192.0.2.1 server\n";
        let got = hosts_lookup(hosts, "server");
        assert_eq!(
            got,
            vec![
                ("2001:db8::1".parse().unwrap(), None),
                ("fe80::5".parse().unwrap(), Some("tap0".into())),
            ]
        );
        assert_eq!(
            hosts_lookup(hosts, "localhost"),
            vec![(Ipv6Addr::LOCALHOST, None)]
        );
        assert!(hosts_lookup(hosts, "nobody").is_empty());
    }
}
