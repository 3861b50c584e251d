//! Capture files: classic pcap (microsecond and nanosecond, either byte order) and pcapng
//! (sections, interfaces with their timestamp resolution and offset, enhanced, simple and
//! obsolete packet blocks), read from any `Read` and written to any `Write`.
//!
//! Reading holds one record at a time in a reused buffer and refuses records larger than
//! [`MAX_RECORD`], so a hostile file cannot make it allocate without bound. The formats
//! are those of the tcpdump.org pcap pages and draft-ietf-opsawg-pcapng.

use std::fmt;
use std::io::{self, Read, Write};

/// The largest record or block this reader accepts (pcap's customary 256 KiB snap length
/// plus room for pcapng options).
pub const MAX_RECORD: usize = 16 << 20;
/// The most interfaces one pcapng section may describe.
pub const MAX_INTERFACES: usize = 4096;

const PCAP_MAGIC_US: u32 = 0xa1b2_c3d4;
const PCAP_MAGIC_NS: u32 = 0xa1b2_3c4d;
const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
const PCAPNG_BYTE_ORDER: u32 = 0x1a2b_3c4d;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_OPB: u32 = 0x0000_0002;
const PCAPNG_SPB: u32 = 0x0000_0003;
const PCAPNG_EPB: u32 = 0x0000_0006;

/// Why a capture file could not be read.
#[derive(Debug)]
pub enum PcapError {
    Io(io::Error),
    /// The file is not pcap or pcapng, or a block or record is malformed.
    Format {
        offset: u64,
        reason: String,
    },
}

impl fmt::Display for PcapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcapError::Io(e) => write!(f, "read error: {e}"),
            PcapError::Format { offset, reason } => write!(f, "{reason} (at byte {offset})"),
        }
    }
}

impl std::error::Error for PcapError {}

