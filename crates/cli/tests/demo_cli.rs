//! `sixstack demo` end to end through the binary: the story it tells happens, the same
//! seed gives the same bytes, `--json` is JSON, `--pcap` writes captures `dump` reads.

use std::process::{Command, Output};

fn sixstack(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sixstack"))
        .args(args)
        .output()
        .expect("run sixstack")
}

fn text(o: &Output) -> String {
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("utf-8")
}

#[test]
fn demo_tells_the_whole_story() {
    let out = text(&sixstack(&["demo"]));
    // DAD and SLAAC on every host, a conflict between the clones resolved.
    assert!(out.contains("TENTATIVE -> PREFERRED"));
    assert!(out.contains("TENTATIVE -> DUPLICATE"), "{out}");
    assert!(out.contains("default router fe80::"));
    // Address resolution, then both pings answered across the router (hop limit 63).
    assert!(out.contains("INCOMPLETE -> REACHABLE"));
    assert!(out.contains("56 bytes from 2001:db8:2:"), "{out}");
    assert!(out.contains("4000 bytes from 2001:db8:2:"), "{out}");
    assert!(out.contains("hlim=63"));
    // The MLD query answered, the UDP-Lite exchange both ways.
    assert!(out.contains("h3 answered"), "{out}");
    assert!(out.contains("\"hello over UDP-Lite\""));
    assert!(out.contains("(coverage 8 bytes)"));
    assert!(out.contains("h1 got \"and back\""));
    assert!(out.contains("counters (RFC 4293 names)"));
}

#[test]
fn demo_same_seed_same_bytes() {
    let a = sixstack(&["demo", "--seed", "42"]);
    let b = sixstack(&["demo", "--seed", "42"]);
    let c = sixstack(&["demo", "--seed", "43"]);
    assert_eq!(text(&a), text(&b));
    assert_ne!(text(&a), text(&c));
}

#[test]
fn demo_json_lines_parse() {
    let out = text(&sixstack(&["demo", "--json"]));
    let mut kinds = std::collections::BTreeSet::new();
    for line in out.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("a JSON object per line");
        kinds.insert(v["type"].as_str().expect("type").to_string());
    }
    for k in ["intro", "section", "event", "result", "counters"] {
        assert!(kinds.contains(k), "no {k} record in {kinds:?}");
    }
}

#[test]
fn demo_pcaps_are_read_by_dump() {
    let dir = std::env::temp_dir().join(format!("sixstack-demo-{}", std::process::id()));
    let d = dir.to_str().expect("utf-8 path");
    text(&sixstack(&["demo", "--pcap", d]));
    for link in ["lan1", "lan2"] {
        let f = dir.join(format!("{link}.pcap"));
        let out = text(&sixstack(&["dump", "--no-summary", f.to_str().unwrap()]));
        assert!(out.lines().count() > 20, "{link}: {out}");
        assert!(!out.contains("malformed"), "{link}: {out}");
        assert!(out.contains("echo request"), "{link}: {out}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_rejects_a_bad_seed() {
    let o = sixstack(&["demo", "--seed", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--seed"));
}
