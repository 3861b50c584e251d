//! The FTP control connection's formats, shared by client and server: bounded line
//! reading, replies (RFC 959 §4.2, multi-line included), the data-port arguments of PORT
//! and PASV (RFC 959 §4.1.2, §4.2) and of EPRT and EPSV (RFC 2428 §2, §3), and the ASCII
//! type's CRLF conversion (RFC 959 §3.1.1.1).

use std::fmt;
use std::io::{self, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

// ----- lines ----------------------------------------------------------------------------

/// What one call of [`LineReader::read_line`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum LineEvent {
    /// A line without its CRLF (or bare LF).
    Line(Vec<u8>),
    /// The peer closed the connection (a partial last line is dropped).
    Eof,
    /// More than the limit arrived without a newline; the reader holds nothing more.
    TooLong,
}

/// Reads CRLF-terminated lines into a buffer of fixed size: a peer that never sends a
/// newline costs at most `max` bytes. A read that times out keeps the partial line, so the
/// next call goes on where it stopped.
#[derive(Debug)]
pub struct LineReader {
    buf: Box<[u8]>,
    len: usize,
}

impl LineReader {
    /// Lines of at most `max` bytes (CRLF included).
    pub fn new(max: usize) -> Self {
        LineReader {
            buf: vec![0; max.max(2)].into_boxed_slice(),
            len: 0,
        }
    }

    /// The next line, reading from `r` as needed. I/O errors (timeouts included) are
    /// returned with the partial line kept.
    pub fn read_line(&mut self, r: &mut dyn Read) -> io::Result<LineEvent> {
        let mut scanned = 0;
        loop {
            if let Some(i) = self.buf[scanned..self.len].iter().position(|&b| b == b'\n') {
                let end = scanned + i;
                let mut line = self.buf[..end].to_vec();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                self.buf.copy_within(end + 1..self.len, 0);
                self.len -= end + 1;
                return Ok(LineEvent::Line(line));
            }
            scanned = self.len;
            if self.len == self.buf.len() {
                self.len = 0;
                return Ok(LineEvent::TooLong);
            }
            match r.read(&mut self.buf[self.len..]) {
                Ok(0) => return Ok(LineEvent::Eof),
                Ok(n) => self.len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Whether an I/O error is a read or write timeout.
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Removes Telnet commands from a control line (RFC 959 §4.1.3: ABOR may come after
/// "IP" and "Synch", IAC IP IAC DM): `IAC x` is dropped, `IAC IAC` is one 0xff byte, and
/// a DM byte (0xf2) left from urgent data is dropped at the start.
pub fn strip_telnet(line: &[u8]) -> Vec<u8> {
    const IAC: u8 = 0xff;
    const DM: u8 = 0xf2;
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            IAC if line.get(i + 1) == Some(&IAC) => {
                out.push(IAC);
                i += 2;
            }
            IAC => i += 2,
            DM if out.is_empty() => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

// ----- replies --------------------------------------------------------------------------

/// A reply: a three-digit code and one or more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Self {
        let text = text.into();
        Reply {
            code,
            lines: text.split('\n').map(str::to_owned).collect(),
        }
    }

    /// 1yz positive preliminary.
    pub fn is_preliminary(&self) -> bool {
        self.code / 100 == 1
    }
    /// 2yz positive completion.
    pub fn is_ok(&self) -> bool {
        self.code / 100 == 2
    }
    /// 3yz positive intermediate.
    pub fn is_intermediate(&self) -> bool {
        self.code / 100 == 3
    }

    /// The text, lines joined by newlines.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The wire form: `ddd text` or, for several lines, `ddd-first` ... `ddd last`
    /// (RFC 959 §4.2). CR and LF inside a line become `?`, so that no text (a file name)
    /// can forge a reply; middle lines start with a space so none reads as a last line.
    pub fn encode(&self) -> Vec<u8> {
        let clean = |s: &str| s.replace(['\r', '\n'], "?");
        let mut out = String::new();
        let n = self.lines.len().max(1);
        for i in 0..n {
            let line = clean(self.lines.get(i).map(String::as_str).unwrap_or(""));
            if n == 1 {
                out.push_str(&format!("{} {line}\r\n", self.code));
            } else if i == 0 {
                out.push_str(&format!("{}-{line}\r\n", self.code));
            } else if i == n - 1 {
                out.push_str(&format!("{} {line}\r\n", self.code));
            } else if line.starts_with(' ') {
                out.push_str(&format!("{line}\r\n"));
            } else {
                out.push_str(&format!(" {line}\r\n"));
            }
        }
        out.into_bytes()
    }
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{} {l}", self.code)?;
        }
        Ok(())
    }
}

/// Why a reply could not be read.
#[derive(Debug)]
pub enum ReplyError {
    Io(io::Error),
    /// The server closed the control connection.
    Closed,
    /// Not a reply: the offending line.
    Malformed(String),
    /// A line or the whole reply was longer than the limits.
    TooLong,
}

impl fmt::Display for ReplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplyError::Io(e) => write!(f, "{e}"),
            ReplyError::Closed => write!(f, "the server closed the control connection"),
            ReplyError::Malformed(l) => write!(f, "not an FTP reply: {l:?}"),
            ReplyError::TooLong => write!(f, "the server's reply is too long"),
        }
    }
}

