//! The pcap files the simulator writes: one per link, its link type, virtual time in
//! nanoseconds, the same frames as the in-memory capture; read back with our reader and,
//! when installed, with tshark.

mod common;

use std::cell::RefCell;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::rc::Rc;

use common::{TestNode, frame, temp_dir};
use sixstack_core::iface::IfaceId;
use sixstack_core::time::{Duration, Instant};
use sixstack_sim::{Captured, LinkConfig, LinkId, Network, dlt};
use sixstack_wire::pcap::{Format, Reader};

/// (link type, seconds, nanoseconds, bytes) of every record.
type Rows = Vec<(u32, u64, u32, Vec<u8>)>;

fn read_pcap(bytes: &[u8]) -> (Format, Rows) {
    let mut r = Reader::new(bytes).expect("a pcap header");
    let format = r.format();
    let mut rows = Vec::new();
    while let Some(rec) = r.next().expect("a well-formed record") {
        assert_eq!(rec.orig_len as usize, rec.data.len());
        rows.push((rec.linktype, rec.ts_sec, rec.ts_nsec, rec.data.to_vec()));
    }
    (format, rows)
}

fn rows_of(link_type: u32, cap: &[Captured]) -> Rows {
    cap.iter()
        .map(|c| {
            let us = c.time.total_micros();
            (
                link_type,
                us / 1_000_000,
                (us % 1_000_000) as u32 * 1000,
                c.frame.clone(),
            )
        })
        .collect()
}

/// Queries from a every 700 ms on an Ethernet link to an echo; the echo answers on a raw
/// IPv6 link too (its interface 1 there, a sink listening).
fn scenario(net: &mut Network<TestNode>) -> (LinkId, LinkId) {
    let a = net.add_node(
        "a",
        TestNode::chatty(
            Instant::from_micros(123_457),
            Duration::from_millis(700),
            4,
            90,
        ),
    );
    let b = net.add_node("b", TestNode::echo(Duration::from_micros(333)));
    let c = net.add_node("c", TestNode::sink());
    let eth = net.add_link("lan 0/eth", LinkConfig::default());
    let tun = net.add_link("tun", LinkConfig::raw_ipv6(1280));
    net.attach(eth, a, IfaceId(0));
    net.attach(eth, b, IfaceId(0));
    net.attach(tun, c, IfaceId(0));
    net.attach(tun, b, IfaceId(1));
    (eth, tun)
}

#[test]
fn one_pcap_per_link_with_the_capture_in_it() {
    let dir = temp_dir("pcap");
    let mut net = Network::new(5);
    net.set_pcap_dir(&dir).unwrap();
    let (eth, tun) = scenario(&mut net);
    net.run_until(Instant::from_secs(3));
    // Frames only the echo's interface 1 would send: put some there by hand.
    net.node_mut(net.node_by_name("b").unwrap())
        .out
        .push_back((IfaceId(1), vec![0x60, 0, 0, 0, 0, 0, 59, 64]));
    net.run_for(Duration::from_millis(1));
    net.flush_pcaps().unwrap();
    assert!(net.pcap_error(eth).is_none());

    // The name's slash and space do not make a directory or a strange file name.
    let eth_file = dir.join("lan_0_eth.pcap");
    let (format, rows) = read_pcap(&std::fs::read(&eth_file).unwrap());
    assert_eq!(format, Format::Pcap { nanos: true });
    assert_eq!(rows.len(), 8);
    assert_eq!(rows, rows_of(dlt::ETHERNET, net.captured(eth)));
    // 123.457 ms; the answer entered the link 100 µs (delay) + 333 µs (echo) later.
    assert_eq!((rows[0].1, rows[0].2), (0, 123_457_000));
    assert_eq!((rows[1].1, rows[1].2), (0, 123_890_000));
    assert_eq!((rows[4].1, rows[4].2), (1, 523_457_000));
    assert_eq!(rows[0].3, frame(common::QUERY, 0, 90));

    let (_, rows) = read_pcap(&std::fs::read(dir.join("tun.pcap")).unwrap());
    assert_eq!(rows.len(), 1);
    assert_eq!(rows, rows_of(dlt::IPV6, net.captured(tun)));

    tshark_agrees(&eth_file, net.captured(eth));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn links_added_after_the_directory_get_their_file() {
    let dir = temp_dir("late");
    let mut net: Network<TestNode> = Network::new(1);
    net.set_pcap_dir(&dir).unwrap();
    let l = net.add_link("late", LinkConfig::fddi());
    net.inject(l, None, vec![0x50; 40]);
    drop(net);
    let (_, rows) = read_pcap(&std::fs::read(dir.join("late.pcap")).unwrap());
    assert_eq!(rows, vec![(dlt::FDDI, 0, 0, vec![0x50; 40])]);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A `Write` the test can look into afterwards.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Accepts the header, then fails.
struct Broken(usize);

impl Write for Broken {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0 < buf.len() {
            return Err(std::io::Error::other("disk full"));
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_pcap_writer_of_ones_own_and_a_failing_one() {
    let mut net = Network::new(5);
    let (eth, tun) = scenario(&mut net);
    let buf = Shared::default();
    net.set_pcap_writer(eth, Box::new(buf.clone())).unwrap();
    net.set_pcap_writer(tun, Box::new(Broken(24))).unwrap();
    net.run_until(Instant::from_secs(1));
    net.inject(tun, None, vec![0x60; 40]);
    let (_, rows) = read_pcap(&buf.0.borrow());
    assert_eq!(rows, rows_of(dlt::ETHERNET, net.captured(eth)));
    assert_eq!(rows.len(), 4);
    assert_eq!(
        net.pcap_error(tun).map(|e| e.to_string()).as_deref(),
        Some("disk full")
    );
    // The capture in memory goes on regardless.
    assert_eq!(net.captured(tun).len(), 1);
}

/// tshark reads our file as we wrote it: same number of frames, same lengths, same
/// nanosecond times. Skipped without tshark unless SIXSTACK_REQUIRE_TOOLS=1.
fn tshark_agrees(file: &Path, cap: &[Captured]) {
    let out = match Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-T", "fields", "-e", "frame.time_epoch", "-e", "frame.len"])
        .output()
    {
        Ok(out) => out,
        Err(e) => {
            if std::env::var("SIXSTACK_REQUIRE_TOOLS").as_deref() == Ok("1") {
                panic!("tshark is required (SIXSTACK_REQUIRE_TOOLS=1) but cannot run: {e}");
            }
            eprintln!("skipping the tshark check: {e}");
            return;
        }
    };
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let got: Vec<(String, usize)> = text
        .lines()
        .map(|l| {
            let (t, len) = l.split_once('\t').expect("two fields");
            (t.to_owned(), len.parse().unwrap())
        })
        .collect();
    let want: Vec<(String, usize)> = cap
        .iter()
        .map(|c| {
            let us = c.time.total_micros();
            (
                format!("{}.{:06}000", us / 1_000_000, us % 1_000_000),
                c.frame.len(),
            )
        })
        .collect();
    assert_eq!(got, want);
}
