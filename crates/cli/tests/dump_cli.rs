//! `sixstack dump` end to end through the binary: formats, filters, counts, stdin, and
//! the exit status for unreadable captures.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use sixstack_wire::pcap::{PcapNgWriter, PcapWriter};

fn sixstack(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sixstack"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sixstack");
    let input = stdin.unwrap_or(&[]).to_vec();
    let mut pipe = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait for sixstack");
    feeder.join().unwrap();
    out
}

/// An IPv6 echo request from 2001:db8::1 to 2001:db8::2 in an Ethernet frame.
#[rustfmt::skip]
fn echo_frame(src_last: u8) -> Vec<u8> {
    let mut f = vec![
        0x33, 0x33, 0x00, 0x00, 0x00, 0x01, // dst
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // src
        0x86, 0xdd,                         // IPv6
        0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0x40, // v6, plen 8, icmpv6, hlim 64
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, src_last,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
        0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, // echo request id 1 seq 1
    ];
    let sum = sixstack_wire::Checksum::ipv6_pseudo_header(
        &"2001:db8::".parse::<std::net::Ipv6Addr>().map(|a| {
            let mut o = a.octets();
            o[15] = src_last;
            std::net::Ipv6Addr::from(o)
        }).unwrap(),
        &"2001:db8::2".parse().unwrap(),
        8,
        58,
    )
    .add_bytes(&f[54..])
    .finish();
    f[56..58].copy_from_slice(&sum.to_be_bytes());
    f
}

fn pcap_of(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(1_000 + i as u64, 0, f).unwrap();
    }
    w.into_inner()
}

fn temp_file(name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sixstack-dump-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

#[test]
fn json_lines_name_fields_as_wireshark_does() {
    let file = temp_file("echo.pcap", &pcap_of(&[echo_frame(1), echo_frame(3)]));
    let out = sixstack(&["dump", "--json", file.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["frame"], 1);
    assert_eq!(lines[1]["frame"], 2);
    let layers = lines[0]["layers"].as_array().unwrap();
    let ipv6 = layers
        .iter()
        .find(|l| l["protocol"] == "ipv6")
        .expect("an ipv6 layer");
    assert_eq!(ipv6["ipv6.src"], "2001:db8::1");
    assert_eq!(ipv6["ipv6.dst"], "2001:db8::2");
    assert_eq!(ipv6["ipv6.hlim"], 64);
    assert_eq!(ipv6["ipv6.nxt"], 58);
}

#[test]
fn count_filter_and_summary() {
    let file = temp_file(
        "three.pcap",
        &pcap_of(&[echo_frame(1), echo_frame(3), echo_frame(1)]),
    );
    let path = file.to_str().unwrap();
    let out = sixstack(&["dump", "-c", "1", path], None);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);

    let out = sixstack(&["dump", "--host", "2001:db8::3", path], None);
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(shown.lines().count(), 1, "{shown}");
    assert!(shown.contains("2001:db8::3"));
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("3 packets read, 1 shown"), "{summary}");

    let out = sixstack(&["dump", "--proto", "tcp", path], None);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 0);
    let out = sixstack(&["dump", "--proto", "ip6", path], None);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 3);
}

#[test]
fn stdin_pcapng_and_tree() {
    let mut w = PcapNgWriter::new(Vec::new()).unwrap();
    let i = w.add_interface(1, 65535, Some("tap0")).unwrap();
    w.write_packet(i, 5, 0, &echo_frame(1)).unwrap();
    let out = sixstack(&["dump", "-v", "-"], Some(&w.into_inner()));
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("ipv6.src = 2001:db8::1"), "{text}");
}

#[test]
fn unreadable_captures_exit_1_and_say_why() {
    let out = sixstack(&["dump", "/nonexistent/file.pcap"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));

    let junk = temp_file("junk.pcap", b"this is not a capture file");
    let out = sixstack(&["dump", junk.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pcap or pcapng"));

    // Cut in the middle of the second record: the first is still shown.
    let whole = pcap_of(&[echo_frame(1), echo_frame(3)]);
    let cut = temp_file("cut.pcap", &whole[..whole.len() - 5]);
    let out = sixstack(&["dump", cut.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
}

#[test]
fn malformed_packets_are_shown_not_fatal() {
    let mut short = echo_frame(1);
    short.truncate(30); // inside the IPv6 header
    let file = temp_file("short.pcap", &pcap_of(&[short, echo_frame(1)]));
    let out = sixstack(&["dump", "--json", file.to_str().unwrap()], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["malformed"]["protocol"], "ipv6");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 malformed"));
}

#[test]
fn help_lists_the_commands() {
    let out = sixstack(&["--help"], None);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for c in [
        "dump", "demo", "run", "route", "ra", "mld", "ttcp", "ftp", "ftpd", "socks",
    ] {
        assert!(text.contains(c), "{c} missing from --help:\n{text}");
    }
}
