//! TAP devices (Linux): open `/dev/net/tun` with IFF_TAP | IFF_NO_PI, which creates the
//! device in the current network namespace if it does not exist, and bring it up. The
//! ioctls are tun-rs's; this crate has no `unsafe` of its own.
//!
//! The device's own MAC address is the kernel's end of the wire. The stack is the other
//! end, so it needs an address of its own: a locally administered one derived from the
//! device name and the daemon's persistent secret (stable across restarts, so RFC 7217
//! addresses are too), unless the operator gives one.

use std::io;
use std::sync::Arc;

use sixstack_wire::addr::EthernetAddress;
use tokio::sync::mpsc;
use tun_rs::{AsyncDevice, DeviceBuilder, Layer};

/// The longest frame read from a device: a 64 KiB MTU and its Ethernet header.
const MAX_FRAME: usize = 65_536 + 14;

/// One open TAP device.
#[derive(Clone)]
pub struct Tap {
    pub name: String,
    dev: Arc<AsyncDevice>,
    /// Whether the device existed before the daemon opened it.
    pub existed: bool,
}

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tap")
            .field("name", &self.name)
            .field("existed", &self.existed)
            .finish()
    }
}

/// What a device's reader task tells the event loop.
#[derive(Debug)]
pub enum TapInput {
    Frame(Vec<u8>),
    /// Reading failed: the device was deleted or broke. The task has ended.
    Failed(io::Error),
}

impl Tap {
    /// Opens (creating if absent) the TAP device `name`, sets its MTU if asked, and
    /// brings it up. Must run inside a Tokio runtime.
    pub fn open(name: &str, mtu: Option<u32>) -> io::Result<Tap> {
        if name.is_empty() || name.len() > 15 || name.contains(['/', ' ', '%']) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{name:?} is not a valid interface name (1 to 15 characters, no '/', ' ' or '%')"
                ),
            ));
        }
        let existed = device_exists(name);
        let mut b = DeviceBuilder::new()
            .name(name)
            .layer(Layer::L2)
            .enable(true);
        if let Some(m) = mtu {
            let m = u16::try_from(m)
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "MTU above 65535"))?;
            b = b.mtu(m);
        }
        let dev = b.build_async()?;
        Ok(Tap {
            name: name.to_string(),
            dev: Arc::new(dev),
            existed,
        })
    }

    /// The MAC address of the kernel's end of the device.
    pub fn kernel_mac(&self) -> io::Result<EthernetAddress> {
        self.dev.mac_address().map(EthernetAddress)
    }

    pub fn mtu(&self) -> io::Result<u32> {
        self.dev.mtu().map(u32::from)
    }

    /// Up and running: administratively up with carrier. An error (ENODEV) when the
    /// device is gone: the ioctl asks by name in the daemon's network namespace.
    pub fn is_up(&self) -> io::Result<bool> {
        self.dev.is_running()
    }

    /// Writes one frame; never waits (a full device queue drops the frame, as a NIC
    /// would).
    pub fn send(&self, frame: &[u8]) -> io::Result<usize> {
        self.dev.try_send(frame)
    }

    /// Starts the task that reads frames and hands them to `tx` with `key`.
    pub fn spawn_reader<K: Copy + Send + 'static>(
        &self,
        key: K,
        tx: mpsc::Sender<(K, TapInput)>,
    ) -> tokio::task::JoinHandle<()> {
        let dev = self.dev.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_FRAME];
            loop {
                match dev.recv(&mut buf).await {
                    Ok(n) => {
                        if tx
                            .send((key, TapInput::Frame(buf[..n].to_vec())))
                            .await
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send((key, TapInput::Failed(e))).await;
                        return;
                    }
                }
            }
        })
    }
}

/// Whether a network device of that name exists in this network namespace.
pub fn device_exists(name: &str) -> bool {
    // /proc/net is the reading process's own network namespace, whatever /sys shows
    // (a namespace entered without remounting sysfs keeps the old one's /sys/class/net).
    std::fs::read_to_string("/proc/net/dev")
        .map(|t| proc_net_dev_has(&t, name))
        .unwrap_or(false)
}

fn proc_net_dev_has(text: &str, name: &str) -> bool {
    text.lines()
        .skip(2)
        .filter_map(|l| l.split_once(':'))
        .any(|(n, _)| n.trim() == name)
}

/// A locally administered unicast MAC for the stack's end of device `name`.
pub fn derive_mac(secret: &[u8], name: &str) -> EthernetAddress {
    // FNV-1a over the secret and the name: stable, spread, and not the kernel's.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in secret.iter().chain(name.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    // Bit 1 of the first octet: locally administered; bit 0 clear: unicast.
    EthernetAddress([(b[0] & 0xfc) | 0x02, b[1], b[2], b[3], b[4], b[5]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_macs_are_local_unicast_stable_and_distinct() {
        let a = derive_mac(b"secret", "tap0");
        assert_eq!(a, derive_mac(b"secret", "tap0"));
        assert_ne!(a, derive_mac(b"secret", "tap1"));
        assert_ne!(a, derive_mac(b"other", "tap0"));
        for m in [a, derive_mac(b"", ""), derive_mac(&[0xff; 32], "x")] {
            assert_eq!(m.0[0] & 0x03, 0x02, "{m}");
        }
    }

    #[test]
    fn proc_net_dev_lists_devices() {
        let t = "Inter-|   Receive\n face |bytes\n    lo: 0 0 0\n  tap0: 1 2 3\ntap10:5\n";
        assert!(proc_net_dev_has(t, "tap0"));
        assert!(proc_net_dev_has(t, "tap10"));
        assert!(proc_net_dev_has(t, "lo"));
        assert!(!proc_net_dev_has(t, "tap1"));
        assert!(!proc_net_dev_has(t, "face |bytes"));
        assert!(device_exists("lo"));
    }

    #[test]
    fn bad_names_are_refused_before_any_ioctl() {
        for n in ["", "a/b", "sixteen-chars-xx", "a b", "tap0%1"] {
            let e = Tap::open(n, None).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::InvalidInput, "{n}");
        }
    }
}
