//! What a dissection produces: a frame as a list of layers, each a list of fields named
//! as Wireshark names them (so `tshark -G fields` is our field dictionary), plus a short
//! summary fragment per layer for the one-line output.

use core::net::{Ipv4Addr, Ipv6Addr};
use std::fmt::Write as _;

use sixstack_wire::EthernetAddress;

/// A field's value, typed so that JSON gets numbers as numbers and addresses as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Uint(u64),
    Int(i64),
    Bool(bool),
    Str(String),
    Ipv6(Ipv6Addr),
    Ipv4(Ipv4Addr),
    Mac(EthernetAddress),
    /// Raw bytes, shown as colon-separated hex as tshark shows them.
    Bytes(Vec<u8>),
}

impl Value {
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Uint(v) => J::from(*v),
            Value::Int(v) => J::from(*v),
            Value::Bool(v) => J::from(*v),
            Value::Str(s) => J::from(s.as_str()),
            Value::Ipv6(a) => J::from(a.to_string()),
            Value::Ipv4(a) => J::from(a.to_string()),
            Value::Mac(m) => J::from(m.to_string()),
            Value::Bytes(b) => J::from(hex_colon(b)),
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Uint(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Str(s) => f.write_str(s),
            Value::Ipv6(a) => write!(f, "{a}"),
            Value::Ipv4(a) => write!(f, "{a}"),
            Value::Mac(m) => write!(f, "{m}"),
            Value::Bytes(b) => f.write_str(&hex_colon(b)),
        }
    }
}

/// `de:ad:be:ef`, as tshark prints byte fields.
pub fn hex_colon(b: &[u8]) -> String {
    let mut s = String::with_capacity(b.len() * 3);
    for (i, byte) in b.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{byte:02x}");
    }
    s
}

#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The Wireshark display-filter field name, e.g. `ipv6.hlim`.
    pub name: &'static str,
    pub value: Value,
}

/// One protocol layer of a frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layer {
    /// The Wireshark protocol name: `eth`, `ipv6`, `ipv6.hopopts`, `icmpv6`, ...
    pub protocol: &'static str,
    pub fields: Vec<Field>,
    /// This layer's part of the one-line summary ("ICMP6 echo request id 1 seq 1").
    pub info: String,
}

impl Layer {
    pub fn new(protocol: &'static str) -> Self {
        Self {
            protocol,
            fields: Vec::new(),
            info: String::new(),
        }
    }

    pub fn push(&mut self, name: &'static str, value: Value) -> &mut Self {
        self.fields.push(Field { name, value });
        self
    }

    pub fn uint(&mut self, name: &'static str, v: impl Into<u64>) -> &mut Self {
        self.push(name, Value::Uint(v.into()))
    }

    pub fn int(&mut self, name: &'static str, v: i64) -> &mut Self {
        self.push(name, Value::Int(v))
    }

    pub fn flag(&mut self, name: &'static str, v: bool) -> &mut Self {
        self.push(name, Value::Bool(v))
    }

    pub fn str(&mut self, name: &'static str, v: impl Into<String>) -> &mut Self {
        self.push(name, Value::Str(v.into()))
    }

    pub fn ipv6(&mut self, name: &'static str, a: Ipv6Addr) -> &mut Self {
        self.push(name, Value::Ipv6(a))
    }

    pub fn ipv4(&mut self, name: &'static str, a: Ipv4Addr) -> &mut Self {
        self.push(name, Value::Ipv4(a))
    }

    pub fn mac(&mut self, name: &'static str, m: EthernetAddress) -> &mut Self {
        self.push(name, Value::Mac(m))
    }

    pub fn bytes(&mut self, name: &'static str, b: &[u8]) -> &mut Self {
        self.push(name, Value::Bytes(b.to_vec()))
    }

    /// A checksum and its status (`good`, `bad`, `unverified`), as `<prefix>.checksum`
    /// and `<prefix>.checksum.status`.
    pub fn checksum(
        &mut self,
        name: &'static str,
        status_name: &'static str,
        value: u16,
        status: ChecksumStatus,
    ) -> &mut Self {
        self.uint(name, value);
        self.str(status_name, status.as_str())
    }

    /// Appends to the summary fragment, separated by a space.
    pub fn info(&mut self, text: impl AsRef<str>) -> &mut Self {
        if !self.info.is_empty() {
            self.info.push(' ');
        }
        self.info.push_str(text.as_ref());
        self
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumStatus {
    Good,
    Bad,
    /// Not checked: the data it covers is not all in the capture, or is a quoted packet.
    Unverified,
}

impl ChecksumStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChecksumStatus::Good => "good",
            ChecksumStatus::Bad => "bad",
            ChecksumStatus::Unverified => "unverified",
        }
    }

    pub fn from_verified(ok: bool) -> Self {
        if ok {
            ChecksumStatus::Good
        } else {
            ChecksumStatus::Bad
        }
    }
}

/// Where and why dissection stopped early.
#[derive(Debug, Clone, PartialEq)]
pub struct Malformed {
    pub protocol: &'static str,
    pub reason: String,
}

/// One dissected frame.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    /// Frame number, counted from 1 as Wireshark does.
    pub number: u64,
    /// Capture time, seconds and nanoseconds since the Unix epoch.
    pub ts_sec: u64,
    pub ts_nsec: u32,
    pub len: u32,
    pub caplen: u32,
    pub layers: Vec<Layer>,
    pub malformed: Option<Malformed>,
}

impl Frame {
    /// Whether any layer carries this protocol name.
    pub fn has_protocol(&self, name: &str) -> bool {
        self.layers.iter().any(|l| l.protocol == name)
    }

    /// The first value of a field in any layer.
    pub fn field(&self, name: &str) -> Option<&Value> {
        self.layers.iter().find_map(|l| l.get(name))
    }
}
