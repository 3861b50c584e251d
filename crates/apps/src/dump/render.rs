//! The three ways a dissected frame is shown: one line (tcpdump-like, numeric), a field
//! tree (`-v`), and one JSON object per line (`--json`) keyed by Wireshark field names.

use std::fmt::Write as _;

use super::model::{Frame, Value};

/// `HH:MM:SS.ffffff` of the capture time, in UTC.
fn clock(frame: &Frame) -> String {
    let day = frame.ts_sec % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:06}",
        day / 3600,
        day / 60 % 60,
        day % 60,
        frame.ts_nsec / 1000
    )
}

/// One line per frame: number, time, then each layer's summary fragment.
pub fn render_line(frame: &Frame) -> String {
    let mut s = format!("{:>5} {}", frame.number, clock(frame));
    for l in &frame.layers {
        if !l.info.is_empty() {
            s.push(' ');
            s.push_str(&l.info);
        }
    }
    if let Some(m) = &frame.malformed {
        let _ = write!(s, " [malformed {}: {}]", m.protocol, m.reason);
    }
    s
}

/// The full field tree, one field a line under its layer.
pub fn render_tree(frame: &Frame) -> String {
    let mut s = format!(
        "Frame {}: {} bytes on wire, {} captured, at {}.{:09}\n",
        frame.number, frame.len, frame.caplen, frame.ts_sec, frame.ts_nsec
    );
    for l in &frame.layers {
        let _ = writeln!(s, "  {}", l.protocol);
        for f in &l.fields {
            let _ = writeln!(s, "    {} = {}", f.name, f.value);
        }
    }
    if let Some(m) = &frame.malformed {
        let _ = writeln!(s, "  [malformed {}: {}]", m.protocol, m.reason);
    }
    s
}

/// `{"frame": N, ..., "layers": [{"protocol": "ipv6", "ipv6.src": "...", ...}, ...]}`.
/// A field name that occurs more than once in a layer holds an array of its values,
/// in order.
pub fn render_json(frame: &Frame) -> String {
    let mut s = String::with_capacity(512);
    let _ = write!(
        s,
        "{{\"frame\":{},\"time\":\"{}.{:09}\",\"len\":{},\"caplen\":{},\"layers\":[",
        frame.number, frame.ts_sec, frame.ts_nsec, frame.len, frame.caplen
    );
    for (i, l) in frame.layers.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str("{\"protocol\":");
        json_str(&mut s, l.protocol);
        for (j, f) in l.fields.iter().enumerate() {
            if l.fields[..j].iter().any(|g| g.name == f.name) {
                continue;
            }
            s.push(',');
            json_str(&mut s, f.name);
            s.push(':');
            let repeats = l.fields[j + 1..].iter().any(|g| g.name == f.name);
            if repeats {
                s.push('[');
                let mut first = true;
                for g in l.fields[j..].iter().filter(|g| g.name == f.name) {
                    if !first {
                        s.push(',');
                    }
                    first = false;
                    json_value(&mut s, &g.value);
                }
                s.push(']');
            } else {
                json_value(&mut s, &f.value);
            }
        }
        s.push('}');
    }
    s.push(']');
    if let Some(m) = &frame.malformed {
        s.push_str(",\"malformed\":{\"protocol\":");
        json_str(&mut s, m.protocol);
        s.push_str(",\"reason\":");
        json_str(&mut s, &m.reason);
        s.push('}');
    }
    s.push('}');
    s
}

fn json_value(s: &mut String, v: &Value) {
    match v {
        Value::Uint(n) => {
            let _ = write!(s, "{n}");
        }
        Value::Int(n) => {
            let _ = write!(s, "{n}");
        }
        Value::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
        Value::Str(t) => json_str(s, t),
        other => {
            // Addresses and hex bytes are plain ASCII without quotes or backslashes.
            s.push('"');
            let _ = write!(s, "{other}");
            s.push('"');
        }
    }
}

/// Writes `t` as a JSON string (RFC 8259 §7).
fn json_str(s: &mut String, t: &str) {
    s.push('"');
    for c in t.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(s, "\\u{:04x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::model::Layer;

    #[test]
    fn json_groups_repeated_fields_and_escapes() {
        let mut l = Layer::new("icmpv6");
        l.uint("icmpv6.opt.type", 1u8)
            .uint("icmpv6.opt.type", 3u8)
            .str("x", "a\"b\n");
        let f = Frame {
            number: 7,
            layers: vec![l],
            ..Default::default()
        };
        let j: serde_json::Value = serde_json::from_str(&render_json(&f)).unwrap();
        assert_eq!(j["frame"], 7);
        assert_eq!(j["layers"][0]["protocol"], "icmpv6");
        assert_eq!(j["layers"][0]["icmpv6.opt.type"], serde_json::json!([1, 3]));
        assert_eq!(j["layers"][0]["x"], "a\"b\n");
    }
}
