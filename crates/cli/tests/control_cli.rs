//! The control commands and ping6/tracert6 as a user runs them, without a daemon (the
//! errors) and against a stand-in daemon that answers from a script (the output). The
//! real daemon is exercised by `netns_e2e.rs`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;

use serde_json::{Value, json};

fn sixstack(args: &[&str], control: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sixstack"))
        .args(args)
        .env("SIXSTACK_CONTROL", control)
        .output()
        .expect("run sixstack")
}

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sixstack-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Answers the hello, then `answer` to the one request, and returns that request.
fn fake(dir: &Path, answer: Value) -> (PathBuf, thread::JoinHandle<Value>) {
    let path = dir.join("ctl.sock");
    let l = UnixListener::bind(&path).unwrap();
    let t = thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut lines = BufReader::new(s).lines();
        let hello: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(hello["op"], "hello");
        writeln!(
            w,
            "{}",
            json!({"id": hello["id"], "ok": {"type": "hello", "version": 1, "daemon": "fake"}})
        )
        .unwrap();
        let req: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        let mut a = answer;
        a["id"] = req["id"].clone();
        writeln!(w, "{a}").unwrap();
        req
    });
    (path, t)
}

#[test]
fn without_a_daemon_every_command_says_how_to_start_it() {
    let nowhere = temp("nowhere").join("ctl.sock");
    let want = format!(
        "cannot reach the sixstack daemon at {}: ",
        nowhere.display()
    );
    for (args, code) in [
        (&["addr", "show"][..], 1),
        (&["link"][..], 1),
        (
            &[
                "route",
                "add",
                "2001:db8:9::/48",
                "via",
                "fe80::1",
                "dev",
                "tap0",
            ][..],
            1,
        ),
        (&["stats", "--json"][..], 1),
        (&["ping6", "-c", "1", "2001:db8::1"][..], 2),
        (&["tracert6", "2001:db8::1"][..], 2),
    ] {
        let out = sixstack(args, &nowhere);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(&want), "{args:?}: {err}");
        assert!(
            err.trim_end()
                .ends_with("start it with `sixstack run --tap tap0` or set SIXSTACK_CONTROL"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_show_the_form() {
    let nowhere = temp("usage").join("ctl.sock");
    let out = sixstack(&["addr", "add", "2001:db8::2/64"], &nowhere);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("which interface? add `dev NAME`"), "{err}");
    assert!(err.contains("Usage: sixstack addr"), "{err}");
    let out = sixstack(&["ping6", "-M", "sometimes", "::1"], &nowhere);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn addr_show_as_text_and_json() {
    let addrs = json!([
        {"interface": "tap0", "address": "fe80::1", "prefix_len": 64, "scope": "link",
         "state": "preferred", "origin": "link-local", "valid_lifetime": null, "preferred_lifetime": null},
        {"interface": "tap0", "address": "2001:db8::2", "prefix_len": 64, "scope": "global",
         "state": "tentative", "origin": "static", "valid_lifetime": null, "preferred_lifetime": null},
        {"interface": "tap0", "address": "2001:db8:1:0:1234:5678:9abc:def0", "prefix_len": 64,
         "scope": "global", "state": "deprecated", "origin": "temporary", "valid_lifetime": 600,
         "preferred_lifetime": 0},
    ]);
    let dir = temp("addr-text");
    let (path, t) = fake(&dir, json!({"ok": {"type": "addrs", "addrs": addrs}}));
    let out = sixstack(&["addr", "show", "dev", "tap0"], &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(t.join().unwrap()["op"], "addr_show");
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "tap0:\n\
         \x20   inet6 fe80::1/64 scope link link-local\n\
         \x20      valid_lft forever preferred_lft forever\n\
         \x20   inet6 2001:db8::2/64 scope global tentative static\n\
         \x20      valid_lft forever preferred_lft forever\n\
         \x20   inet6 2001:db8:1:0:1234:5678:9abc:def0/64 scope global deprecated temporary\n\
         \x20      valid_lft 600sec preferred_lft 0sec\n"
    );
    let dir = temp("addr-json");
    let (path, t) = fake(&dir, json!({"ok": {"type": "addrs", "addrs": addrs}}));
    let out = sixstack(&["addr", "show", "--json"], &path);
    assert!(out.status.success());
    t.join().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v, addrs);
}

#[test]
fn route_add_sends_iproute2_words_and_reports_refusal() {
    let dir = temp("route");
    let (path, t) = fake(
        &dir,
        json!({"error": {"kind": "no_such_interface", "message": "no interface tap9 (see `sixstack link show`)"}}),
    );
    let out = sixstack(
        &[
            "route",
            "add",
            "2001:db8:9::/48",
            "via",
            "fe80::1",
            "dev",
            "tap9",
            "metric",
            "10",
        ],
        &path,
    );
    let req = t.join().unwrap();
    assert_eq!(
        req,
        json!({"id": req["id"], "op": "route_add", "prefix": "2001:db8:9::", "prefix_len": 48,
               "via": "fe80::1", "dev": "tap9", "metric": 10})
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "sixstack route: no interface tap9 (see `sixstack link show`)\n"
    );
}

#[test]
fn route_and_neigh_show_as_iproute2() {
    let dir = temp("routes");
    let (path, t) = fake(
        &dir,
        json!({"ok": {"type": "routes", "routes": [
            {"prefix": "2001:db8::", "prefix_len": 64, "dev": "tap0", "metric": 256,
             "origin": "connected", "expires": null},
            {"prefix": "::", "prefix_len": 0, "dev": "tap0", "via": "fe80::1", "metric": 1024,
             "origin": "ra", "expires": 1799},
        ]}}),
    );
    let out = sixstack(&["route"], &path);
    t.join().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "2001:db8::/64 dev tap0 proto kernel metric 256\n\
         default via fe80::1 dev tap0 proto ra metric 1024 expires 1799sec\n"
    );
    let dir = temp("neigh");
    let (path, t) = fake(
        &dir,
        json!({"ok": {"type": "neighbors", "neighbors": [
            {"dev": "tap0", "address": "fe80::1", "lladdr": "02:00:5e:00:53:01", "state": "REACHABLE", "router": true},
            {"dev": "tap0", "address": "2001:db8::9", "lladdr": null, "state": "INCOMPLETE", "router": false},
        ]}}),
    );
    let out = sixstack(&["neigh", "show"], &path);
    t.join().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "fe80::1 dev tap0 lladdr 02:00:5e:00:53:01 router REACHABLE\n\
         2001:db8::9 dev tap0 INCOMPLETE\n"
    );
}
