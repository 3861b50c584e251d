//! FTP against real peers over the kernel's stack on `::1` (no root needed for most):
//! our ftpd against curl, lftp and Python's ftplib; our client against vsftpd and against
//! our ftpd; and hostile clients. SHA-256 of every transferred file is checked.
//!
//! A test whose peer tool is missing prints why and passes, unless
//! `SIXSTACK_REQUIRE_ROOT_TESTS=1` (scripts/test under CI or as root), where it fails.

// Timeouts of a test are wall-clock time; the ban is for the stack (clippy.toml).
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use sixstack_apps::ftp::client::{Progress, Session, Shell, ShellOptions};
use sixstack_apps::ftp::server::{Server, ServerConfig};
use sixstack_apps::ftp::users::{Users, hash_password};
use sixstack_apps::net::{KernelNet, Net};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn required() -> bool {
    std::env::var("SIXSTACK_REQUIRE_ROOT_TESTS").is_ok_and(|v| v == "1")
}

/// Whether `tool` runs; when not, fails under SIXSTACK_REQUIRE_ROOT_TESTS=1, else says why.
fn have(tool: &str, test: &str) -> bool {
    let ok = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let why = format!("{test}: `{tool}` is not installed (apt-get install {tool})");
        assert!(!required(), "{why}, and SIXSTACK_REQUIRE_ROOT_TESTS=1");
        eprintln!("skipped: {why}");
    }
    ok
}

/// A scratch folder with a tree to serve: `hello.txt` (text), `pub/big.bin` (2 MB of
/// pseudo-random bytes), and outside the root a secret that links point to.
struct Tree {
    base: PathBuf,
    root: PathBuf,
}