impl From<io::Error> for PcapError {
    fn from(e: io::Error) -> Self {
        PcapError::Io(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pcap { nanos: bool },
    PcapNg,
}

/// One captured packet, borrowed from the reader until the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    pub linktype: u32,
    /// The pcapng interface the packet came from (always 0 in classic pcap).
    pub interface: u32,
    pub ts_sec: u64,
    pub ts_nsec: u32,
    /// Length of the packet on the wire; `data` may be shorter (snap length).
    pub orig_len: u32,
    pub data: &'a [u8],
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    linktype: u32,
    /// Timestamp units per second as (base, exponent): 10^-6 by default.
    resol: Resolution,
    offset_sec: i64,
}

#[derive(Debug, Clone, Copy)]
enum Resolution {
    Dec(u32),
    Bin(u32),
}

impl Resolution {
    fn split(self, ts: u64) -> (u64, u32) {
        match self {
            Resolution::Dec(n) => {
                let div = 10u64.pow(n.min(19));
                let sec = ts / div;
                let frac = u128::from(ts % div);
                (sec, (frac * 1_000_000_000 / u128::from(div)) as u32)
            }
            Resolution::Bin(n) => {
                let n = n.min(63);
                let sec = ts >> n;
                let frac = u128::from(ts & ((1u64 << n) - 1));
                (sec, ((frac * 1_000_000_000) >> n) as u32)
            }
        }
    }
}

/// A streaming reader of pcap and pcapng.
pub struct Reader<R: Read> {
    r: R,
    format: Format,
    big_endian: bool,
    pos: u64,
    /// Classic pcap's link type.
    linktype: u32,
    interfaces: Vec<Interface>,
    buf: Vec<u8>,
}

impl<R: Read> Reader<R> {
    /// Reads the file header and tells pcap from pcapng by its magic number.
    pub fn new(mut r: R) -> Result<Self, PcapError> {
        let mut head = [0u8; 24];
        let got = read_full(&mut r, &mut head[..4])?;
        if got < 4 {
            return Err(format_err(0, "file too short for a capture header"));
        }
        let magic_le = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        let magic_be = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        let mut me = Self {
            r,
            format: Format::PcapNg,
            big_endian: false,
            pos: 4,
            linktype: 0,
            interfaces: Vec::new(),
            buf: Vec::new(),
        };
        if magic_le == PCAPNG_SHB {
            me.read_shb_rest()?;
            return Ok(me);
        }
        let (big_endian, nanos) = match (magic_le, magic_be) {
            (PCAP_MAGIC_US, _) => (false, false),
            (PCAP_MAGIC_NS, _) => (false, true),
            (_, PCAP_MAGIC_US) => (true, false),
            (_, PCAP_MAGIC_NS) => (true, true),
            _ => {
                return Err(format_err(
                    0,
                    "not a pcap or pcapng file (unknown magic number)",
                ));
            }
        };
        if read_full(&mut me.r, &mut head[4..24])? < 20 {
            return Err(format_err(4, "pcap file header truncated"));
        }
        me.pos = 24;
        me.big_endian = big_endian;
        me.format = Format::Pcap { nanos };
        // The upper bits of the link type field may carry FCS information.
        me.linktype = me.u32_at(&head, 20) & 0x0fff_ffff;
        Ok(me)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// The link type of classic pcap, or of the first pcapng interface seen so far.
    pub fn linktype(&self) -> Option<u32> {
        match self.format {
            Format::Pcap { .. } => Some(self.linktype),
            Format::PcapNg => self.interfaces.first().map(|i| i.linktype),
        }
    }

    fn u32_at(&self, b: &[u8], at: usize) -> u32 {
        let w = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if self.big_endian {
            u32::from_be_bytes(w)
        } else {
            u32::from_le_bytes(w)
        }
    }

    fn u16_at(&self, b: &[u8], at: usize) -> u16 {
        let w = [b[at], b[at + 1]];
        if self.big_endian {
            u16::from_be_bytes(w)
        } else {
            u16::from_le_bytes(w)
        }
    }

    /// After the 4 bytes of an SHB's type: its length, byte-order magic and the rest.
    fn read_shb_rest(&mut self) -> Result<(), PcapError> {
        let start = self.pos - 4;
        let mut hdr = [0u8; 8];
        if read_full(&mut self.r, &mut hdr)? < 8 {
            return Err(format_err(start, "section header block truncated"));
        }
        let bom = [hdr[4], hdr[5], hdr[6], hdr[7]];
        self.big_endian = match (u32::from_le_bytes(bom), u32::from_be_bytes(bom)) {
            (PCAPNG_BYTE_ORDER, _) => false,
            (_, PCAPNG_BYTE_ORDER) => true,
            _ => return Err(format_err(start + 8, "pcapng byte-order magic is wrong")),
        };
        let total = self.u32_at(&hdr, 0) as usize;
        if !(28..=MAX_RECORD).contains(&total) || !total.is_multiple_of(4) {
            return Err(format_err(
                start + 4,
                "section header block length is invalid",
            ));
        }
        self.pos += 8;
        // Skip the rest: version, section length, options, trailing length.
        self.read_body(total - 12)?;
        self.interfaces.clear();
        Ok(())
    }

    /// Reads `len` bytes into the reused buffer.
    fn read_body(&mut self, len: usize) -> Result<(), PcapError> {
        self.buf.resize(len, 0);
        let got = read_full(&mut self.r, &mut self.buf)?;
        if got < len {
            return Err(format_err(
                self.pos + got as u64,
                "file ends inside a block or record",
            ));
        }
        self.pos += len as u64;
        Ok(())
    }

    /// The next packet, or `None` at a clean end of file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Record<'_>>, PcapError> {
        match self.format {
            Format::Pcap { nanos } => self.next_pcap(nanos),
            Format::PcapNg => self.next_pcapng(),
        }
    }

    fn next_pcap(&mut self, nanos: bool) -> Result<Option<Record<'_>>, PcapError> {
        let mut h = [0u8; 16];
        let start = self.pos;
        match read_full(&mut self.r, &mut h)? {
            0 => return Ok(None),
            n if n < 16 => return Err(format_err(start, "record header truncated")),
            _ => {}
        }
        self.pos += 16;
        let ts_sec = u64::from(self.u32_at(&h, 0));
        let frac = self.u32_at(&h, 4);
        let incl = self.u32_at(&h, 8) as usize;
        let orig_len = self.u32_at(&h, 12);
        if incl > MAX_RECORD {
            return Err(format_err(
                start + 8,
                format!("record length {incl} is implausible"),
            ));
        }
        let ts_nsec = if nanos {
            frac
        } else {
            frac.saturating_mul(1000)
        };
        if ts_nsec >= 1_000_000_000 {
            return Err(format_err(
                start + 4,
                "record timestamp fraction out of range",
            ));
        }
        self.read_body(incl)?;
        Ok(Some(Record {
            linktype: self.linktype,
            interface: 0,
            ts_sec,
            ts_nsec,
            orig_len,
            data: &self.buf,
        }))
    }