impl From<io::Error> for ReplyError {
    fn from(e: io::Error) -> Self {
        ReplyError::Io(e)
    }
}

/// Lines of a multi-line reply kept at most; more are read and dropped.
pub const MAX_REPLY_LINES: usize = 10_000;

/// The three-digit code at the start of `line`, and the character after it.
fn reply_code(line: &[u8]) -> Option<(u16, u8)> {
    let d = line.get(..3)?;
    if !d.iter().all(u8::is_ascii_digit) || !(b'1'..=b'5').contains(&d[0]) {
        return None;
    }
    let code = d.iter().fold(0u16, |a, &b| a * 10 + u16::from(b - b'0'));
    Some((code, line.get(3).copied().unwrap_or(b' ')))
}

/// Reads one reply, multi-line ones included: `ddd-` opens, and the first line that
/// starts with the same `ddd ` closes (RFC 959 §4.2).
pub fn read_reply(reader: &mut LineReader, r: &mut dyn Read) -> Result<Reply, ReplyError> {
    let first = next_line(reader, r)?;
    let Some((code, sep)) = reply_code(&first) else {
        return Err(ReplyError::Malformed(
            String::from_utf8_lossy(&first).into_owned(),
        ));
    };
    let text = |l: &[u8]| String::from_utf8_lossy(l.get(4..).unwrap_or(&[])).into_owned();
    let mut lines = vec![text(&first)];
    if sep != b'-' {
        return Ok(Reply { code, lines });
    }
    loop {
        let line = next_line(reader, r)?;
        if let Some((c, b' ')) = reply_code(&line)
            && c == code
        {
            lines.push(text(&line));
            return Ok(Reply { code, lines });
        }
        if lines.len() < MAX_REPLY_LINES {
            let s = String::from_utf8_lossy(&line);
            lines.push(s.strip_prefix(' ').unwrap_or(&s).to_owned());
        }
    }
}

fn next_line(reader: &mut LineReader, r: &mut dyn Read) -> Result<Vec<u8>, ReplyError> {
    match reader.read_line(r)? {
        LineEvent::Line(l) => Ok(l),
        LineEvent::Eof => Err(ReplyError::Closed),
        LineEvent::TooLong => Err(ReplyError::TooLong),
    }
}

// ----- data ports -----------------------------------------------------------------------

/// Why an EPRT, EPSV, PORT or PASV argument was refused, with the reply it earns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortError {
    /// RFC 2428 §2: "522 Network protocol not supported, use (1,2)".
    Protocol,
    /// 501: the argument does not parse.
    Syntax(&'static str),
}

impl PortError {
    /// The reply for this error; `ours` lists the protocol numbers offered (`"2"`).
    pub fn reply(&self, ours: &str) -> Reply {
        match self {
            PortError::Protocol => {
                Reply::new(522, format!("Network protocol not supported, use ({ours})"))
            }
            PortError::Syntax(why) => Reply::new(501, format!("Syntax error in argument: {why}")),
        }
    }
}

/// RFC 2428 network protocol numbers (address family numbers of IANA).
pub const PROTO_IPV4: u8 = 1;
pub const PROTO_IPV6: u8 = 2;

