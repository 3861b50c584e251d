//! [`ProbeNet`] over the sixstack daemon, through `sixstack-client`: an ICMPv6 raw socket
//! for the echo requests and everything that comes back, a UDP socket for UDP probes.
//!
//! Time: the process's monotonic clock. The daemon stamps each packet with its own clock
//! (microseconds since it started); the two are tied by the smallest difference seen
//! between a packet's stamp and the moment it reached us, so that a round trip does not
//! include the hop from the daemon to this process.

use std::io;
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sixstack_client::{RawSocket, ScopedAddr, SocketAddr, UdpSocket, api, api_error};
use sixstack_wire::icmpv6;
use sixstack_wire::ipv6;
use sixstack_wire::proto::IpProtocol;

use crate::probe::{ProbeError, ProbeNet, Received, SendOptions};

/// ICMPv6 types a probe socket needs: the four errors and Echo Reply.
const WANTED: [u8; 5] = [1, 2, 3, 4, 129];

pub struct DaemonNet {
    control: Option<PathBuf>,
    icmp: RawSocket,
    udp: Option<(UdpSocket, u16, Option<u8>)>,
    origin: Instant,
    /// Our clock minus the daemon's, in microseconds (the smallest seen).
    offset: Option<i128>,
    hop_limit: Option<u8>,
    bound: Option<Ipv6Addr>,
}

impl DaemonNet {
    /// Opens the sockets on the daemon at `control` (None: `$SIXSTACK_CONTROL` or the
    /// default path).
    pub fn open(control: Option<&Path>) -> io::Result<Self> {
        let icmp = match control {
            Some(p) => RawSocket::open_at(p, 58)?,
            None => RawSocket::icmpv6()?,
        };
        icmp.set_icmp_filter(&WANTED)?;
        Ok(Self {
            control: control.map(Path::to_path_buf),
            icmp,
            udp: None,
            origin: clock(),
            offset: None,
            hop_limit: None,
            bound: None,
        })
    }

    /// The raw socket, for questions to the daemon (links, source addresses).
    pub fn socket(&self) -> &RawSocket {
        &self.icmp
    }

    fn elapsed(&self) -> Duration {
        clock().saturating_duration_since(self.origin)
    }

    fn local_time(&mut self, daemon: Duration) -> Duration {
        let here = self.elapsed().as_micros() as i128;
        let diff = here - daemon.as_micros() as i128;
        let off = *self.offset.get_or_insert(diff);
        let off = off.min(diff);
        self.offset = Some(off);
        Duration::from_micros((daemon.as_micros() as i128 + off).max(0) as u64)
    }

    fn probe_err(&mut self, e: io::Error, dst: &ScopedAddr) -> ProbeError {
        if let Some(a) = api_error(&e) {
            if a.kind == api::ErrorKind::TooBig {
                let mtu = self.path_mtu(dst).unwrap_or(0);
                return ProbeError::TooBig { mtu };
            }
            return ProbeError::Send(a.message.clone());
        }
        fatal(e)
    }

    fn whole_packet(
        &mut self,
        dst: &ScopedAddr,
        opts: &SendOptions,
        message: &[u8],
    ) -> io::Result<Vec<u8>> {
        let src = match opts.source {
            Some(s) => s,
            None => self.icmp.source_for(*dst)?.0,
        };
        let mut msg = message.to_vec();
        if msg.len() >= icmpv6::MIN_LEN {
            icmpv6::Packet::new_unchecked(&mut msg[..]).fill_checksum(&src, &dst.addr);
        }
        let len = u16::try_from(msg.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message too long"))?;
        let mut pkt = vec![0u8; ipv6::HEADER_LEN + msg.len()];
        ipv6::Repr {
            traffic_class: opts.traffic_class,
            flow_label: opts.flow_label & 0xf_ffff,
            payload_len: len,
            next_header: IpProtocol::ICMPV6,
            hop_limit: opts.hop_limit.unwrap_or(64),
            src_addr: src,
            dst_addr: dst.addr,
        }
        .emit(&mut pkt)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        pkt[ipv6::HEADER_LEN..].copy_from_slice(&msg);
        Ok(pkt)
    }
}

/// The process's monotonic clock: the one place the tools read it.
#[allow(clippy::disallowed_methods)]
fn clock() -> Instant {
    Instant::now()
}

/// A failure of the connection itself: nothing more can be sent.
fn fatal(e: io::Error) -> ProbeError {
    ProbeError::Fatal(e.to_string())
}

impl ProbeNet for DaemonNet {
    fn now(&mut self) -> Duration {
        self.elapsed()
    }