    fn next_pcapng(&mut self) -> Result<Option<Record<'_>>, PcapError> {
        loop {
            let start = self.pos;
            let mut h = [0u8; 8];
            match read_full(&mut self.r, &mut h[..4])? {
                0 => return Ok(None),
                n if n < 4 => return Err(format_err(start, "block header truncated")),
                _ => {}
            }
            self.pos += 4;
            if u32::from_le_bytes([h[0], h[1], h[2], h[3]]) == PCAPNG_SHB {
                self.read_shb_rest()?;
                continue;
            }
            if read_full(&mut self.r, &mut h[4..8])? < 4 {
                return Err(format_err(start + 4, "block header truncated"));
            }
            self.pos += 4;
            let btype = self.u32_at(&h, 0);
            let total = self.u32_at(&h, 4) as usize;
            if !(12..=MAX_RECORD).contains(&total) || !total.is_multiple_of(4) {
                return Err(format_err(
                    start + 4,
                    format!("block length {total} is invalid"),
                ));
            }
            self.read_body(total - 8)?;
            let body_len = total - 12;
            if self.u32_at(&self.buf, body_len) as usize != total {
                return Err(format_err(
                    start,
                    "block's trailing length differs from its leading one",
                ));
            }
            match btype {
                PCAPNG_IDB => self.add_interface(start, body_len)?,
                PCAPNG_EPB | PCAPNG_OPB => {
                    let (iface, ts, caplen, orig_len, off) = if btype == PCAPNG_EPB {
                        if body_len < 20 {
                            return Err(format_err(start, "enhanced packet block too short"));
                        }
                        let b = &self.buf;
                        let ts = u64::from(self.u32_at(b, 4)) << 32 | u64::from(self.u32_at(b, 8));
                        (
                            self.u32_at(b, 0),
                            ts,
                            self.u32_at(b, 12) as usize,
                            self.u32_at(b, 16),
                            20,
                        )
                    } else {
                        if body_len < 20 {
                            return Err(format_err(start, "packet block too short"));
                        }
                        let b = &self.buf;
                        let ts = u64::from(self.u32_at(b, 4)) << 32 | u64::from(self.u32_at(b, 8));
                        (
                            u32::from(self.u16_at(b, 0)),
                            ts,
                            self.u32_at(b, 12) as usize,
                            self.u32_at(b, 16),
                            20,
                        )
                    };
                    if caplen > body_len - off {
                        return Err(format_err(start, "packet length runs past its block"));
                    }
                    let ifc = *self.interfaces.get(iface as usize).ok_or_else(|| {
                        format_err(
                            start,
                            format!("packet refers to interface {iface}, not described"),
                        )
                    })?;
                    let (sec, nsec) = ifc.resol.split(ts);
                    return Ok(Some(Record {
                        linktype: ifc.linktype,
                        interface: iface,
                        ts_sec: sec.saturating_add_signed(ifc.offset_sec),
                        ts_nsec: nsec,
                        orig_len,
                        data: &self.buf[off..off + caplen],
                    }));
                }
                PCAPNG_SPB => {
                    if body_len < 4 {
                        return Err(format_err(start, "simple packet block too short"));
                    }
                    let ifc = *self.interfaces.first().ok_or_else(|| {
                        format_err(start, "simple packet block before any interface")
                    })?;
                    let orig_len = self.u32_at(&self.buf, 0);
                    let caplen = (orig_len as usize).min(body_len - 4);
                    return Ok(Some(Record {
                        linktype: ifc.linktype,
                        interface: 0,
                        ts_sec: 0,
                        ts_nsec: 0,
                        orig_len,
                        data: &self.buf[4..4 + caplen],
                    }));
                }
                // Name resolution, statistics, custom and other blocks carry no packets.
                _ => {}
            }
        }
    }

    fn add_interface(&mut self, start: u64, body_len: usize) -> Result<(), PcapError> {
        if body_len < 8 {
            return Err(format_err(start, "interface description block too short"));
        }
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(format_err(start, "too many interfaces in one section"));
        }
        let linktype = u32::from(self.u16_at(&self.buf, 0));
        let mut ifc = Interface {
            linktype,
            resol: Resolution::Dec(6),
            offset_sec: 0,
        };
        let mut at = 8;
        while at + 4 <= body_len {
            let code = self.u16_at(&self.buf, at);
            let len = usize::from(self.u16_at(&self.buf, at + 2));
            let v = at + 4;
            if v + len > body_len {
                return Err(format_err(
                    start + 8 + at as u64,
                    "interface option runs past its block",
                ));
            }
            match (code, len) {
                (0, _) => break,
                (9, 1) => {
                    let r = self.buf[v];
                    ifc.resol = if r & 0x80 == 0 {
                        Resolution::Dec(u32::from(r))
                    } else {
                        Resolution::Bin(u32::from(r & 0x7f))
                    };
                }
                (14, 8) => {
                    let hi = u64::from(self.u32_at(&self.buf, v));
                    let lo = u64::from(self.u32_at(&self.buf, v + 4));
                    ifc.offset_sec = if self.big_endian {
                        hi << 32 | lo
                    } else {
                        lo << 32 | hi
                    } as i64;
                }
                _ => {}
            }
            at = v + len.div_ceil(4) * 4;
        }
        self.interfaces.push(ifc);
        Ok(())
    }
}