/// Parses the argument of EPRT: `<d><net-prt><d><net-addr><d><tcp-port><d>`, where `d`
/// is any printable ASCII character other than a digit or a character of the address
/// (RFC 2428 §2: "The delimiter character MUST be one of the ASCII characters in range
/// 33-126 inclusive").
pub fn parse_eprt(arg: &str) -> Result<SocketAddr, PortError> {
    let arg = arg.trim();
    let d = arg.chars().next().ok_or(PortError::Syntax("empty"))?;
    if !(33..=126).contains(&(d as u32)) || d.is_ascii_alphanumeric() || d == ':' || d == '.' {
        return Err(PortError::Syntax("bad delimiter"));
    }
    let fields: Vec<&str> = arg.split(d).collect();
    // "" proto addr port "" : exactly five pieces.
    if fields.len() != 5 || !fields[0].is_empty() || !fields[4].is_empty() {
        return Err(PortError::Syntax("want |proto|address|port|"));
    }
    let proto = match fields[1] {
        "1" => PROTO_IPV4,
        "2" => PROTO_IPV6,
        p if !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(PortError::Protocol);
        }
        _ => return Err(PortError::Syntax("bad protocol number")),
    };
    let ip: IpAddr = match proto {
        PROTO_IPV4 => fields[2]
            .parse::<Ipv4Addr>()
            .map_err(|_| PortError::Syntax("bad IPv4 address"))?
            .into(),
        _ => fields[2]
            .parse::<Ipv6Addr>()
            .map_err(|_| PortError::Syntax("bad IPv6 address"))?
            .into(),
    };
    let port = parse_port(fields[3])?;
    Ok(SocketAddr::new(ip, port))
}

/// Formats an EPRT argument for `addr` (`|2|2001:db8::1|5282|`).
pub fn format_eprt(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V4(a) => format!("|1|{a}|{}|", addr.port()),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => format!("|1|{v4}|{}|", addr.port()),
            None => format!("|2|{a}|{}|", addr.port()),
        },
    }
}

fn parse_port(s: &str) -> Result<u16, PortError> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PortError::Syntax("bad port"));
    }
    match s.parse::<u16>() {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(PortError::Syntax("port out of range")),
    }
}

/// The argument of EPSV (RFC 2428 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpsvArg {
    /// No argument: the control connection's protocol.
    Default,
    /// A network protocol number.
    Proto(u8),
    /// `EPSV ALL`: from now on only EPSV.
    All,
}

pub fn parse_epsv(arg: &str) -> Result<EpsvArg, PortError> {
    let arg = arg.trim();
    if arg.is_empty() {
        return Ok(EpsvArg::Default);
    }
    if arg.eq_ignore_ascii_case("ALL") {
        return Ok(EpsvArg::All);
    }
    if arg.len() <= 3 && arg.bytes().all(|b| b.is_ascii_digit()) {
        return match arg.parse::<u8>() {
            Ok(p) => Ok(EpsvArg::Proto(p)),
            Err(_) => Err(PortError::Protocol),
        };
    }
    Err(PortError::Syntax("want nothing, a protocol number or ALL"))
}

/// The port in a 229 reply: `Entering Extended Passive Mode (|||6446|)`.
pub fn parse_epsv_reply(text: &str) -> Option<u16> {
    let open = text.find('(')?;
    let rest = &text[open + 1..];
    let close = rest.find(')')?;
    let inner = &rest[..close];
    let d = inner.chars().next()?;
    let f: Vec<&str> = inner.split(d).collect();
    if f.len() != 5 || !f[1].is_empty() || !f[2].is_empty() {
        return None;
    }
    parse_port(f[3]).ok()
}

/// Parses the argument of PORT, `h1,h2,h3,h4,p1,p2` (RFC 959 §4.1.2).
pub fn parse_port_arg(arg: &str) -> Result<SocketAddr, PortError> {
    let nums = six_numbers(arg.trim()).ok_or(PortError::Syntax("want h1,h2,h3,h4,p1,p2"))?;
    let port = u16::from(nums[4]) << 8 | u16::from(nums[5]);
    if port == 0 {
        return Err(PortError::Syntax("port out of range"));
    }
    Ok(SocketAddr::new(
        Ipv4Addr::new(nums[0], nums[1], nums[2], nums[3]).into(),
        port,
    ))
}

/// The address in a 227 reply, wherever the six numbers stand in its text.
pub fn parse_pasv_reply(text: &str) -> Option<SocketAddr> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(rest.len());
    parse_port_arg(&rest[..end]).ok()
}

