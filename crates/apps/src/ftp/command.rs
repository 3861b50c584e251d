//! The server's reading of one command line (RFC 959 §5.3, RFC 2428, RFC 3659): a verb,
//! case-insensitive, and its argument, checked here so that the server's logic takes only
//! well-formed commands. Anything else becomes the reply it earns (500, 501, 502, 504,
//! 522). Never panics, whatever the bytes.

use std::net::SocketAddr;

use super::proto::{EpsvArg, PortError, Reply, parse_eprt, parse_epsv, parse_port_arg};

/// A command the server understands, with its argument checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    User(String),
    Pass(String),
    Acct,
    Quit,
    Noop,
    Syst,
    Feat,
    Help,
    /// STAT without argument: the session's status.
    Stat,
    Opts(String),
    Auth,
    Pwd,
    Cwd(String),
    Cdup,
    /// TYPE: true for I (image, also L 8), false for A (ASCII, non-print).
    Type(bool),
    /// MODE S, the only mode.
    Mode,
    /// STRU F, the only structure.
    Stru,
    Port(SocketAddr),
    Pasv,
    Eprt(SocketAddr),
    Epsv(EpsvArg),
    Rest(u64),
    Retr(String),
    Stor(String),
    Appe(String),
    /// LIST and NLST: the path, options (`-la`) removed; empty for the current directory.
    List(String),
    Nlst(String),
    Mlsd(String),
    Mlst(String),
    Size(String),
    Mdtm(String),
    Dele(String),
    Mkd(String),
    Rmd(String),
    Rnfr(String),
    Rnto(String),
    Abor,
    Allo,
}

impl Command {
    /// Whether the command may come before login.
    pub fn before_login(&self) -> bool {
        matches!(
            self,
            Command::User(_)
                | Command::Pass(_)
                | Command::Acct
                | Command::Quit
                | Command::Noop
                | Command::Syst
                | Command::Feat
                | Command::Help
                | Command::Opts(_)
                | Command::Auth
                | Command::Abor
                | Command::Stat
        )
    }

    /// Whether the command changes the tree (allowed only on a writable server).
    pub fn writes(&self) -> bool {
        matches!(
            self,
            Command::Stor(_)
                | Command::Appe(_)
                | Command::Dele(_)
                | Command::Mkd(_)
                | Command::Rmd(_)
                | Command::Rnfr(_)
                | Command::Rnto(_)
        )
    }
}

/// The verb of a line, upper-cased (for logs and for the commands read during a
/// transfer); `None` when the line does not start with a word.
pub fn verb(line: &[u8]) -> Option<String> {
    let end = line.iter().position(|&b| b == b' ').unwrap_or(line.len());
    let v = &line[..end];
    (!v.is_empty() && v.len() <= 8 && v.iter().all(u8::is_ascii_alphabetic))
        .then(|| String::from_utf8_lossy(v).to_ascii_uppercase())
}

/// Parses one command line (CRLF and Telnet commands already removed).
pub fn parse(line: &[u8]) -> Result<Command, Reply> {
    let Some(verb) = verb(line) else {
        return Err(Reply::new(500, "Syntax error: no command"));
    };
    let raw = line.get(verb.len() + 1..).unwrap_or(&[]);
    let Ok(arg) = std::str::from_utf8(raw) else {
        return Err(Reply::new(501, "Arguments must be UTF-8 (RFC 2640)"));
    };
    let need = |arg: &str| -> Result<String, Reply> {
        if arg.is_empty() {
            Err(Reply::new(501, format!("{verb} needs an argument")))
        } else {
            Ok(arg.to_owned())
        }
    };
    let none = |c: Command| -> Result<Command, Reply> { Ok(c) };
    use Command as C;
    match verb.as_str() {
        "USER" => Ok(C::User(need(arg)?)),
        "PASS" => Ok(C::Pass(arg.to_owned())),
        "ACCT" => none(C::Acct),
        "QUIT" => none(C::Quit),
        "NOOP" => none(C::Noop),
        "SYST" => none(C::Syst),
        "FEAT" => none(C::Feat),
        "HELP" => none(C::Help),
        "STAT" if arg.trim().is_empty() => none(C::Stat),
        "STAT" => Err(Reply::new(504, "STAT with a path is not offered: use LIST")),
        "OPTS" => Ok(C::Opts(need(arg)?)),
        "AUTH" | "PBSZ" | "PROT" | "CCC" | "ADAT" => none(C::Auth),
        "PWD" | "XPWD" => none(C::Pwd),
        "CWD" | "XCWD" => Ok(C::Cwd(need(arg)?)),
        "CDUP" | "XCUP" => none(C::Cdup),
        "TYPE" => parse_type(arg),
        "MODE" if arg.eq_ignore_ascii_case("S") => none(C::Mode),
        "MODE" => Err(Reply::new(504, "Only MODE S (stream)")),
        "STRU" if arg.eq_ignore_ascii_case("F") => none(C::Stru),
        "STRU" => Err(Reply::new(504, "Only STRU F (file)")),
        "PORT" => parse_port_arg(arg).map(C::Port).map_err(|e| e.reply("1")),
        "PASV" => none(C::Pasv),
        "EPRT" => parse_eprt(arg).map(C::Eprt).map_err(|e| e.reply("1,2")),
        "EPSV" => parse_epsv(arg).map(C::Epsv).map_err(|e| e.reply("1,2")),
        "REST" => {
            let a = arg.trim();
            if a.is_empty() || a.len() > 19 || !a.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Reply::new(501, "REST wants a byte offset"));
            }
            a.parse()
                .map(C::Rest)
                .map_err(|_| Reply::new(501, "REST offset out of range"))
        }
        "RETR" => Ok(C::Retr(need(arg)?)),
        "STOR" => Ok(C::Stor(need(arg)?)),
        "APPE" => Ok(C::Appe(need(arg)?)),
        "LIST" => Ok(C::List(strip_ls_options(arg))),
        "NLST" => Ok(C::Nlst(strip_ls_options(arg))),
        "MLSD" => Ok(C::Mlsd(arg.to_owned())),
        "MLST" => Ok(C::Mlst(arg.to_owned())),
        "SIZE" => Ok(C::Size(need(arg)?)),
        "MDTM" => Ok(C::Mdtm(need(arg)?)),
        "DELE" => Ok(C::Dele(need(arg)?)),
        "MKD" | "XMKD" => Ok(C::Mkd(need(arg)?)),
        "RMD" | "XRMD" => Ok(C::Rmd(need(arg)?)),
        "RNFR" => Ok(C::Rnfr(need(arg)?)),
        "RNTO" => Ok(C::Rnto(need(arg)?)),
        "ABOR" => none(C::Abor),
        "ALLO" => none(C::Allo),
        _ => Err(Reply::new(502, format!("{verb} not implemented"))),
    }
}