impl Tree {
    fn new(name: &str) -> Tree {
        let base = std::env::temp_dir().join(format!(
            "sixstack-ftp-{}-{}-{name}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = fs::remove_dir_all(&base);
        let root = base.join("root");
        fs::create_dir_all(root.join("pub")).unwrap();
        fs::create_dir_all(base.join("outside")).unwrap();
        fs::write(base.join("outside/secret"), b"secret\n").unwrap();
        fs::write(root.join("hello.txt"), b"hello\nworld\n").unwrap();
        fs::write(root.join("pub/big.bin"), pattern(2_000_000, 7)).unwrap();
        std::os::unix::fs::symlink(base.join("outside"), root.join("out")).unwrap();
        std::os::unix::fs::symlink(base.join("outside/secret"), root.join("secret")).unwrap();
        Tree { base, root }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.base.join(p)
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

fn pattern(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn sha(p: &Path) -> Vec<u8> {
    Sha256::digest(fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).to_vec()
}

fn net() -> Arc<dyn Net> {
    Arc::new(KernelNet)
}

/// Starts our server on `[::1]:0` in a thread; it runs until the test process ends.
fn serve(cfg: ServerConfig) -> SocketAddr {
    let s = Server::bind(net(), "[::1]:0".parse().unwrap(), cfg).unwrap();
    let at = s.local_addr().unwrap();
    std::thread::spawn(move || s.run());
    at
}

fn users_cfg(tree: &Tree) -> ServerConfig {
    let mut cfg = ServerConfig::new(&tree.root);
    cfg.writable = true;
    let h = hash_password("pw").unwrap();
    cfg.users = Some(Users::parse(&format!("alice:{h}\n")).unwrap());
    cfg.login_delay = Duration::from_millis(100);
    cfg
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

// ----- our ftpd against other clients ---------------------------------------------------

#[test]
fn curl_lists_gets_and_puts_over_epsv_and_eprt() {
    if !have("curl", "curl_lists_gets_and_puts_over_epsv_and_eprt") {
        return;
    }
    let t = Tree::new("curl");
    let at = serve(users_cfg(&t));
    let url = format!("ftp://[::1]:{}", at.port());
    let list =
        run(Command::new("curl").args(["-sS", "--ftp-pasv", "-u", "alice:pw", &format!("{url}/")]));
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.contains("hello.txt") && list.contains(" pub"),
        "{list}"
    );
    assert!(
        !list.contains("secret"),
        "a link out of the root is listed: {list}"
    );
    for (mode, args) in [("epsv", vec!["--ftp-pasv"]), ("eprt", vec!["-P", "-"])] {
        let got = t.path(&format!("got-{mode}.bin"));
        let mut c = Command::new("curl");
        c.args(["-sS", "-u", "alice:pw"]).args(&args);
        c.arg(format!("{url}/pub/big.bin")).arg("-o").arg(&got);
        run(&mut c);
        assert_eq!(
            sha(&got),
            sha(&t.root.join("pub/big.bin")),
            "curl get over {mode}"
        );
        let mut c = Command::new("curl");
        c.args(["-sS", "-u", "alice:pw"]).args(&args);
        c.arg("-T").arg(&got).arg(format!("{url}/up-{mode}.bin"));
        run(&mut c);
        assert_eq!(
            sha(&t.root.join(format!("up-{mode}.bin"))),
            sha(&got),
            "curl put over {mode}"
        );
    }
    // A wrong password is refused; curl says so with its exit status 67.
    let st = Command::new("curl")
        .args(["-sS", "-u", "alice:nope", &format!("{url}/hello.txt")])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(67), "{st:?}");
    // Nothing outside the root.
    let st = Command::new("curl")
        .args(["-sS", "-u", "alice:pw", &format!("{url}/secret")])
        .output()
        .unwrap();
    assert!(!st.status.success() && st.stdout.is_empty(), "{st:?}");
}

#[test]
fn lftp_lists_gets_and_puts_passive_and_active() {
    if !have("lftp", "lftp_lists_gets_and_puts_passive_and_active") {
        return;
    }
    let t = Tree::new("lftp");
    let at = serve(users_cfg(&t));
    let local = t.path("local.bin");
    fs::write(&local, pattern(1_500_000, 3)).unwrap();
    for passive in ["on", "off"] {
        let got = t.path(&format!("got-{passive}.bin"));
        let script = format!(
            "set ftp:passive-mode {passive}; set ftp:ssl-allow no; set net:max-retries 1; \
             open -u alice,pw ftp://[::1]:{}; ls; cls -l pub; get pub/big.bin -o {}; put {} -o up-{passive}.bin",
            at.port(),
            got.display(),
            local.display()
        );
        let out = run(Command::new("lftp").args(["-c", &script]));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            text.contains("hello.txt") && text.contains("big.bin"),
            "{text}"
        );
        assert_eq!(
            sha(&got),
            sha(&t.root.join("pub/big.bin")),
            "lftp get, passive {passive}"
        );
        assert_eq!(
            sha(&t.root.join(format!("up-{passive}.bin"))),
            sha(&local),
            "lftp put, passive {passive}"
        );
    }
}

const FTPLIB_SCRIPT: &str = r#"
import ftplib, hashlib, io, sys
port = int(sys.argv[1])
f = ftplib.FTP()
f.connect('::1', port, timeout=20)
f.login('alice', 'pw')
feat = f.sendcmd('FEAT')
assert 'EPSV' in feat and 'MLST' in feat and 'SIZE' in feat, feat
f.voidcmd('TYPE I'); assert f.size('pub/big.bin') == 2000000
data = io.BytesIO(); f.retrbinary('RETR pub/big.bin', data.write)
whole = data.getvalue()
part = io.BytesIO(); f.retrbinary('RETR pub/big.bin', part.write, rest=12345)
assert part.getvalue() == whole[12345:], 'REST'
facts = dict(f.mlsd('pub'))
assert facts['big.bin']['type'] == 'file' and facts['big.bin']['size'] == '2000000', facts
assert f.sendcmd('MDTM hello.txt').startswith('213 2')
lines = []; f.retrlines('RETR hello.txt', lines.append)
assert lines == ['hello', 'world'], lines
f.voidcmd('TYPE A'); assert f.sendcmd('SIZE hello.txt') == '213 14'
f.storbinary('STOR up.bin', io.BytesIO(whole))
f.storlines('STOR lines.txt', io.BytesIO(b'a\nb\n'))
f.mkd('d'); f.cwd('d'); assert f.pwd() == '/d'; f.cwd('..')
f.rename('up.bin', 'd/moved.bin')
f.set_pasv(False)
active = io.BytesIO(); f.retrbinary('RETR d/moved.bin', active.write)
assert active.getvalue() == whole, 'active (EPRT) transfer'
f.set_pasv(True)
def refused(cmd, code):
    try:
        r = f.sendcmd(cmd)
    except ftplib.all_errors as e:
        assert str(e).startswith(code), (cmd, str(e))
        return
    raise AssertionError('%s accepted: %s' % (cmd, r))
refused('EPRT |2|2001:db8::1|5000|', '500')   # the bounce attack (RFC 2577)
refused('EPRT |2|::1|21|', '500')             # a privileged port
refused('EPRT |1|192.0.2.1|5000|', '500')
refused('EPRT |3|::1|5000|', '522')
refused('EPSV 1', '522')
refused('PASV', '522')
refused('PORT 127,0,0,1,20,20', '522')
refused('CWD ../../etc', '550')
refused('SIZE /../../etc/passwd', '550')
refused('RETR /out/secret', '550')
refused('CWD out', '550')
refused('RETR secret', '550')
refused('TYPE E', '504')
refused('MODE B', '504')
refused('FROB', '502')
f.delete('d/moved.bin'); f.rmd('d')
f.quit()
print(hashlib.sha256(whole).hexdigest())
"#;

#[test]
fn python_ftplib_against_ftpd() {
    if !have("/usr/bin/python3", "python_ftplib_against_ftpd") {
        return;
    }
    let t = Tree::new("ftplib");
    let at = serve(users_cfg(&t));
    let out =
        run(Command::new("/usr/bin/python3").args(["-c", FTPLIB_SCRIPT, &at.port().to_string()]));
    let hex: String = sha(&t.root.join("pub/big.bin"))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), hex);
    assert_eq!(
        fs::read(t.root.join("lines.txt")).unwrap(),
        b"a\nb\n",
        "STOR in TYPE A"
    );
    assert!(!t.root.join("d").exists());
}

// ----- our client -----------------------------------------------------------------------

fn shell(opts: ShellOptions) -> Shell {
    Shell::new(net(), opts)
}

#[test]
fn our_client_against_our_server_both_modes_and_types() {
    let t = Tree::new("self");
    let mut cfg = ServerConfig::new(&t.root);
    cfg.writable = true;
    let at = serve(cfg);
    let local = t.path("local.bin");
    fs::write(&local, pattern(1_000_000, 11)).unwrap();
    for passive in [true, false] {
        let mut sh = shell(ShellOptions {
            passive,
            ..ShellOptions::default()
        });
        let mut out = Vec::new();
        let got = t.path(&format!("got-{passive}.bin"));
        let up = format!("up-{passive}.bin");
        for cmd in [
            format!("open ::1 {}", at.port()),
            "cd pub".into(),
            format!("get big.bin {}", got.display()),
            format!("put {} {up}", local.display()),
            format!("size {up}"),
            "pwd".into(),
            "ls".into(),
            "ascii".into(),
            "get /hello.txt -".into(),
            "quit".into(),
        ] {
            sh.execute(&cmd, &mut out)
                .unwrap_or_else(|e| panic!("{cmd}: {e}"));
        }
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("1000000\n/pub\n"), "{text}");
        assert!(text.ends_with("hello\nworld\n"), "ASCII get: {text}");
        assert_eq!(sha(&got), sha(&t.root.join("pub/big.bin")));
        assert_eq!(sha(&t.root.join("pub").join(&up)), sha(&local));
    }
    // A failing command is an error, and a refused login too.
    let mut sh = shell(ShellOptions::default());
    let mut out = Vec::new();
    sh.execute(&format!("open ::1 {}", at.port()), &mut out)
        .unwrap();
    assert!(
        sh.execute("get nothing-here", &mut out)
            .unwrap_err()
            .contains("550")
    );
    assert!(!t.path("nothing-here").exists() && !Path::new("nothing-here.part").exists());
    assert!(
        sh.execute("cd ../..", &mut out)
            .unwrap_err()
            .contains("550")
    );
    let mut sh = shell(ShellOptions {
        user: Some("bob".into()),
        password: Some("x".into()),
        ..ShellOptions::default()
    });
    assert!(
        sh.execute(&format!("open ::1 {}", at.port()), &mut out)
            .unwrap_err()
            .contains("530")
    );
}

