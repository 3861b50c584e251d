//! Two nodes wired back to back in memory, for the TCP benches: every frame one sends is
//! handed to the other at once, none lost, and time is a virtual clock the bench moves.
//!
//! * sixstack: two `Stack`s with an Ethernet interface each (MTU 1500), frames from one's
//!   `transmit` into the other's `receive`, then back to the sender with `recycle` (as a
//!   NIC's transmit completion would), which builds later frames in them;
//! * smoltcp 0.14: two `Interface`s (Medium::Ethernet) over a [`Port`] each: a device
//!   whose transmit token writes into a buffer from a shared pool and queues it for the
//!   other side, whose receive token hands the oldest queued frame in and returns its
//!   buffer to the pool (so smoltcp allocates nothing per frame).
//!
//! Both sides resolve each other's MAC by Neighbor Discovery on the first packet.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::net::Ipv6Addr;

use sixstack_core::iface::IfaceConfig;
use sixstack_core::{Duration, IfaceId, Instant, Stack, StackConfig};
use sixstack_wire::addr::EthernetAddress;
use smoltcp::iface::{Config, Interface, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::wire::{EthernetAddress as SmolMac, HardwareAddress, IpAddress, IpCidr};

pub const MAC_A: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x0a];
pub const MAC_B: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x0b];

pub fn addr_a() -> Ipv6Addr {
    "2001:db8::a".parse().unwrap()
}

pub fn addr_b() -> Ipv6Addr {
    "2001:db8::b".parse().unwrap()
}

// ----- sixstack ----------------------------------------------------------------------

/// Two sixstack nodes, `a` (2001:db8::a) and `b` (2001:db8::b) on one /64.
pub struct SixPair {
    pub a: Stack,
    pub b: Stack,
    pub ia: IfaceId,
    pub ib: IfaceId,
    pub now: Instant,
}

impl SixPair {
    /// The nodes with their addresses, after DAD (5 s of virtual time).
    pub fn new(cfg: StackConfig) -> Self {
        let node = |seed: u64, mac: [u8; 6], addr: Ipv6Addr| {
            let mut s = Stack::new(cfg.clone(), seed);
            let mut c = IfaceConfig::ethernet("eth0", EthernetAddress(mac));
            c.send_rs = false;
            c.accept_ra = false;
            let id = s.add_interface(Instant::ZERO, c);
            s.add_address(Instant::ZERO, id, addr, 64).unwrap();
            (s, id)
        };
        let (a, ia) = node(1, MAC_A, addr_a());
        let (b, ib) = node(2, MAC_B, addr_b());
        let mut p = SixPair {
            a,
            b,
            ia,
            ib,
            now: Instant::ZERO,
        };
        while p.now < Instant::from_secs(5) {
            p.now += Duration::from_millis(100);
            p.a.poll(p.now);
            p.b.poll(p.now);
            p.pump();
        }
        p
    }

    /// Moves frames both ways until neither side has anything to send; returns how many.
    pub fn pump(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let before = moved;
            while let Some((_, f)) = self.a.transmit() {
                self.b.receive(self.now, self.ib, &f);
                self.a.recycle(f);
                moved += 1;
            }
            while let Some((_, f)) = self.b.transmit() {
                self.a.receive(self.now, self.ia, &f);
                self.b.recycle(f);
                moved += 1;
            }
            if moved == before {
                return moved;
            }
        }
    }

    /// Advances the clock by `step`, or to the earlier of the nodes' next timer when
    /// `idle` (nothing else would happen before it), and polls the nodes that are due.
    pub fn tick(&mut self, step: Duration, idle: bool) {
        let next = match (self.a.poll_at(), self.b.poll_at()) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        self.now = match next {
            Some(t) if idle && t > self.now => t,
            _ => self.now + step,
        };
        if self.a.poll_at().is_some_and(|t| t <= self.now) {
            self.a.poll(self.now);
        }
        if self.b.poll_at().is_some_and(|t| t <= self.now) {
            self.b.poll(self.now);
        }
    }
}

// ----- smoltcp -----------------------------------------------------------------------

/// The two directions of the wire and the pool of frame buffers.
#[derive(Default)]
pub struct Wire {
    pub ab: VecDeque<Vec<u8>>,
    pub ba: VecDeque<Vec<u8>>,
    pub pool: RefCell<Vec<Vec<u8>>>,
}