fn format_err(offset: u64, reason: impl Into<String>) -> PcapError {
    PcapError::Format {
        offset,
        reason: reason.into(),
    }
}

/// Reads until `buf` is full or the input ends; returns how many bytes came.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Writes classic pcap with nanosecond timestamps, in this machine's byte order.
pub struct PcapWriter<W: Write> {
    w: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    pub fn new(mut w: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&PCAP_MAGIC_NS.to_ne_bytes());
        h.extend_from_slice(&2u16.to_ne_bytes());
        h.extend_from_slice(&4u16.to_ne_bytes());
        h.extend_from_slice(&0i32.to_ne_bytes());
        h.extend_from_slice(&0u32.to_ne_bytes());
        h.extend_from_slice(&snaplen.to_ne_bytes());
        h.extend_from_slice(&linktype.to_ne_bytes());
        w.write_all(&h)?;
        Ok(Self { w, snaplen })
    }

    /// Writes one packet, cut to the snap length; its on-wire length is `data.len()`.
    pub fn write_packet(&mut self, ts_sec: u64, ts_nsec: u32, data: &[u8]) -> io::Result<()> {
        let cap = data.len().min(self.snaplen as usize);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&(ts_sec as u32).to_ne_bytes());
        h[4..8].copy_from_slice(&ts_nsec.to_ne_bytes());
        h[8..12].copy_from_slice(&(cap as u32).to_ne_bytes());
        h[12..16].copy_from_slice(&(data.len() as u32).to_ne_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(&data[..cap])
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

/// Writes pcapng: one section, interfaces with nanosecond timestamps, enhanced packets.
pub struct PcapNgWriter<W: Write> {
    w: W,
    interfaces: u32,
}

impl<W: Write> PcapNgWriter<W> {
    pub fn new(mut w: W) -> io::Result<Self> {
        let mut b = Vec::with_capacity(28);
        b.extend_from_slice(&PCAPNG_SHB.to_ne_bytes());
        b.extend_from_slice(&28u32.to_ne_bytes());
        b.extend_from_slice(&PCAPNG_BYTE_ORDER.to_ne_bytes());
        b.extend_from_slice(&1u16.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&(-1i64).to_ne_bytes());
        b.extend_from_slice(&28u32.to_ne_bytes());
        w.write_all(&b)?;
        Ok(Self { w, interfaces: 0 })
    }

    /// Describes an interface (name optional) and returns its id for `write_packet`.
    pub fn add_interface(
        &mut self,
        linktype: u16,
        snaplen: u32,
        name: Option<&str>,
    ) -> io::Result<u32> {
        let mut opts = Vec::new();
        if let Some(n) = name {
            let n = &n.as_bytes()[..n.len().min(255)];
            opts.extend_from_slice(&2u16.to_ne_bytes());
            opts.extend_from_slice(&(n.len() as u16).to_ne_bytes());
            opts.extend_from_slice(n);
            opts.resize(opts.len().div_ceil(4) * 4, 0);
        }
        // if_tsresol = 9: nanoseconds.
        opts.extend_from_slice(&9u16.to_ne_bytes());
        opts.extend_from_slice(&1u16.to_ne_bytes());
        opts.extend_from_slice(&[9, 0, 0, 0]);
        opts.extend_from_slice(&[0, 0, 0, 0]);
        let total = (20 + opts.len()) as u32;
        let mut b = Vec::with_capacity(total as usize);
        b.extend_from_slice(&PCAPNG_IDB.to_ne_bytes());
        b.extend_from_slice(&total.to_ne_bytes());
        b.extend_from_slice(&linktype.to_ne_bytes());
        b.extend_from_slice(&0u16.to_ne_bytes());
        b.extend_from_slice(&snaplen.to_ne_bytes());
        b.extend_from_slice(&opts);
        b.extend_from_slice(&total.to_ne_bytes());
        self.w.write_all(&b)?;
        self.interfaces += 1;
        Ok(self.interfaces - 1)
    }

    pub fn write_packet(
        &mut self,
        interface: u32,
        ts_sec: u64,
        ts_nsec: u32,
        data: &[u8],
    ) -> io::Result<()> {
        if interface >= self.interfaces {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no such pcapng interface",
            ));
        }
        let padded = data.len().div_ceil(4) * 4;
        let total = (32 + padded) as u32;
        let ts = ts_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(ts_nsec));
        let mut h = [0u8; 28];
        h[0..4].copy_from_slice(&PCAPNG_EPB.to_ne_bytes());
        h[4..8].copy_from_slice(&total.to_ne_bytes());
        h[8..12].copy_from_slice(&interface.to_ne_bytes());
        h[12..16].copy_from_slice(&((ts >> 32) as u32).to_ne_bytes());
        h[16..20].copy_from_slice(&(ts as u32).to_ne_bytes());
        h[20..24].copy_from_slice(&(data.len() as u32).to_ne_bytes());
        h[24..28].copy_from_slice(&(data.len() as u32).to_ne_bytes());
        self.w.write_all(&h)?;
        self.w.write_all(data)?;
        self.w.write_all(&[0u8; 3][..padded - data.len()])?;
        self.w.write_all(&total.to_ne_bytes())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    pub fn into_inner(self) -> W {
        self.w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rows = Vec<(u32, u64, u32, Vec<u8>)>;

    fn read_all(bytes: &[u8]) -> Result<Rows, PcapError> {
        let mut r = Reader::new(bytes)?;
        let mut out = Vec::new();
        while let Some(rec) = r.next()? {
            out.push((rec.linktype, rec.ts_sec, rec.ts_nsec, rec.data.to_vec()));
        }
        Ok(out)
    }

    #[test]
    fn pcap_roundtrip_keeps_nanoseconds() {
        let mut w = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
        w.write_packet(1, 5, b"abc").unwrap();
        w.write_packet(1_700_000_000, 999_999_999, &[7u8; 100])
            .unwrap();
        let got = read_all(&w.into_inner()).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (1, 1, 5, b"abc".to_vec()));
        assert_eq!((got[1].1, got[1].2), (1_700_000_000, 999_999_999));
    }

    #[test]
    fn pcapng_roundtrip_keeps_one_second_as_one_second() {
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        let a = w.add_interface(1, 65535, Some("tap0")).unwrap();
        let b = w.add_interface(101, 65535, None).unwrap();
        w.write_packet(a, 1, 0, b"hello").unwrap();
        w.write_packet(b, 2, 500, b"x").unwrap();
        let got = read_all(&w.into_inner()).unwrap();
        assert_eq!(
            got,
            vec![(1, 1, 0, b"hello".to_vec()), (101, 2, 500, b"x".to_vec())]
        );
    }

    #[test]
    fn big_endian_microsecond_pcap() {
        #[rustfmt::skip]
        let file = [
            0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 1,
            0, 0, 0, 3,  0, 0, 0, 7,  0, 0, 0, 2,  0, 0, 0, 2,  0xaa, 0xbb,
        ];
        assert_eq!(
            read_all(&file).unwrap(),
            vec![(1, 3, 7000, vec![0xaa, 0xbb])]
        );
    }

    #[test]
    fn hostile_files_are_errors() {
        assert!(Reader::new(&b"xy"[..]).is_err());
        assert!(Reader::new(&b"not a capture file at all"[..]).is_err());
        // A record claiming 4 GiB.
        let mut w = PcapWriter::new(Vec::new(), 1, 65535).unwrap().into_inner();
        w.extend_from_slice(&[
            0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ]);
        assert!(read_all(&w).is_err());
        // A truncated record.
        let mut w = PcapWriter::new(Vec::new(), 1, 65535).unwrap();
        w.write_packet(1, 0, &[1, 2, 3, 4]).unwrap();
        let v = w.into_inner();
        assert!(read_all(&v[..v.len() - 1]).is_err());
        // pcapng packet before any interface.
        let mut w = PcapNgWriter::new(Vec::new()).unwrap();
        w.interfaces = 1;
        w.write_packet(0, 0, 0, b"x").unwrap();
        assert!(read_all(&w.into_inner()).is_err());
    }

    #[test]
    fn binary_resolution() {
        assert_eq!(Resolution::Bin(1).split(3), (1, 500_000_000));
        assert_eq!(Resolution::Dec(3).split(1500), (1, 500_000_000));
        assert_eq!(Resolution::Dec(9).split(1_000_000_001), (1, 1));
    }
}