/// The 227 text for an IPv4 address.
pub fn format_pasv(addr: std::net::SocketAddrV4) -> String {
    let [a, b, c, d] = addr.ip().octets();
    format!(
        "Entering Passive Mode ({a},{b},{c},{d},{},{})",
        addr.port() >> 8,
        addr.port() & 0xff
    )
}

fn six_numbers(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut it = s.split(',');
    for slot in &mut out {
        let f = it.next()?.trim();
        if f.is_empty() || f.len() > 3 || !f.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *slot = f.parse().ok()?;
    }
    it.next().is_none().then_some(out)
}

/// The path in a 257 reply: `"/a ""quoted"" dir" created` (RFC 959 appendix II).
pub fn parse_257(text: &str) -> Option<String> {
    let rest = &text[text.find('"')? + 1..];
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                return Some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

/// A path quoted for a 257 reply.
pub fn quote_257(path: &str) -> String {
    format!("\"{}\"", path.replace('"', "\"\""))
}

// ----- the ASCII type -------------------------------------------------------------------

/// Local text to the network's: every LF not already after a CR becomes CRLF.
#[derive(Debug, Default, Clone)]
pub struct ToCrlf {
    last_cr: bool,
}

impl ToCrlf {
    pub fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if b == b'\n' && !self.last_cr {
                out.push(b'\r');
            }
            out.push(b);
            self.last_cr = b == b'\r';
        }
    }
}

/// The network's text to local: CRLF becomes LF; a CR alone stays. A CR at the end of one
/// chunk waits for the next.
#[derive(Debug, Default, Clone)]
pub struct FromCrlf {
    pending_cr: bool,
}

impl FromCrlf {
    pub fn convert(&mut self, input: &[u8], out: &mut Vec<u8>) {
        for &b in input {
            if self.pending_cr && b != b'\n' {
                out.push(b'\r');
            }
            self.pending_cr = b == b'\r';
            if !self.pending_cr {
                out.push(b);
            }
        }
    }

    /// At the end of the data: a CR still held is written.
    pub fn finish(&mut self, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.pending_cr) {
            out.push(b'\r');
        }
    }
}