impl Wire {
    /// The device of side `a` (true) or `b`.
    pub fn port(&mut self, a: bool) -> Port<'_> {
        let (rx, tx) = if a {
            (&mut self.ba, &mut self.ab)
        } else {
            (&mut self.ab, &mut self.ba)
        };
        Port {
            rx,
            tx,
            pool: &self.pool,
        }
    }
}

/// One side's view of the [`Wire`].
pub struct Port<'w> {
    rx: &'w mut VecDeque<Vec<u8>>,
    tx: &'w mut VecDeque<Vec<u8>>,
    pool: &'w RefCell<Vec<Vec<u8>>>,
}

pub struct Rx<'a> {
    buf: Vec<u8>,
    pool: &'a RefCell<Vec<Vec<u8>>>,
}

pub struct Tx<'a> {
    queue: &'a mut VecDeque<Vec<u8>>,
    pool: &'a RefCell<Vec<Vec<u8>>>,
}

impl phy::RxToken for Rx<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        let r = f(&self.buf);
        self.pool.borrow_mut().push(self.buf);
        r
    }
}

impl phy::TxToken for Tx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = self.pool.borrow_mut().pop().unwrap_or_default();
        buf.resize(len, 0);
        let r = f(&mut buf[..len]);
        self.queue.push_back(buf);
        r
    }
}

impl Device for Port<'_> {
    type RxToken<'a>
        = Rx<'a>
    where
        Self: 'a;
    type TxToken<'a>
        = Tx<'a>
    where
        Self: 'a;

    fn receive(
        &mut self,
        _: smoltcp::time::Instant,
    ) -> Option<(Self::RxToken<'_>, Self::TxToken<'_>)> {
        let buf = self.rx.pop_front()?;
        Some((
            Rx {
                buf,
                pool: self.pool,
            },
            Tx {
                queue: self.tx,
                pool: self.pool,
            },
        ))
    }

    fn transmit(&mut self, _: smoltcp::time::Instant) -> Option<Self::TxToken<'_>> {
        Some(Tx {
            queue: self.tx,
            pool: self.pool,
        })
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut c = DeviceCapabilities::default();
        c.medium = Medium::Ethernet;
        c.max_transmission_unit = 1514;
        c
    }
}

/// Two smoltcp interfaces on one [`Wire`], with a socket set each.
pub struct SmolPair {
    pub wire: Wire,
    pub a: Interface,
    pub b: Interface,
    pub sa: SocketSet<'static>,
    pub sb: SocketSet<'static>,
    pub now: smoltcp::time::Instant,
}

impl SmolPair {
    pub fn new() -> Self {
        let mut wire = Wire::default();
        let now = smoltcp::time::Instant::from_secs(5);
        let iface = |wire: &mut Wire, a: bool, mac: [u8; 6], addr: Ipv6Addr| {
            let mut cfg = Config::new(HardwareAddress::Ethernet(SmolMac(mac)));
            cfg.random_seed = u64::from(a) + 1;
            let mut i = Interface::new(cfg, &mut wire.port(a), now);
            i.update_ip_addrs(|addrs| {
                let _ = addrs.push(IpCidr::new(IpAddress::Ipv6(addr), 64));
            });
            i
        };
        let a = iface(&mut wire, true, MAC_A, addr_a());
        let b = iface(&mut wire, false, MAC_B, addr_b());
        SmolPair {
            wire,
            a,
            b,
            sa: SocketSet::new(Vec::new()),
            sb: SocketSet::new(Vec::new()),
            now,
        }
    }

    /// Polls both interfaces until no frame is left on the wire; returns frames moved.
    pub fn pump(&mut self) -> usize {
        let mut moved = 0;
        loop {
            let _ = self
                .a
                .poll(self.now, &mut self.wire.port(true), &mut self.sa);
            let n = self.wire.ab.len();
            let _ = self
                .b
                .poll(self.now, &mut self.wire.port(false), &mut self.sb);
            let m = self.wire.ba.len();
            moved += n + m;
            if m == 0 {
                let _ = self
                    .a
                    .poll(self.now, &mut self.wire.port(true), &mut self.sa);
                if self.wire.ab.is_empty() {
                    return moved;
                }
            }
        }
    }

    /// As [`SixPair::tick`].
    pub fn tick(&mut self, step: smoltcp::time::Duration, idle: bool) {
        let next = match (
            self.a.poll_at(self.now, &self.sa),
            self.b.poll_at(self.now, &self.sb),
        ) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        self.now = match next {
            Some(t) if idle && t > self.now => t,
            _ => self.now + step,
        };
        self.pump();
    }
}

impl Default for SmolPair {
    fn default() -> Self {
        Self::new()
    }
}
