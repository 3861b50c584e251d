//! `sixstack ftp` and `sixstack ftpd` as commands, over the kernel's stack on `::1`: the
//! server from a users file made with `--hash-password`, the client from `-c` and from
//! standard input, and the exit status of a script whose command fails.

// Timeouts of a test are wall-clock time; the ban is for the stack (clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::io::Write;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sixstack");

struct Ftpd {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Ftpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn hash(pw: &str) -> String {
    let mut c = Command::new(BIN)
        .args(["ftpd", "--hash-password"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin
        .take()
        .unwrap()
        .write_all(format!("{pw}\n").as_bytes())
        .unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn ftpd(name: &str) -> Ftpd {
    let dir = std::env::temp_dir().join(format!("sixstack-ftpcli-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("root")).unwrap();
    fs::write(dir.join("root/hello.txt"), b"hello\n").unwrap();
    fs::write(dir.join("users"), format!("alice:{}\n", hash("pw"))).unwrap();
    let port = std::net::TcpListener::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(BIN)
        .args(["ftpd", "--net", "kernel", "--writable", "--listen"])
        .arg(format!("[::1]:{port}"))
        .arg("--root")
        .arg(dir.join("root"))
        .arg("--users")
        .arg(dir.join("users"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let d = Ftpd { child, port, dir };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("::1", port)).is_err() {
        assert!(Instant::now() < deadline, "ftpd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    d
}

fn ftp(port: u16, args: &[&str], stdin: &str) -> Output {
    let mut c = Command::new(BIN)
        .args(["ftp", "--net", "kernel"])
        .args(args)
        .args(["::1", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

#[test]
fn ftp_scripts_with_c_and_stdin_and_their_exit_status() {
    let d = ftpd("script");
    let out = ftp(
        d.port,
        &[
            "-u",
            "alice:pw",
            "-c",
            "pwd; get hello.txt -; mkdir new; ls",
        ],
        "",
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.starts_with("/\nhello\n"), "{text}");
    assert!(text.contains(" new"), "{text}");
    assert!(d.dir.join("root/new").is_dir());

    // From standard input; the first failure stops the script with status 1.
    let out = ftp(
        d.port,
        &["-u", "alice:pw"],
        "cd new\nget missing\nmkdir never\n",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("550"));
    assert!(!d.dir.join("root/new/never").exists());

    // A wrong password fails at once.
    let out = ftp(d.port, &["-u", "alice:nope", "-c", "ls"], "");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("530"));
}

#[test]
fn ftpd_errors_say_what_to_do() {
    let out = Command::new(BIN)
        .args([
            "ftpd",
            "--net",
            "kernel",
            "--root",
            "/nonexistent/dir",
            "--listen",
            "[::1]:0",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--root must be an existing directory"));
    let out = Command::new(BIN)
        .args(["ftpd", "--listen", "x:y", "--root", "."])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let help = Command::new(BIN).args(["ftp", "--help"]).output().unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("Examples:"));
}
