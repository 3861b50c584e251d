//! Directory listings: `ls -l` lines for LIST (the format every client parses), names for
//! NLST, and the machine-readable facts of MLSD/MLST and the time of MDTM (RFC 3659
//! §2.3, §3, §7).

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A listing never carries CR or LF inside a name (it would end the line early).
pub fn clean_name(name: &str) -> String {
    name.replace(['\r', '\n'], "?")
}

/// One `ls -l` line (without CRLF): `-rw-r--r-- 1 ftp ftp 1234 Nov 26 13:21 name`, the
/// year instead of the time for entries older than six months or in the future.
pub fn ls_line(name: &str, md: &Metadata, now: SystemTime) -> String {
    let mode = md.permissions().mode();
    let kind = if md.is_dir() {
        'd'
    } else if md.file_type().is_symlink() {
        'l'
    } else {
        '-'
    };
    let mut perms = String::with_capacity(10);
    perms.push(kind);
    for shift in [6u32, 3, 0] {
        let bits = (mode >> shift) & 7;
        perms.push(if bits & 4 != 0 { 'r' } else { '-' });
        perms.push(if bits & 2 != 0 { 'w' } else { '-' });
        perms.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    let mtime = md.modified().unwrap_or(UNIX_EPOCH);
    let secs = unix_secs(mtime);
    let (y, mo, d, h, mi, _) = civil(secs);
    let half_year = Duration::from_secs(183 * 86_400);
    let recent = match now.duration_since(mtime) {
        Ok(age) => age < half_year,
        Err(_) => false,
    };
    let when = if recent {
        format!("{} {d:>2} {h:02}:{mi:02}", MONTHS[mo as usize - 1])
    } else {
        format!("{} {d:>2}  {y}", MONTHS[mo as usize - 1])
    };
    format!(
        "{perms} {:>3} ftp      ftp      {:>12} {when} {}",
        md.nlink(),
        md.len(),
        clean_name(name)
    )
}

/// `YYYYMMDDHHMMSS` in UTC, as MDTM and the `modify` fact want it.
pub fn time_val(t: SystemTime) -> String {
    let (y, mo, d, h, mi, s) = civil(unix_secs(t));
    format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
}

/// The facts of one entry, `type=file;size=12;modify=...;perm=r;` (RFC 3659 §7.5).
/// `kind` overrides the type (`cdir`, `pdir`).
pub fn facts(md: &Metadata, kind: Option<&str>, writable: bool) -> String {
    let dir = md.is_dir();
    let kind = kind.unwrap_or(if dir { "dir" } else { "file" });
    let perm = match (dir, writable) {
        (true, true) => "elcmfp",
        (true, false) => "el",
        (false, true) => "radfw",
        (false, false) => "r",
    };
    let modify = md.modified().map(time_val).unwrap_or_default();
    let mut out = format!("type={kind};");
    if !dir {
        out.push_str(&format!("size={};", md.len()));
    }
    if !modify.is_empty() {
        out.push_str(&format!("modify={modify};"));
    }
    out.push_str(&format!("perm={perm};"));
    out.push_str(&format!(
        "UNIX.mode=0{:o};",
        md.permissions().mode() & 0o7777
    ));
    out
}

fn unix_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX / 2),
    }
}

/// Seconds since 1970 as (year, month, day, hour, minute, second) in UTC (the civil
/// calendar from day counts, proleptic Gregorian).
fn civil(secs: i64) -> (i64, u32, u32, u32, u32, u32) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        m,
        d,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar() {
        assert_eq!(civil(0), (1970, 1, 1, 0, 0, 0));
        assert_eq!(civil(951_782_400), (2000, 2, 29, 0, 0, 0));
        assert_eq!(civil(1_700_000_000), (2023, 11, 14, 22, 13, 20));
        assert_eq!(civil(-1), (1969, 12, 31, 23, 59, 59));
        assert_eq!(
            time_val(UNIX_EPOCH + Duration::from_secs(1_700_000_000)),
            "20231114221320"
        );
    }

    #[test]
    fn ls_lines_and_facts() {
        let dir = std::env::temp_dir().join(format!("sixstack-ls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("a file");
        std::fs::write(&f, b"12345").unwrap();
        let md = std::fs::metadata(&f).unwrap();
        let now = md.modified().unwrap() + Duration::from_secs(60);
        let line = ls_line("a file", &md, now);
        assert!(line.starts_with("-rw"), "{line}");
        assert!(line.contains(" 5 "), "{line}");
        assert!(line.ends_with(" a file"), "{line}");
        let old = ls_line("x", &md, now + Duration::from_secs(400 * 86_400));
        assert!(!old.contains(':'), "{old}");
        let f = facts(&md, None, false);
        assert!(f.starts_with("type=file;size=5;modify="), "{f}");
        assert!(f.contains("perm=r;"));
        let dmd = std::fs::metadata(&dir).unwrap();
        assert!(ls_line("d", &dmd, now).starts_with('d'));
        assert!(facts(&dmd, Some("cdir"), true).starts_with("type=cdir;modify="));
        assert_eq!(clean_name("a\r\nb"), "a??b");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
