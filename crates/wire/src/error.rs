//! The one error type of the wire layer: what is wrong, in which format, and where.
//!
//! Offsets are counted from the start of the slice the failing view was given, so a
//! caller that knows where that slice began in the frame can add its own base.

use core::fmt;

/// Why a view or a representation refused its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The buffer ends before the field or header does.
    Truncated { needed: usize, available: usize },
    /// A length field disagrees with the buffer or with the format.
    BadLength,
    /// A version field holds a value this format does not have.
    BadVersion,
    /// An option's length runs past its container, or is not what its type requires.
    BadOption,
    /// A field holds a value the format forbids.
    BadValue,
    /// The checksum does not verify.
    BadChecksum,
    /// More nested or chained headers than any real packet carries.
    TooDeep,
}

/// A refusal of malformed input. Never a panic: every view returns this instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Error {
    /// The format, by its Wireshark protocol name (`ipv6`, `icmpv6`, `tcp`, ...).
    pub protocol: &'static str,
    pub kind: ErrorKind,
    /// Byte offset of the offending field within the view's buffer.
    pub offset: usize,
    /// A short human reason ("payload length exceeds buffer").
    pub reason: &'static str,
}

impl Error {
    pub const fn new(
        protocol: &'static str,
        kind: ErrorKind,
        offset: usize,
        reason: &'static str,
    ) -> Self {
        Self {
            protocol,
            kind,
            offset,
            reason,
        }
    }

    pub const fn truncated(protocol: &'static str, needed: usize, available: usize) -> Self {
        Self {
            protocol,
            kind: ErrorKind::Truncated { needed, available },
            offset: available,
            reason: "truncated",
        }
    }

    /// The same error seen from an enclosing buffer in which the view's slice began at `base`.
    pub const fn at(mut self, base: usize) -> Self {
        self.offset += base;
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ErrorKind::Truncated { needed, available } => write!(
                f,
                "{}: truncated: needs {needed} bytes, has {available}",
                self.protocol
            ),
            _ => write!(
                f,
                "{}: {} at byte {}",
                self.protocol, self.reason, self.offset
            ),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;

/// Checks that `buf` holds at least `len` bytes.
#[inline]
pub(crate) fn need(protocol: &'static str, buf: &[u8], len: usize) -> Result<()> {
    if buf.len() < len {
        Err(Error::truncated(protocol, len, buf.len()))
    } else {
        Ok(())
    }
}