    fn send_icmp(
        &mut self,
        dst: &ScopedAddr,
        opts: &SendOptions,
        message: &[u8],
    ) -> Result<(), ProbeError> {
        if opts.traffic_class != 0 || opts.flow_label != 0 {
            // The daemon's raw sockets set neither field: send the whole packet.
            let pkt = self
                .whole_packet(dst, opts, message)
                .map_err(|e| self.probe_err(e, dst))?;
            let r = self.icmp.send_packet(&pkt, dst.zone);
            return r.map(|_| ()).map_err(|e| self.probe_err(e, dst));
        }
        if opts.hop_limit != self.hop_limit {
            self.icmp.set_hop_limit(opts.hop_limit).map_err(fatal)?;
            self.hop_limit = opts.hop_limit;
        }
        if opts.source.is_some() && opts.source != self.bound {
            let src = ScopedAddr::new(opts.source.unwrap_or(Ipv6Addr::UNSPECIFIED), dst.zone);
            let r = self.icmp.bind(src);
            r.map_err(|e| self.probe_err(e, dst))?;
            self.bound = opts.source;
        }
        let r = self.icmp.send_to(message, *dst);
        r.map(|_| ()).map_err(|e| self.probe_err(e, dst))
    }

    fn send_udp(
        &mut self,
        dst: &ScopedAddr,
        port: u16,
        opts: &SendOptions,
        payload: &[u8],
    ) -> Result<u16, ProbeError> {
        if self.udp.is_none() {
            let local = SocketAddr::with_zone(
                opts.source.unwrap_or(Ipv6Addr::UNSPECIFIED),
                opts.source.and(dst.zone),
                0,
            );
            let s = match &self.control {
                Some(p) => UdpSocket::bind_at(p, false, local),
                None => UdpSocket::bind(local),
            };
            let s = s.map_err(|e| self.probe_err(e, dst))?;
            let port = s.local_addr().map_err(fatal)?.port;
            self.udp = Some((s, port, None));
        }
        let Some((s, src_port, hl)) = &mut self.udp else {
            return Err(ProbeError::Fatal("no UDP socket".into()));
        };
        let src_port = *src_port;
        if opts.hop_limit != *hl {
            if let Some(h) = opts.hop_limit {
                s.set_unicast_hops_v6(h).map_err(fatal)?;
            }
            *hl = opts.hop_limit;
        }
        let r = s.send_to(payload, SocketAddr::with_zone(dst.addr, dst.zone, port));
        r.map(|_| src_port).map_err(|e| self.probe_err(e, dst))
    }

    fn recv(&mut self, deadline: Duration) -> Result<Option<Received>, ProbeError> {
        let wait = deadline.saturating_sub(self.elapsed());
        let p = match self
            .icmp
            .recv_within(Some(wait.max(Duration::from_millis(1))))
        {
            Ok(p) => p,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(fatal(e)),
        };
        let time = self.local_time(p.time);
        Ok(Some(Received {
            time,
            from: p.src,
            zone: p.zone,
            hop_limit: p.hop_limit,
            message: p.upper().to_vec(),
        }))
    }

    fn path_mtu(&mut self, dst: &ScopedAddr) -> Option<u32> {
        self.icmp.path_mtu(*dst).ok()
    }
}
