//! What survives a restart of the daemon: the RFC 7217 secret, and the static
//! configuration made through the control socket (links, addresses, routes). A JSON
//! file, written whole to a temporary file and renamed over the old one.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The RFC 7217 §5 secret_key in hex: it must persist, or stable addresses are not.
    pub secret: String,
    #[serde(default)]
    pub links: Vec<LinkState>,
    #[serde(default)]
    pub addresses: Vec<AddrState>,
    #[serde(default)]
    pub routes: Vec<RouteState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkState {
    pub dev: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mac: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtu: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddrState {
    pub dev: String,
    pub address: Ipv6Addr,
    pub prefix_len: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteState {
    pub prefix: Ipv6Addr,
    pub prefix_len: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Ipv6Addr>,
    pub dev: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    #[serde(default, skip_serializing_if = "sixstack_api::RouteType::is_unicast")]
    pub kind: sixstack_api::RouteType,
}

impl State {
    /// Reads the state file; a missing file is a fresh state with a new secret.
    pub fn load(path: &Path, fresh_secret: [u8; 32]) -> Result<State, String> {
        match std::fs::read(path) {
            Ok(b) => {
                let s: State = serde_json::from_slice(&b).map_err(|e| {
                    format!(
                        "{}: not a sixstack state file ({e}); move it away to start afresh",
                        path.display()
                    )
                })?;
                if s.secret_bytes().is_none() {
                    return Err(format!(
                        "{}: the secret is not 64 hex digits; move the file away to start afresh",
                        path.display()
                    ));
                }
                Ok(s)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                secret: hex(&fresh_secret),
                ..State::default()
            }),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    pub fn save(&self, path: &Path) -> Result<(), String> {
        let mut tmp = PathBuf::from(path);
        tmp.as_mut_os_string().push(".tmp");
        let mut text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        text.push('\n');
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    pub fn secret_bytes(&self) -> Option<[u8; 32]> {
        let s = self.secret.as_bytes();
        if s.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in s.chunks(2).enumerate() {
            let txt = std::str::from_utf8(pair).ok()?;
            out[i] = u8::from_str_radix(txt, 16).ok()?;
        }
        Some(out)
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Where the state lives when `--state` does not say: beside the control socket,
/// `/run/sixstack.sock` -> `/run/sixstack.state`.
pub fn default_path(control: &Path) -> PathBuf {
    control.with_extension("state")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load_is_identity_and_missing_is_fresh() {
        let dir = std::env::temp_dir().join(format!("sixstack-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s.state");
        let _ = std::fs::remove_file(&p);
        let fresh = State::load(&p, [0xab; 32]).unwrap();
        assert_eq!(fresh.secret_bytes(), Some([0xab; 32]));
        let mut s = fresh.clone();
        s.links.push(LinkState {
            dev: "tap1".into(),
            mac: None,
            mtu: Some(1400),
        });
        s.addresses.push(AddrState {
            dev: "tap1".into(),
            address: "2001:db8::2".parse().unwrap(),
            prefix_len: 64,
        });
        s.routes.push(RouteState {
            prefix: "2001:db8:9::".parse().unwrap(),
            prefix_len: 48,
            via: Some("fe80::1".parse().unwrap()),
            dev: "tap1".into(),
            metric: None,
            kind: sixstack_api::RouteType::Blackhole,
        });
        s.save(&p).unwrap();
        assert_eq!(State::load(&p, [0; 32]).unwrap(), s);
        std::fs::write(&p, "{not json").unwrap();
        assert!(
            State::load(&p, [0; 32])
                .unwrap_err()
                .contains("move it away")
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            default_path(Path::new("/run/sixstack.sock")),
            PathBuf::from("/run/sixstack.state")
        );
    }
}