/// How many bytes `data` is in the ASCII type (for SIZE in TYPE A, RFC 3659 §4).
pub fn crlf_len(data: &[u8], last_cr: &mut bool) -> u64 {
    let mut n = data.len() as u64;
    for &b in data {
        if b == b'\n' && !*last_cr {
            n += 1;
        }
        *last_cr = b == b'\r';
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], max: usize) -> Vec<LineEvent> {
        let mut r = LineReader::new(max);
        let mut src = input;
        let mut out = Vec::new();
        loop {
            let ev = r.read_line(&mut src).unwrap();
            let end = ev == LineEvent::Eof;
            out.push(ev);
            if end {
                return out;
            }
        }
    }

    #[test]
    fn lines_end_in_crlf_or_lf() {
        assert_eq!(
            lines(b"USER a\r\nPASS b\nNOOP", 64),
            vec![
                LineEvent::Line(b"USER a".to_vec()),
                LineEvent::Line(b"PASS b".to_vec()),
                LineEvent::Eof
            ]
        );
    }

    #[test]
    fn an_endless_line_is_cut_at_the_limit() {
        let big = vec![b'A'; 100_000];
        let ev = lines(&big, 512);
        assert_eq!(ev[0], LineEvent::TooLong);
    }

    #[test]
    fn a_line_split_over_timeouts_is_kept() {
        struct Chunks(Vec<io::Result<Vec<u8>>>);
        impl Read for Chunks {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Ok(0);
                }
                let c = self.0.remove(0)?;
                buf[..c.len()].copy_from_slice(&c);
                Ok(c.len())
            }
        }
        let mut src = Chunks(vec![
            Ok(b"NO".to_vec()),
            Err(io::ErrorKind::WouldBlock.into()),
            Ok(b"OP\r\n".to_vec()),
        ]);
        let mut r = LineReader::new(64);
        assert!(is_timeout(&r.read_line(&mut src).unwrap_err()));
        assert_eq!(
            r.read_line(&mut src).unwrap(),
            LineEvent::Line(b"NOOP".to_vec())
        );
    }

    #[test]
    fn telnet_ip_and_synch_before_abor() {
        assert_eq!(strip_telnet(b"\xff\xf4\xff\xf2ABOR"), b"ABOR");
        assert_eq!(strip_telnet(b"\xf2ABOR"), b"ABOR");
        assert_eq!(strip_telnet(b"RETR a\xff\xffb"), b"RETR a\xffb");
        assert_eq!(strip_telnet(b"X\xff"), b"X");
    }

    fn reply_of(text: &[u8]) -> Result<Reply, ReplyError> {
        let mut src = text;
        read_reply(&mut LineReader::new(128), &mut src)
    }

    #[test]
    fn replies_single_and_multi_line() {
        let r = reply_of(b"220 hello\r\n").unwrap();
        assert_eq!((r.code, r.lines.clone()), (220, vec!["hello".to_owned()]));
        // RFC 959 §4.2's example, with a line inside that starts with digits.
        let r = reply_of(b"123-First line\r\nSecond line\r\n  234 A line beginning with numbers\r\n234-not the end\r\n123 The last line\r\n").unwrap();
        assert_eq!(r.code, 123);
        assert_eq!(r.lines.len(), 5);
        assert_eq!(r.lines[4], "The last line");
        let r = reply_of(b"211-Features:\r\n EPSV\r\n211 End\r\n").unwrap();
        assert_eq!(r.lines, vec!["Features:", "EPSV", "End"]);
        assert!(matches!(
            reply_of(b"hello\r\n"),
            Err(ReplyError::Malformed(_))
        ));
        assert!(matches!(reply_of(b"211-open\r\n"), Err(ReplyError::Closed)));
        assert!(matches!(
            reply_of(b"600 x\r\n"),
            Err(ReplyError::Malformed(_))
        ));
    }

    #[test]
    fn replies_encode_and_read_back() {
        let r = Reply::new(211, "Features:\nEPSV\n123 x\nEnd");
        let wire = r.encode();
        assert_eq!(
            wire,
            b"211-Features:\r\n EPSV\r\n 123 x\r\n211 End\r\n".to_vec()
        );
        assert_eq!(reply_of(&wire).unwrap().lines, r.lines);
        // A file name cannot end the reply early or forge another.
        let r = Reply {
            code: 550,
            lines: vec!["a\r\n230 ok".into()],
        };
        assert_eq!(r.encode(), b"550 a??230 ok\r\n".to_vec());
    }

    #[test]
    fn eprt_as_in_rfc_2428() {
        assert_eq!(
            parse_eprt("|1|132.235.1.2|6275|").unwrap(),
            "132.235.1.2:6275".parse().unwrap()
        );
        assert_eq!(
            parse_eprt("|2|1080::8:800:200C:417A|5282|").unwrap(),
            "[1080::8:800:200C:417A]:5282".parse().unwrap()
        );
        assert_eq!(
            parse_eprt("!2!::1!21!").unwrap(),
            "[::1]:21".parse().unwrap()
        );
        let a: SocketAddr = "[2001:db8::7]:40000".parse().unwrap();
        assert_eq!(parse_eprt(&format_eprt(a)).unwrap(), a);
    }

    #[test]
    fn eprt_hostile() {
        use PortError::*;
        // An unknown protocol earns 522; a wrong family for the address is a syntax error.
        assert_eq!(parse_eprt("|3|::1|21|"), Err(Protocol));
        assert_eq!(parse_eprt("|99|::1|21|"), Err(Protocol));
        assert!(matches!(parse_eprt("|1|::1|21|"), Err(Syntax(_))));
        assert!(matches!(parse_eprt("|2|10.0.0.1|21|"), Err(Syntax(_))));
        for bad in [
            "",
            "|",
            "||||",
            "|2|::1|21",
            "|2|::1|21||",
            "2|::1|21|",
            ":2:::1:21:",
            "1213::1121",
            "|2|::1|0|",
            "|2|::1|65536|",
            "|2|::1|99999999999999999999|",
            "|2|::1|-1|",
            "|2|::1|+21|",
            "|2|::1| 21|",
            "|99999999999|::1|21|",
            "|-1|::1|21|",
            "|2|fe80::1%eth0|21|",
            "|2|[::1]|21|",
            "\u{e9}2\u{e9}::1\u{e9}21\u{e9}",
            " |2|::1|21|x",
        ] {
            assert!(parse_eprt(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn epsv_arguments_and_replies() {
        assert_eq!(parse_epsv(""), Ok(EpsvArg::Default));
        assert_eq!(parse_epsv("2"), Ok(EpsvArg::Proto(2)));
        assert_eq!(parse_epsv("all"), Ok(EpsvArg::All));
        assert_eq!(parse_epsv("999"), Err(PortError::Protocol));
        assert!(parse_epsv("1 2").is_err());
        assert!(parse_epsv("99999999999999").is_err());
        assert_eq!(
            parse_epsv_reply("Entering Extended Passive Mode (|||6446|)"),
            Some(6446)
        );
        assert_eq!(parse_epsv_reply("Entering (!!!21!)"), Some(21));
        for bad in [
            "(|||0|)",
            "(|||70000|)",
            "(||::1|21|)",
            "|||21|",
            "(|||21)",
            "(",
        ] {
            assert_eq!(parse_epsv_reply(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn port_and_pasv() {
        assert_eq!(
            parse_port_arg("192,0,2,1,4,1").unwrap(),
            "192.0.2.1:1025".parse().unwrap()
        );
        for bad in [
            "192,0,2,1,4",
            "192,0,2,1,4,1,1",
            "256,0,2,1,4,1",
            "a,b,c,d,e,f",
            "1,1,1,1,0,0",
            "",
        ] {
            assert!(parse_port_arg(bad).is_err(), "{bad:?}");
        }
        let t = format_pasv("192.0.2.9:5001".parse().unwrap());
        assert_eq!(
            parse_pasv_reply(&t),
            Some("192.0.2.9:5001".parse().unwrap())
        );
    }

    #[test]
    fn quoted_paths() {
        assert_eq!(
            parse_257("\"/a \"\"b\"\"\" is current").as_deref(),
            Some("/a \"b\"")
        );
        assert_eq!(parse_257(&quote_257("/x\"y")).as_deref(), Some("/x\"y"));
        assert_eq!(parse_257("no quotes"), None);
        assert_eq!(parse_257("\"unterminated"), None);
    }

    #[test]
    fn ascii_conversion_both_ways() {
        let mut out = Vec::new();
        let mut to = ToCrlf::default();
        to.convert(b"a\nb\r", &mut out);
        to.convert(b"\nc\n", &mut out);
        assert_eq!(out, b"a\r\nb\r\nc\r\n");
        let mut last = false;
        assert_eq!(crlf_len(b"a\nb\r\nc\n", &mut last), 9);

        let mut back = Vec::new();
        let mut from = FromCrlf::default();
        from.convert(b"a\r\nb\r", &mut back);
        from.convert(b"\nc\rd\r", &mut back);
        from.finish(&mut back);
        assert_eq!(back, b"a\nb\nc\rd\r");
    }

    proptest::proptest! {
        #[test]
        fn ascii_round_trip_of_lf_text(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), cut in 0usize..512) {
            // Text without CR survives LF -> CRLF -> LF, however it is cut into chunks.
            let data: Vec<u8> = data.into_iter().filter(|&b| b != b'\r').collect();
            let cut = cut.min(data.len());
            let mut wire = Vec::new();
            let mut to = ToCrlf::default();
            to.convert(&data[..cut], &mut wire);
            to.convert(&data[cut..], &mut wire);
            let mut last = false;
            proptest::prop_assert_eq!(crlf_len(&data, &mut last), wire.len() as u64);
            let mut back = Vec::new();
            let mut from = FromCrlf::default();
            let c2 = cut.min(wire.len());
            from.convert(&wire[..c2], &mut back);
            from.convert(&wire[c2..], &mut back);
            from.finish(&mut back);
            proptest::prop_assert_eq!(back, data);
        }

        #[test]
        fn port_parsers_never_panic(s in "\\PC{0,80}") {
            let _ = parse_eprt(&s);
            let _ = parse_epsv(&s);
            let _ = parse_port_arg(&s);
            let _ = parse_pasv_reply(&s);
            let _ = parse_epsv_reply(&s);
            let _ = parse_257(&s);
        }

        #[test]
        fn replies_never_panic(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut src = &data[..];
            let mut r = LineReader::new(64);
            for _ in 0..20 {
                if read_reply(&mut r, &mut src).is_err() { break; }
            }
        }
    }
}