/// vsftpd, standalone on `::1`, anonymous and read-only, run as a child we end by pid.
struct Vsftpd {
    child: Child,
    port: u16,
}

impl Drop for Vsftpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("[::1]:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn vsftpd(t: &Tree) -> Option<Vsftpd> {
    if !have("vsftpd", "our_client_against_vsftpd") {
        return None;
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !is_root {
        assert!(
            !required(),
            "vsftpd needs root, and SIXSTACK_REQUIRE_ROOT_TESTS=1"
        );
        eprintln!("skipped: vsftpd needs root");
        return None;
    }
    let empty = t.path("empty");
    fs::create_dir_all(&empty).unwrap();
    let port = free_port();
    let conf = t.path("vsftpd.conf");
    fs::write(
        &conf,
        format!(
            "listen=NO\nlisten_ipv6=YES\nlisten_address6=::1\nlisten_port={port}\nbackground=NO\n\
             anonymous_enable=YES\nno_anon_password=YES\nanon_root={}\nlocal_enable=NO\nwrite_enable=NO\n\
             pasv_enable=YES\nport_enable=YES\nsecure_chroot_dir={}\nseccomp_sandbox=NO\n\
             xferlog_enable=NO\nvsftpd_log_file={}\nuse_localtime=NO\n",
            t.root.display(),
            empty.display(),
            t.path("vsftpd.log").display()
        ),
    )
    .unwrap();
    // vsftpd's anonymous root must not be writable by its ftp user; ours is root's 0755.
    let child = Command::new("vsftpd")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let v = Vsftpd { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if TcpStream::connect(("::1", port)).is_ok() {
            return Some(v);
        }
        assert!(
            Instant::now() < deadline,
            "vsftpd did not start on [::1]:{port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn our_client_against_vsftpd() {
    let t = Tree::new("vsftpd");
    let Some(v) = vsftpd(&t) else { return };
    for passive in [true, false] {
        let mut sh = shell(ShellOptions {
            passive,
            ..ShellOptions::default()
        });
        let mut out = Vec::new();
        let got = t.path(&format!("got-{passive}.bin"));
        for cmd in [
            format!("open ::1 {}", v.port),
            "ls".into(),
            "cd pub".into(),
            "pwd".into(),
            "size big.bin".into(),
            format!("get big.bin {}", got.display()),
            "nlist".into(),
            "quit".into(),
        ] {
            sh.execute(&cmd, &mut out)
                .unwrap_or_else(|e| panic!("vsftpd, passive {passive}: {cmd}: {e}"));
        }
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.contains("hello.txt") && text.contains("/pub\n2000000\n"),
            "{text}"
        );
        assert!(text.ends_with("big.bin\n"), "{text}");
        assert_eq!(
            sha(&got),
            sha(&t.root.join("pub/big.bin")),
            "get from vsftpd, passive {passive}"
        );
    }
    // vsftpd is read-only here: a put fails and says why.
    let mut sh = shell(ShellOptions::default());
    let mut out = Vec::new();
    sh.execute(&format!("open ::1 {}", v.port), &mut out)
        .unwrap();
    let local = t.path("x");
    fs::write(&local, b"x").unwrap();
    let e = sh
        .execute(&format!("put {} x", local.display()), &mut out)
        .unwrap_err();
    assert!(e.contains("550") || e.contains("553"), "{e}");
    // The session API directly: EPSV to vsftpd, bytes into memory.
    let (mut s, hello) = Session::connect(net(), "::1", v.port, Duration::from_secs(10)).unwrap();
    assert_eq!(hello.code, 220);
    s.login("anonymous", "x").unwrap();
    let mut mem = Vec::new();
    s.retrieve("hello.txt", &mut mem, true, &mut Progress::new(false, None))
        .unwrap();
    assert_eq!(mem, b"hello\nworld\n");
}

// ----- hostile clients and limits -------------------------------------------------------

fn control(at: SocketAddr) -> (TcpStream, String) {
    let mut c = TcpStream::connect(at).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let hello = read_some(&mut c);
    (c, hello)
}

fn read_some(c: &mut TcpStream) -> String {
    let mut buf = [0u8; 4096];
    let n = c.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Reads until the peer closes; gives what came.
fn read_to_close(c: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let _ = c.read_to_end(&mut all);
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn a_megabyte_without_newline_is_cut_off() {
    let t = Tree::new("long");
    let at = serve(ServerConfig::new(&t.root));
    let (mut c, hello) = control(at);
    assert!(hello.starts_with("220 "), "{hello}");
    let junk = vec![b'A'; 1 << 20];
    // The server may close before all of it is written.
    let _ = c.write_all(&junk);
    let rest = read_to_close(&mut c);
    assert!(rest.starts_with("500 "), "{rest:?}");
}

#[test]
fn connections_beyond_the_limit_get_421() {
    let t = Tree::new("limit");
    let mut cfg = ServerConfig::new(&t.root);
    cfg.max_connections = 2;
    let at = serve(cfg);
    let (_a, h1) = control(at);
    let (_b, h2) = control(at);
    assert!(h1.starts_with("220") && h2.starts_with("220"));
    let (mut c, h3) = control(at);
    assert!(h3.starts_with("421 "), "{h3}");
    assert_eq!(read_to_close(&mut c), "");
}

#[test]
fn an_idle_client_gets_421_and_is_closed() {
    let t = Tree::new("idle");
    let mut cfg = ServerConfig::new(&t.root);
    cfg.idle_timeout = Duration::from_millis(500);
    let at = serve(cfg);
    let (mut c, _) = control(at);
    let t0 = Instant::now();
    let rest = read_to_close(&mut c);
    assert!(rest.starts_with("421 "), "{rest:?}");
    assert!(t0.elapsed() < Duration::from_secs(5));
}

#[test]
fn failed_logins_are_slowed_and_end_the_connection() {
    let t = Tree::new("login");
    let mut cfg = users_cfg(&t);
    cfg.login_delay = Duration::from_millis(300);
    let at = serve(cfg);
    let (mut c, _) = control(at);
    let t0 = Instant::now();
    let mut replies = String::new();
    for _ in 0..3 {
        c.write_all(b"USER alice\r\nPASS wrong\r\n").unwrap();
        replies.push_str(&read_some(&mut c));
        replies.push_str(&read_some(&mut c));
    }
    replies.push_str(&read_to_close(&mut c));
    assert!(
        t0.elapsed() >= Duration::from_millis(900),
        "no delay: {:?}",
        t0.elapsed()
    );
    assert_eq!(replies.matches("530 ").count(), 2, "{replies}");
    assert!(replies.contains("421 "), "{replies}");
    // Anonymous is refused when there is a users file; commands need a login.
    let (mut c, _) = control(at);
    c.write_all(b"RETR hello.txt\r\n").unwrap();
    assert!(read_some(&mut c).starts_with("530 "));
}

#[test]
fn read_only_server_refuses_writes_and_anonymous_reads() {
    let t = Tree::new("ro");
    let at = serve(ServerConfig::new(&t.root));
    let (mut s, _) = Session::connect(net(), "::1", at.port(), Duration::from_secs(10)).unwrap();
    s.login("anonymous", "me@").unwrap();
    assert!(s.mkdir("x").is_err());
    assert!(s.delete("hello.txt").is_err());
    let mut input: &[u8] = b"data";
    assert!(
        s.store(
            &mut input,
            "new",
            true,
            false,
            &mut Progress::new(false, None)
        )
        .is_err()
    );
    assert!(!t.root.join("new").exists() && t.root.join("hello.txt").exists());
    assert_eq!(s.size("pub/big.bin").unwrap(), 2_000_000);
    let r = s.command("ABOR").unwrap();
    assert_eq!(r.code, 225);
    assert_eq!(s.mdtm("hello.txt").unwrap().len(), 14);
}

#[test]
fn abor_stops_a_transfer() {
    let t = Tree::new("abor");
    fs::write(t.root.join("huge.bin"), pattern(64 << 20, 5)).unwrap();
    let at = serve(ServerConfig::new(&t.root));
    let (mut c, _) = control(at);
    c.write_all(b"USER anonymous\r\nPASS x\r\nTYPE I\r\nEPSV\r\n")
        .unwrap();
    let mut text = String::new();
    while !text.contains("229 ") {
        text.push_str(&read_some(&mut c));
    }
    let port: u16 = text
        .split("(|||")
        .nth(1)
        .and_then(|r| r.split('|').next())
        .and_then(|p| p.parse().ok())
        .unwrap();
    let mut data = TcpStream::connect(("::1", port)).unwrap();
    c.write_all(b"RETR huge.bin\r\n").unwrap();
    let mut buf = vec![0u8; 65536];
    let first = read_some(&mut c);
    assert!(first.starts_with("150 "), "{first}");
    data.read_exact(&mut buf).unwrap();
    // Telnet IP and Synch before ABOR, as RFC 959 §4.1.3 has it.
    c.write_all(b"\xff\xf4\xff\xf2ABOR\r\n").unwrap();
    let mut replies = String::new();
    while !replies.contains("226 ") && !replies.contains("225 ") {
        // Keep reading the data so the server is not stuck in a write.
        let _ = data.set_read_timeout(Some(Duration::from_millis(10)));
        let _ = data.read(&mut buf);
        let _ = c.set_read_timeout(Some(Duration::from_millis(50)));
        let mut b = [0u8; 512];
        if let Ok(n) = c.read(&mut b) {
            replies.push_str(&String::from_utf8_lossy(&b[..n]));
        }
    }
    assert!(
        replies.contains("426 ") || replies.contains("226 "),
        "{replies}"
    );
    c.write_all(b"NOOP\r\n").unwrap();
    let _ = c.set_read_timeout(Some(Duration::from_secs(5)));
    let mut more = replies.clone();
    while !more.contains("200 ") {
        more.push_str(&read_some(&mut c));
    }
}