fn parse_type(arg: &str) -> Result<Command, Reply> {
    let words: Vec<String> = arg
        .split_ascii_whitespace()
        .map(str::to_ascii_uppercase)
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["I"] | ["L", "8"] => Ok(Command::Type(true)),
        ["A"] | ["A", "N"] => Ok(Command::Type(false)),
        [] => Err(Reply::new(501, "TYPE needs A or I")),
        _ => Err(Reply::new(504, "Only TYPE A (non-print) and TYPE I")),
    }
}

/// `-la path` as `path`: clients pass ls options to LIST; a name that starts with `-`
/// can still be given as `./-name`.
fn strip_ls_options(arg: &str) -> String {
    let mut rest = arg.trim_start();
    while rest.starts_with('-') {
        match rest.split_once(' ') {
            Some((_, r)) => rest = r.trim_start(),
            None => rest = "",
        }
    }
    rest.to_owned()
}

impl From<PortError> for Reply {
    fn from(e: PortError) -> Self {
        e.reply("1,2")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_arguments() {
        assert_eq!(
            parse(b"user anonymous"),
            Ok(Command::User("anonymous".into()))
        );
        assert_eq!(parse(b"PASS"), Ok(Command::Pass(String::new())));
        assert_eq!(
            parse(b"RETR a file.txt"),
            Ok(Command::Retr("a file.txt".into()))
        );
        assert_eq!(parse(b"LIST -la /pub"), Ok(Command::List("/pub".into())));
        assert_eq!(parse(b"LIST -a"), Ok(Command::List(String::new())));
        assert_eq!(parse(b"TYPE L 8"), Ok(Command::Type(true)));
        assert_eq!(parse(b"type a n"), Ok(Command::Type(false)));
        assert_eq!(parse(b"REST 100"), Ok(Command::Rest(100)));
        assert_eq!(parse(b"EPSV ALL"), Ok(Command::Epsv(EpsvArg::All)));
        assert_eq!(
            parse(b"EPRT |2|::1|5000|"),
            Ok(Command::Eprt("[::1]:5000".parse().unwrap()))
        );
        assert_eq!(parse(b"XPWD"), Ok(Command::Pwd));
    }

    #[test]
    fn refusals_carry_the_right_code() {
        let code = |l: &[u8]| parse(l).unwrap_err().code;
        assert_eq!(code(b""), 500);
        assert_eq!(code(b" USER x"), 500);
        assert_eq!(code(b"FROB"), 502);
        assert_eq!(code(b"RETR"), 501);
        assert_eq!(code(b"RETR \xff"), 501);
        assert_eq!(code(b"TYPE E"), 504);
        assert_eq!(code(b"MODE B"), 504);
        assert_eq!(code(b"STRU R"), 504);
        assert_eq!(code(b"EPRT |3|::1|21|"), 522);
        assert_eq!(code(b"EPRT |2|::1|99999|"), 501);
        assert_eq!(code(b"REST -1"), 501);
        assert_eq!(code(b"REST 99999999999999999999"), 501);
        assert_eq!(code(b"PORT 1,2,3"), 501);
    }

    proptest::proptest! {
        #[test]
        fn random_lines_never_panic(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = parse(&line);
            let _ = parse(&super::super::proto::strip_telnet(&line));
        }

        #[test]
        fn random_commands_with_known_verbs_never_panic(
            v in proptest::sample::select(vec!["USER","PASS","CWD","TYPE","PORT","EPRT","EPSV","REST","LIST","NLST","RETR","STOR","MLST","OPTS","STAT","MODE","STRU"]),
            arg in "\\PC{0,60}",
        ) {
            let _ = parse(format!("{v} {arg}").as_bytes());
        }
    }
}
