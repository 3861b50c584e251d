use super::*;

const MAC: [u8; 6] = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
const SECRET: [u8; 32] = [7; 32];

fn cfg() -> SlaacConfig {
    SlaacConfig {
        stable_secret: SECRET,
        // Most tests want the first probe at once; the delay has its own test.
        max_rtr_solicitation_delay: Duration::ZERO,
        ..SlaacConfig::default()
    }
}

fn table(cfg: SlaacConfig) -> AddrTable {
    AddrTable::new(cfg, MAC.to_vec(), Some(MAC))
}

fn t(secs: u64) -> Instant {
    Instant::from_secs(secs)
}

fn a(s: &str) -> Ipv6Addr {
    s.parse().unwrap()
}

fn pio(prefix: &str, valid: u32, preferred: u32) -> PrefixInfo {
    PrefixInfo {
        prefix: a(prefix),
        prefix_len: 64,
        autonomous: true,
        valid_lifetime: valid,
        preferred_lifetime: preferred,
    }
}

fn probes(out: &[SlaacAction]) -> Vec<(Ipv6Addr, [u8; 6])> {
    out.iter()
        .filter_map(|x| match x {
            SlaacAction::SendDadSolicit { target, nonce } => Some((*target, *nonce)),
            _ => None,
        })
        .collect()
}

fn stable_addr(prefix: &str, counter: u32) -> Ipv6Addr {
    let p = prefix_of(&a(prefix));
    make_addr(p, stable_iid(p, &MAC, &[], counter, &SECRET))
}

fn ll_stable() -> Ipv6Addr {
    make_addr(
        LINK_LOCAL_PREFIX,
        stable_iid(LINK_LOCAL_PREFIX, &MAC, &[], 0, &SECRET),
    )
}

/// Polls at every instant the table asks for, up to and including `until`.
fn run(tab: &mut AddrTable, rng: &mut Rng, from: Instant, until: Instant) -> Vec<SlaacAction> {
    let mut out = Vec::new();
    let mut now = from;
    for _ in 0..10_000 {
        match tab.poll_at() {
            Some(at) if at <= until => {
                now = now.max(at);
                tab.poll(now, rng, &mut out);
            }
            _ => {
                tab.poll(until, rng, &mut out);
                return out;
            }
        }
    }
    panic!("poll_at kept asking for a poll at {now}");
}

/// A table started at t=0 whose link-local address has passed DAD.
fn started(cfg: SlaacConfig) -> (AddrTable, Rng) {
    let mut tab = table(cfg);
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    run(&mut tab, &mut rng, t(0), t(5));
    assert!(tab.link_local().is_some());
    (tab, rng)
}

fn temp_cfg() -> SlaacConfig {
    let mut c = cfg();
    c.temporary.enabled = true;
    c
}

fn temps(tab: &AddrTable) -> Vec<AddrEntry> {
    tab.iter()
        .filter(|e| e.origin == Origin::Temporary)
        .cloned()
        .collect()
}

#[test]
fn rfc4862_5_3_link_local_formed_on_start_stable() {
    let mut tab = table(cfg());
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let ll = ll_stable();
    assert_eq!(tab.get(&ll).map(|e| e.state), Some(AddrState::Tentative));
    assert_eq!(tab.get(&ll).map(|e| e.origin), Some(Origin::LinkLocal));
    assert_eq!(tab.link_local(), None, "tentative is not assigned");
    // The stable identifier does not reveal the MAC.
    assert_ne!(ll, make_addr(LINK_LOCAL_PREFIX, eui64(MAC)));
    run(&mut tab, &mut rng, t(0), t(2));
    assert_eq!(tab.link_local(), Some(ll));
    assert_eq!(tab.get(&ll).unwrap().valid_until, Instant::FAR_FUTURE);
}

#[test]
fn rfc4862_5_3_link_local_modified_eui64() {
    let mut c = cfg();
    c.iid_mode = IidMode::Eui64;
    let (tab, _) = started(c);
    assert_eq!(tab.link_local(), Some(a("fe80::211:22ff:fe33:4455")));
    // Without a MAC the stable mode is used.
    let mut c = cfg();
    c.iid_mode = IidMode::Eui64;
    let mut tab = AddrTable::new(c, MAC.to_vec(), None);
    tab.start(t(0), &mut Rng::new(1), &mut Vec::new());
    assert!(tab.get(&ll_stable()).is_some());
}

#[test]
fn rfc4862_5_4_2_joins_groups_before_first_delayed_probe() {
    let mut c = cfg();
    c.max_rtr_solicitation_delay = Duration::from_secs(1);
    let mut tab = table(c);
    let mut rng = Rng::new(9);
    let mut out = Vec::new();
    tab.start(t(10), &mut rng, &mut out);
    let ll = ll_stable();
    assert_eq!(out[0], SlaacAction::JoinGroup(ALL_NODES));
    assert!(
        probes(&out).is_empty(),
        "the first probe waits for the delay"
    );
    assert!(!out.contains(&SlaacAction::JoinGroup(ll.solicited_node())));
    // Reception of the group is not delayed, only the join (its MLD report).
    assert!(tab.listens_to(&ll.solicited_node()));
    let at = tab.poll_at().unwrap();
    assert!(at >= t(10) && at <= t(11));
    let mut out = Vec::new();
    tab.poll(at, &mut rng, &mut out);
    let join = out
        .iter()
        .position(|x| *x == SlaacAction::JoinGroup(ll.solicited_node()));
    let probe = out
        .iter()
        .position(|x| matches!(x, SlaacAction::SendDadSolicit { .. }));
    assert!(join.unwrap() < probe.unwrap(), "{out:?}");
}

#[test]
fn rfc4862_5_4_probes_spaced_by_retrans_timer() {
    let mut c = cfg();
    c.dup_addr_detect_transmits = 3;
    let mut tab = table(c);
    tab.set_retrans_timer(Duration::from_secs(2));
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let ll = ll_stable();
    assert_eq!(probes(&out).len(), 1);
    for (k, when) in [2u64, 4].iter().enumerate() {
        assert_eq!(tab.poll_at(), Some(t(*when)));
        let mut out = Vec::new();
        tab.poll(t(*when) - Duration::from_millis(1), &mut rng, &mut out);
        assert!(out.is_empty(), "probe {k} early");
        tab.poll(t(*when), &mut rng, &mut out);
        assert_eq!(probes(&out), vec![(ll, probes(&out)[0].1)]);
        assert!(tab.is_tentative(&ll));
    }
    // RetransTimer after the last probe: preferred.
    assert_eq!(tab.poll_at(), Some(t(6)));
    let mut out = Vec::new();
    tab.poll(t(6), &mut rng, &mut out);
    assert!(probes(&out).is_empty());
    assert!(out.contains(&SlaacAction::AddressReady(ll)));
    assert!(out.contains(&SlaacAction::StateChanged {
        addr: ll,
        from: Some(AddrState::Tentative),
        to: Some(AddrState::Preferred)
    }));
    assert!(tab.is_assigned(&ll));
}

#[test]
fn rfc4862_5_4_zero_transmits_preferred_at_once() {
    let mut c = cfg();
    c.dup_addr_detect_transmits = 0;
    c.max_rtr_solicitation_delay = Duration::from_secs(1);
    let mut tab = table(c);
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let ll = ll_stable();
    assert!(tab.is_assigned(&ll));
    assert!(probes(&out).is_empty());
    assert!(out.contains(&SlaacAction::AddressReady(ll)));
    assert!(out.contains(&SlaacAction::JoinGroup(ll.solicited_node())));
    let mut out = Vec::new();
    tab.on_prefix_info(t(1), &mut rng, &pio("2001:db8::", 3600, 3600), &mut out);
    assert!(tab.is_assigned(&stable_addr("2001:db8::", 0)));
    assert!(probes(&out).is_empty());
    assert_eq!(tab.poll_at(), Some(t(3601)));
}

#[test]
fn rfc4862_5_4_manual_addresses_get_dad() {
    let (mut tab, mut rng) = started(cfg());
    let m = a("2001:db8::1");
    let mut out = Vec::new();
    tab.add_manual(t(5), &mut rng, m, 64, None, &mut out)
        .unwrap();
    assert_eq!(probes(&out).len(), 1);
    assert_eq!(probes(&out)[0].0, m);
    assert!(!tab.is_assigned(&m));
    run(&mut tab, &mut rng, t(5), t(6));
    assert!(tab.is_assigned(&m));
    assert_eq!(tab.get(&m).unwrap().origin, Origin::Manual);
    let mut out = Vec::new();
    assert!(
        tab.add_manual(t(6), &mut rng, m, 64, None, &mut out)
            .is_err()
    );
    assert!(
        tab.add_manual(t(6), &mut rng, a("ff02::1"), 64, None, &mut out)
            .is_err()
    );
    assert!(
        tab.add_manual(t(6), &mut rng, a("::"), 64, None, &mut out)
            .is_err()
    );
    assert!(
        tab.add_manual(t(6), &mut rng, a("2001:db8::2"), 129, None, &mut out)
            .is_err()
    );
    assert!(out.is_empty());
    // A manual lifetime runs out like any other.
    tab.add_manual(
        t(6),
        &mut rng,
        a("2001:db8::3"),
        64,
        Some(Duration::from_secs(10)),
        &mut out,
    )
    .unwrap();
    run(&mut tab, &mut rng, t(6), t(20));
    assert!(tab.get(&a("2001:db8::3")).is_none());
}

#[test]
fn rfc4862_5_4_3_unspecified_ns_for_tentative_is_duplicate() {
    let (mut tab, mut rng) = started(cfg());
    let m = a("2001:db8::1");
    let mut out = Vec::new();
    tab.add_manual(t(5), &mut rng, m, 64, None, &mut out)
        .unwrap();
    assert!(out.contains(&SlaacAction::JoinGroup(m.solicited_node())));
    let mut out = Vec::new();
    assert!(tab.on_dad_solicit(t(5), &mut rng, &m, None, &mut out));
    assert_eq!(tab.get(&m).unwrap().state, AddrState::Duplicate);
    assert!(out.contains(&SlaacAction::StateChanged {
        addr: m,
        from: Some(AddrState::Tentative),
        to: Some(AddrState::Duplicate)
    }));
    assert!(out.contains(&SlaacAction::LeaveGroup(m.solicited_node())));
    assert_eq!(tab.counters().dad_failures, 1);
    // DAD does not complete later, and the duplicate stays visible but unusable.
    let out = run(&mut tab, &mut rng, t(5), t(100));
    assert!(out.is_empty(), "{out:?}");
    assert!(!tab.is_assigned(&m));
    assert!(tab.iter().any(|e| e.addr == m));
    assert!(!tab.listens_to(&m.solicited_node()));
}

#[test]
fn rfc4862_5_4_3_ns_for_assigned_address_is_answered() {
    let (mut tab, mut rng) = started(cfg());
    let ll = tab.link_local().unwrap();
    let mut out = Vec::new();
    assert!(!tab.on_dad_solicit(t(6), &mut rng, &ll, None, &mut out));
    assert!(!tab.on_dad_solicit(t(6), &mut rng, &ll, Some(&[1, 2, 3, 4, 5, 6]), &mut out));
    assert!(out.is_empty());
    assert!(tab.is_assigned(&ll));
    // Not ours at all: nothing to say.
    assert!(!tab.on_dad_solicit(t(6), &mut rng, &a("2001:db8::9"), None, &mut out));
}

#[test]
fn rfc4862_5_4_4_na_for_tentative_is_duplicate() {
    let (mut tab, mut rng) = started(cfg());
    let m = a("2001:db8::1");
    let mut out = Vec::new();
    tab.add_manual(t(5), &mut rng, m, 64, None, &mut out)
        .unwrap();
    tab.on_advert(t(5), &mut rng, &m, &mut out);
    assert_eq!(tab.get(&m).unwrap().state, AddrState::Duplicate);
    // An NA for an assigned address leaves it alone.
    let ll = tab.link_local().unwrap();
    let mut out = Vec::new();
    tab.on_advert(t(6), &mut rng, &ll, &mut out);
    assert!(out.is_empty());
    assert!(tab.is_assigned(&ll));
}

#[test]
fn rfc4862_5_4_5_eui64_duplicate_disables() {
    let mut c = cfg();
    c.iid_mode = IidMode::Eui64;
    let mut tab = table(c);
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let ll = a("fe80::211:22ff:fe33:4455");
    let mut out = Vec::new();
    tab.on_advert(t(0), &mut rng, &ll, &mut out);
    assert!(out.contains(&SlaacAction::InterfaceDisabled));
    assert!(!tab.is_enabled());
    assert_eq!(tab.get(&ll).unwrap().state, AddrState::Duplicate);
    assert_eq!(tab.link_local(), None);
    // Nothing further runs on a disabled interface.
    let mut out = Vec::new();
    tab.on_prefix_info(t(1), &mut rng, &pio("2001:db8::", 3600, 3600), &mut out);
    out.extend(run(&mut tab, &mut rng, t(1), t(100)));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(tab.iter().count(), 1);
    // Link down and up: DAD again, and the interface works if the duplicate left.
    let mut out = Vec::new();
    tab.stop(&mut out);
    tab.start(t(200), &mut rng, &mut out);
    assert!(tab.is_enabled());
    assert_eq!(probes(&out), vec![(ll, probes(&out)[0].1)]);
    run(&mut tab, &mut rng, t(200), t(202));
    assert_eq!(tab.link_local(), Some(ll));
}

#[test]
fn rfc4862_5_4_5_eui64_global_duplicate_does_not_disable() {
    let mut c = cfg();
    c.iid_mode = IidMode::Eui64;
    let (mut tab, mut rng) = started(c);
    let mut out = Vec::new();
    tab.on_prefix_info(t(10), &mut rng, &pio("2001:db8::", 3600, 3600), &mut out);
    let g = a("2001:db8::211:22ff:fe33:4455");
    assert!(tab.is_tentative(&g));
    tab.on_advert(t(10), &mut rng, &g, &mut out);
    assert!(tab.is_enabled());
    assert!(!out.contains(&SlaacAction::InterfaceDisabled));
    assert_eq!(tab.get(&g).unwrap().state, AddrState::Duplicate);
    assert_eq!(tab.iter().count(), 2, "EUI-64 has nothing to regenerate");
}

#[test]
fn rfc4862_5_4_solicited_node_group_counted_across_addresses() {
    // EUI-64 link-local and global share their low 24 bits, hence one group.
    let mut c = cfg();
    c.iid_mode = IidMode::Eui64;
    let (mut tab, mut rng) = started(c);
    let g = a("2001:db8::211:22ff:fe33:4455");
    let mut out = Vec::new();
    tab.on_prefix_info(t(10), &mut rng, &pio("2001:db8::", 3600, 3600), &mut out);
    assert!(!out.iter().any(|x| matches!(x, SlaacAction::JoinGroup(_))));
    let mut out = Vec::new();
    assert!(tab.remove(&g, &mut out));
    assert!(!out.iter().any(|x| matches!(x, SlaacAction::LeaveGroup(_))));
    let ll = tab.link_local().unwrap();
    assert!(tab.remove(&ll, &mut out));
    assert!(out.contains(&SlaacAction::LeaveGroup(ll.solicited_node())));
    assert!(!tab.remove(&ll, &mut out));
}

#[test]
fn rfc4862_5_5_3_ignored_options() {
    let (mut tab, mut rng) = started(cfg());
    let before = tab.iter().count();
    let mut out = Vec::new();
    let mut p = pio("2001:db8::", 3600, 3600);
    p.autonomous = false; // (a)
    tab.on_prefix_info(t(6), &mut rng, &p, &mut out);
    tab.on_prefix_info(t(6), &mut rng, &pio("fe80::", 3600, 3600), &mut out); // (b)
    tab.on_prefix_info(t(6), &mut rng, &pio("2001:db8::", 100, 200), &mut out); // (c)
    let mut p = pio("2001:db8::", 3600, 3600);
    p.prefix_len = 48; // (d): 48 + 64 != 128
    tab.on_prefix_info(t(6), &mut rng, &p, &mut out);
    tab.on_prefix_info(t(6), &mut rng, &pio("ff0e::", 3600, 3600), &mut out);
    tab.on_prefix_info(t(6), &mut rng, &pio("::", 3600, 3600), &mut out);
    assert_eq!(tab.counters().pio_ignored, 6);
    // (d) a new prefix with a zero valid lifetime forms nothing.
    tab.on_prefix_info(t(6), &mut rng, &pio("2001:db8::", 0, 0), &mut out);
    assert!(out.is_empty());
    assert_eq!(tab.iter().count(), before);
}

#[test]
fn rfc4862_5_5_3_d_new_prefix_forms_address() {
    let (mut tab, mut rng) = started(cfg());
    let mut out = Vec::new();
    // Host bits in the option's prefix field are not ours to take.
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8:1::dead", 3600, 1800),
        &mut out,
    );
    let g = stable_addr("2001:db8:1::", 0);
    let e = tab.get(&g).unwrap();
    assert_eq!(e.origin, Origin::Stable);
    assert_eq!(e.prefix_len, 64);
    assert_eq!(e.valid_until, t(3610));
    assert_eq!(e.preferred_until, t(1810));
    assert_eq!(probes(&out), vec![(g, probes(&out)[0].1)]);
    // The same PIO again forms nothing new.
    let mut out = Vec::new();
    tab.on_prefix_info(t(11), &mut rng, &pio("2001:db8:1::", 3600, 1800), &mut out);
    assert!(out.is_empty());
    assert_eq!(tab.iter().filter(|e| e.origin == Origin::Stable).count(), 1);
    run(&mut tab, &mut rng, t(11), t(12));
    assert!(tab.is_assigned(&g));
}

#[test]
fn rfc4862_5_5_3_e_two_hour_rule() {
    let now = t(1_000_000);
    let h = |x: u64| Duration::from_secs(x * 3600);
    // 1. More than two hours: taken, shorter or longer.
    assert_eq!(two_hour_rule(now, now + h(24), 3 * 3600), now + h(3));
    assert_eq!(two_hour_rule(now, now + h(1), 3 * 3600), now + h(3));
    assert_eq!(
        two_hour_rule(now, Instant::FAR_FUTURE, 3 * 3600),
        now + h(3)
    );
    // 1. Longer than what is left: taken even when under two hours.
    assert_eq!(
        two_hour_rule(now, now + h(1), 5400),
        now + Duration::from_secs(5400)
    );
    // Infinity always taken.
    assert_eq!(
        two_hour_rule(now, now + h(1), u32::MAX),
        Instant::FAR_FUTURE
    );
    // 2. Two hours or less left: a shorter lifetime is ignored.
    assert_eq!(two_hour_rule(now, now + h(1), 60), now + h(1));
    assert_eq!(two_hour_rule(now, now + h(2), 0), now + h(2));
    assert_eq!(two_hour_rule(now, now + h(1), 0), now + h(1));
    // 3. Otherwise two hours.
    assert_eq!(two_hour_rule(now, now + h(24), 60), now + h(2));
    assert_eq!(two_hour_rule(now, now + h(24), 0), now + h(2));
    assert_eq!(two_hour_rule(now, Instant::FAR_FUTURE, 0), now + h(2));
    assert_eq!(two_hour_rule(now, now + h(3), 7200), now + h(2));

    // And through the table: a forged RA cannot kill the address.
    let (mut tab, mut rng) = started(cfg());
    let mut out = Vec::new();
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8::", 86_400, 86_400),
        &mut out,
    );
    let g = stable_addr("2001:db8::", 0);
    tab.on_prefix_info(t(20), &mut rng, &pio("2001:db8::", 0, 0), &mut out);
    let e = tab.get(&g).unwrap();
    assert_eq!(e.valid_until, t(20) + h(2));
    assert_eq!(e.preferred_until, t(20));
    tab.on_prefix_info(t(30), &mut rng, &pio("2001:db8::", 0, 0), &mut out);
    assert_eq!(tab.get(&g).unwrap().valid_until, t(20) + h(2));
    run(&mut tab, &mut rng, t(30), t(20) + h(2));
    assert!(tab.get(&g).is_none());
}

#[test]
fn rfc4862_5_5_3_e_preferred_lifetime_reset_and_undeprecated() {
    let (mut tab, mut rng) = started(cfg());
    let mut out = Vec::new();
    tab.on_prefix_info(t(10), &mut rng, &pio("2001:db8::", 86_400, 3600), &mut out);
    let g = stable_addr("2001:db8::", 0);
    run(&mut tab, &mut rng, t(10), t(12));
    assert_eq!(tab.get(&g).unwrap().state, AddrState::Preferred);
    let mut out = Vec::new();
    tab.on_prefix_info(t(20), &mut rng, &pio("2001:db8::", 86_400, 0), &mut out);
    assert_eq!(tab.get(&g).unwrap().state, AddrState::Deprecated);
    assert!(tab.is_assigned(&g), "deprecated is still usable");
    tab.on_prefix_info(t(30), &mut rng, &pio("2001:db8::", 86_400, 600), &mut out);
    let e = tab.get(&g).unwrap();
    assert_eq!(e.state, AddrState::Preferred);
    assert_eq!(e.preferred_until, t(630));
    assert_eq!(
        out.last(),
        Some(&SlaacAction::StateChanged {
            addr: g,
            from: Some(AddrState::Deprecated),
            to: Some(AddrState::Preferred)
        })
    );
}

#[test]
fn rfc4862_5_5_4_deprecated_then_removed() {
    let (mut tab, mut rng) = started(cfg());
    let mut out = Vec::new();
    tab.on_prefix_info(t(10), &mut rng, &pio("2001:db8::", 200, 100), &mut out);
    let g = stable_addr("2001:db8::", 0);
    run(&mut tab, &mut rng, t(10), t(12));
    assert_eq!(tab.poll_at(), Some(t(110)));
    let out = run(&mut tab, &mut rng, t(12), t(110));
    assert_eq!(
        out,
        vec![SlaacAction::StateChanged {
            addr: g,
            from: Some(AddrState::Preferred),
            to: Some(AddrState::Deprecated)
        }]
    );
    assert_eq!(tab.poll_at(), Some(t(210)));
    let out = run(&mut tab, &mut rng, t(110), t(210));
    assert!(out.contains(&SlaacAction::StateChanged {
        addr: g,
        from: Some(AddrState::Deprecated),
        to: None
    }));
    assert!(out.contains(&SlaacAction::LeaveGroup(g.solicited_node())));
    assert!(tab.get(&g).is_none());
    assert_eq!(tab.poll_at(), None, "the link-local address is forever");
}

#[test]
fn rfc4862_5_5_4_clock_jump_expires_in_one_poll() {
    let (mut tab, mut rng) = started(temp_cfg());
    let mut out = Vec::new();
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8:1::", 3 * 86_400, 86_400),
        &mut out,
    );
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8:2::", u32::MAX, u32::MAX),
        &mut out,
    );
    tab.on_prefix_info(t(10), &mut rng, &pio("2001:db8:3::", 7200, 3600), &mut out);
    run(&mut tab, &mut rng, t(10), t(20));
    assert_eq!(temps(&tab).len(), 3);
    assert!(tab.iter().all(|e| e.state == AddrState::Preferred));
    // Ten days asleep, then one poll.
    let now = t(10 * 86_400);
    let mut out = Vec::new();
    tab.poll(now, &mut rng, &mut out);
    // Every finite lifetime is over; the link-local and infinite-prefix addresses stay.
    assert!(tab.get(&stable_addr("2001:db8:1::", 0)).is_none());
    assert!(tab.get(&stable_addr("2001:db8:3::", 0)).is_none());
    assert!(tab.is_assigned(&stable_addr("2001:db8:2::", 0)));
    assert!(tab.link_local().is_some());
    // One successor for the prefix still preferred, none for the others, one probe.
    let t2 = temps(&tab);
    assert_eq!(t2.len(), 1, "{t2:?}");
    assert_eq!(prefix_of(&t2[0].addr), prefix_of(&a("2001:db8:2::")));
    assert!(t2[0].valid_until <= now + Duration::from_secs(2 * 86_400));
    assert_eq!(probes(&out), vec![(t2[0].addr, probes(&out)[0].1)]);
    assert!(tab.poll_at().unwrap() > now);
    let again = run(&mut tab, &mut rng, now, now + Duration::from_secs(1));
    assert!(tab.is_assigned(&t2[0].addr), "{again:?}");
}

#[test]
fn rfc4862_5_4_link_down_up_reruns_dad() {
    let (mut tab, mut rng) = started(cfg());
    let mut out = Vec::new();
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8::", 86_400, 86_400),
        &mut out,
    );
    run(&mut tab, &mut rng, t(10), t(12));
    let mut out = Vec::new();
    tab.stop(&mut out);
    assert_eq!(out.len(), 2);
    assert!(tab.iter().all(|e| e.state == AddrState::Tentative));
    assert!(tab.link_local().is_none());
    // Link down: no probes however long.
    assert!(probes(&run(&mut tab, &mut rng, t(12), t(1000))).is_empty());
    let mut out = Vec::new();
    tab.start(t(1000), &mut rng, &mut out);
    assert_eq!(probes(&out).len(), 2);
    assert!(
        !out.contains(&SlaacAction::JoinGroup(ALL_NODES)),
        "joined once"
    );
    run(&mut tab, &mut rng, t(1000), t(1002));
    assert!(tab.iter().all(|e| e.state == AddrState::Preferred));
}

#[test]
fn rfc7527_probes_carry_fresh_nonces() {
    let mut c = cfg();
    c.dup_addr_detect_transmits = 2;
    let mut tab = table(c);
    let mut rng = Rng::new(3);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    out.extend(run(&mut tab, &mut rng, t(0), t(1)));
    let p = probes(&out);
    assert_eq!(p.len(), 2);
    assert_ne!(p[0].1, p[1].1);
}

#[test]
fn rfc7527_looped_back_probe_is_not_duplicate() {
    let mut c = cfg();
    c.dup_addr_detect_transmits = 2;
    let mut tab = table(c);
    let mut rng = Rng::new(3);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let (ll, nonce) = probes(&out)[0];
    let mut out = Vec::new();
    assert!(tab.on_dad_solicit(t(0), &mut rng, &ll, Some(&nonce), &mut out));
    assert!(out.is_empty());
    assert!(tab.is_tentative(&ll));
    assert_eq!(tab.counters().looped_back_probes, 1);
    run(&mut tab, &mut rng, t(0), t(2));
    assert!(tab.is_assigned(&ll));
    // Looped back late, after DAD: still ours, still not to be answered.
    assert!(tab.on_dad_solicit(t(3), &mut rng, &ll, Some(&nonce), &mut out));
    assert!(tab.is_assigned(&ll));
}

#[test]
fn rfc7527_other_nonce_is_duplicate() {
    let mut tab = table(cfg());
    let mut rng = Rng::new(3);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let (ll, nonce) = probes(&out)[0];
    let mut other = nonce;
    other[0] ^= 1;
    let mut out = Vec::new();
    assert!(tab.on_dad_solicit(t(0), &mut rng, &ll, Some(&other), &mut out));
    assert_eq!(tab.get(&ll).unwrap().state, AddrState::Duplicate);
    // A longer nonce that starts with ours is not ours either.
    let mut tab = table(cfg());
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let (ll, nonce) = probes(&out)[0];
    let mut long = nonce.to_vec();
    long.push(0);
    assert!(tab.on_dad_solicit(t(0), &mut rng, &ll, Some(&long), &mut out));
    assert_eq!(tab.get(&ll).unwrap().state, AddrState::Duplicate);
}

#[test]
fn rfc7217_same_inputs_same_iid_and_prefix_changes_it() {
    let p1 = prefix_of(&a("2001:db8:1::"));
    let p2 = prefix_of(&a("2001:db8:2::"));
    let base = stable_iid(p1, &MAC, b"net", 0, &SECRET);
    assert_eq!(base, stable_iid(p1, &MAC, b"net", 0, &SECRET));
    assert_ne!(base, stable_iid(p2, &MAC, b"net", 0, &SECRET));
    assert_ne!(
        base,
        stable_iid(p1, &[0, 0x11, 0x22, 0x33, 0x44, 0x56], b"net", 0, &SECRET)
    );
    assert_ne!(base, stable_iid(p1, &MAC, b"other", 0, &SECRET));
    assert_ne!(base, stable_iid(p1, &MAC, b"net", 1, &SECRET));
    assert_ne!(base, stable_iid(p1, &MAC, b"net", 0, &[8; 32]));
    // Moving bytes between Net_Iface and Network_ID changes it too.
    assert_ne!(
        stable_iid(p1, b"ab", b"c", 0, &SECRET),
        stable_iid(p1, b"a", b"bc", 0, &SECRET)
    );
    // Through two tables: the same network gives the same address after a restart.
    let addr_of = |prefix: &str| {
        let (mut tab, mut rng) = started(cfg());
        tab.on_prefix_info(t(10), &mut rng, &pio(prefix, 3600, 3600), &mut Vec::new());
        tab.iter()
            .find(|e| e.origin == Origin::Stable)
            .unwrap()
            .addr
    };
    assert_eq!(addr_of("2001:db8:1::"), addr_of("2001:db8:1::"));
    let (x, y) = (addr_of("2001:db8:1::"), addr_of("2001:db8:2::"));
    assert_ne!(u128::from(x) as u64, u128::from(y) as u64);
}

#[test]
fn rfc7217_dad_failure_regenerates_with_counter() {
    let (mut tab, mut rng) = started(cfg());
    let mut out = Vec::new();
    tab.on_prefix_info(t(10), &mut rng, &pio("2001:db8::", 3600, 1800), &mut out);
    for counter in 0..=3 {
        let g = stable_addr("2001:db8::", counter);
        let e = tab.get(&g).unwrap();
        assert_eq!(e.state, AddrState::Tentative, "counter {counter}");
        assert_eq!(e.valid_until, t(3610));
        let mut out = Vec::new();
        tab.on_advert(t(10), &mut rng, &g, &mut out);
        assert_eq!(tab.get(&g).unwrap().state, AddrState::Duplicate);
        if counter < 3 {
            // The next identifier is probed at once.
            let next = stable_addr("2001:db8::", counter + 1);
            assert_eq!(probes(&out), vec![(next, probes(&out)[0].1)]);
        } else {
            // IDGEN_RETRIES spent: no more.
            assert!(probes(&out).is_empty());
        }
    }
    let dups = tab
        .iter()
        .filter(|e| e.origin == Origin::Stable && e.state == AddrState::Duplicate)
        .count();
    assert_eq!(dups, 4);
    assert!(
        !tab.iter()
            .any(|e| e.origin == Origin::Stable && e.is_assigned())
    );
    // A later PIO updates the prefix, it does not start over.
    let mut out = Vec::new();
    tab.on_prefix_info(t(20), &mut rng, &pio("2001:db8::", 3600, 1800), &mut out);
    assert!(probes(&out).is_empty());
    // Duplicates go with the prefix's lifetime.
    run(&mut tab, &mut rng, t(20), t(4000));
    assert_eq!(tab.iter().count(), 1);
}

#[test]
fn rfc7217_link_local_failure_regenerates_not_disables() {
    let mut tab = table(cfg());
    let mut rng = Rng::new(1);
    let mut out = Vec::new();
    tab.start(t(0), &mut rng, &mut out);
    let ll0 = ll_stable();
    let mut out = Vec::new();
    tab.on_dad_solicit(t(0), &mut rng, &ll0, None, &mut out);
    assert!(tab.is_enabled());
    assert!(!out.contains(&SlaacAction::InterfaceDisabled));
    let ll1 = make_addr(
        LINK_LOCAL_PREFIX,
        stable_iid(LINK_LOCAL_PREFIX, &MAC, &[], 1, &SECRET),
    );
    assert!(tab.is_tentative(&ll1));
    run(&mut tab, &mut rng, t(0), t(2));
    assert_eq!(tab.link_local(), Some(ll1));
    // The replaced duplicate stays a duplicate across link down and up.
    let mut out = Vec::new();
    tab.stop(&mut out);
    tab.start(t(10), &mut rng, &mut out);
    assert_eq!(tab.get(&ll0).unwrap().state, AddrState::Duplicate);
    assert_eq!(probes(&out), vec![(ll1, probes(&out)[0].1)]);
}

#[test]
fn rfc7217_reserved_iids_are_avoided() {
    assert!(is_reserved_iid([0; 8]));
    assert!(is_reserved_iid([
        0x02, 0x00, 0x5e, 0xff, 0xfe, 0x00, 0x52, 0x13
    ]));
    assert!(is_reserved_iid([
        0x02, 0x00, 0x5e, 0xff, 0xfe, 0xff, 0xff, 0xff
    ]));
    assert!(is_reserved_iid([
        0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80
    ]));
    assert!(is_reserved_iid([0xff; 8]));
    assert!(!is_reserved_iid([
        0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
    ]));
    assert!(!is_reserved_iid([
        0x02, 0x00, 0x5e, 0xff, 0xfd, 0xff, 0xff, 0xff
    ]));
    assert!(!is_reserved_iid([0, 0, 0, 0, 0, 0, 0, 1]));
    // An identifier already on the interface counts as a failure: the next counter.
    let (mut tab, mut rng) = started(cfg());
    let taken = stable_addr("2001:db8::", 0);
    tab.add_manual(t(6), &mut rng, taken, 64, None, &mut Vec::new())
        .unwrap();
    tab.on_prefix_info(
        t(6),
        &mut rng,
        &pio("2001:db8::", 3600, 3600),
        &mut Vec::new(),
    );
    let e = tab.get(&stable_addr("2001:db8::", 1)).unwrap();
    assert_eq!(e.origin, Origin::Stable);
}

#[test]
fn rfc8981_temporary_off_by_default() {
    let (mut tab, mut rng) = started(cfg());
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8::", 86_400, 86_400),
        &mut Vec::new(),
    );
    assert!(temps(&tab).is_empty());
    assert_eq!(tab.iter().count(), 2);
}

#[test]
fn rfc8981_temporary_lifetimes_bounded() {
    let (mut tab, mut rng) = started(temp_cfg());
    let day = Duration::from_secs(86_400);
    let now = t(10);
    let mut out = Vec::new();
    tab.on_prefix_info(
        now,
        &mut rng,
        &pio("2001:db8::", u32::MAX, u32::MAX),
        &mut out,
    );
    let tmp = &temps(&tab)[0];
    assert_eq!(tmp.valid_until, now + 2 * day);
    assert!(tmp.preferred_until <= now + day);
    assert!(tmp.preferred_until >= now + day - day.mul_f64(0.4));
    assert_eq!(prefix_of(&tmp.addr), prefix_of(&a("2001:db8::")));
    assert_ne!(tmp.addr, stable_addr("2001:db8::", 0));
    assert_eq!(probes(&out).len(), 2, "public and temporary both probed");
    // A prefix shorter-lived than the maxima bounds them.
    tab.on_prefix_info(now, &mut rng, &pio("2001:db8:1::", 10_800, 7200), &mut out);
    let tmp = temps(&tab)
        .into_iter()
        .find(|e| prefix_of(&e.addr) == prefix_of(&a("2001:db8:1::")))
        .unwrap();
    assert_eq!(tmp.valid_until, now + Duration::from_secs(10_800));
    assert_eq!(tmp.preferred_until, now + Duration::from_secs(7200));
}

#[test]
fn rfc8981_regenerated_before_deprecation() {
    let (mut tab, mut rng) = started(temp_cfg());
    let mut out = Vec::new();
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8::", u32::MAX, u32::MAX),
        &mut out,
    );
    run(&mut tab, &mut rng, t(10), t(12));
    let first = temps(&tab)[0].clone();
    assert_eq!(first.state, AddrState::Preferred);
    let regen = tab.regen_advance();
    assert_eq!(regen, Duration::from_secs(5), "2 + 3 × 1 × 1 s");
    let at = first.preferred_until - regen;
    assert_eq!(tab.poll_at(), Some(at));
    let out = run(&mut tab, &mut rng, t(12), at);
    let now_temps = temps(&tab);
    assert_eq!(now_temps.len(), 2);
    let second = now_temps
        .iter()
        .find(|e| e.addr != first.addr)
        .unwrap()
        .clone();
    assert_eq!(probes(&out), vec![(second.addr, probes(&out)[0].1)]);
    assert_eq!(tab.get(&first.addr).unwrap().state, AddrState::Preferred);
    // The new one is ready before the old one is deprecated.
    run(&mut tab, &mut rng, at, first.preferred_until);
    assert_eq!(tab.get(&first.addr).unwrap().state, AddrState::Deprecated);
    assert_eq!(tab.get(&second.addr).unwrap().state, AddrState::Preferred);
    assert!(second.preferred_until > first.preferred_until);
    // Only the newest regenerates: one successor each time, not one per old address.
    run(
        &mut tab,
        &mut rng,
        first.preferred_until,
        second.preferred_until,
    );
    assert_eq!(temps(&tab).len(), 3);
    run(
        &mut tab,
        &mut rng,
        second.preferred_until,
        first.valid_until,
    );
    assert!(tab.get(&first.addr).is_none());
    assert_eq!(temps(&tab).len(), 2);
}

#[test]
fn rfc8981_never_beyond_prefix_lifetimes() {
    let (mut tab, mut rng) = started(temp_cfg());
    let h = |x: u64| Duration::from_secs(x * 3600);
    let mut out = Vec::new();
    tab.on_prefix_info(t(0), &mut rng, &pio("2001:db8::", 86_400, 43_200), &mut out);
    let tmp = temps(&tab)[0].clone();
    // A later RA shortens the prefix: the temporary address follows (two-hour rule).
    tab.on_prefix_info(t(100), &mut rng, &pio("2001:db8::", 60, 30), &mut out);
    let e = tab.get(&tmp.addr).unwrap();
    assert_eq!(e.valid_until, t(100) + h(2));
    assert_eq!(e.preferred_until, t(130));
    // A longer one never stretches it past its own maxima from creation.
    tab.on_prefix_info(
        t(200),
        &mut rng,
        &pio("2001:db8::", u32::MAX, u32::MAX),
        &mut out,
    );
    let e = tab.get(&tmp.addr).unwrap();
    assert_eq!(e.valid_until, t(0) + h(48));
    assert!(e.preferred_until <= t(0) + h(24));
    // And regeneration stops when the prefix is not preferred long enough.
    let (mut tab, mut rng) = started(temp_cfg());
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8::", 3600, 3),
        &mut Vec::new(),
    );
    assert!(temps(&tab).is_empty(), "preferred 3 s <= REGEN_ADVANCE 5 s");
}

#[test]
fn rfc8981_zero_preferred_deprecates_without_regeneration() {
    let (mut tab, mut rng) = started(temp_cfg());
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8::", 86_400, 86_400),
        &mut Vec::new(),
    );
    run(&mut tab, &mut rng, t(10), t(12));
    let mut out = Vec::new();
    tab.on_prefix_info(t(20), &mut rng, &pio("2001:db8::", 86_400, 0), &mut out);
    assert!(
        tab.iter()
            .filter(|e| e.addr.segments()[0] == 0x2001)
            .all(|e| e.state == AddrState::Deprecated)
    );
    let out = run(&mut tab, &mut rng, t(20), t(3 * 3600));
    assert!(probes(&out).is_empty());
    assert_eq!(temps(&tab).len(), 1);
    // The prefix preferred again: a temporary address in use again (§3.4 step 3).
    tab.on_prefix_info(
        t(3 * 3600),
        &mut rng,
        &pio("2001:db8::", 86_400, 86_400),
        &mut Vec::new(),
    );
    assert!(temps(&tab).iter().any(|e| e.state == AddrState::Preferred));
}

#[test]
fn rfc8981_dad_failure_retries_then_gives_up() {
    let (mut tab, mut rng) = started(temp_cfg());
    tab.on_prefix_info(
        t(10),
        &mut rng,
        &pio("2001:db8::", 86_400, 86_400),
        &mut Vec::new(),
    );
    for attempt in 0..=3 {
        let live: Vec<_> = temps(&tab)
            .into_iter()
            .filter(|e| e.state == AddrState::Tentative)
            .collect();
        assert_eq!(live.len(), 1, "attempt {attempt}");
        let mut out = Vec::new();
        tab.on_dad_solicit(t(10), &mut rng, &live[0].addr, None, &mut out);
        assert_eq!(probes(&out).len(), usize::from(attempt < 3));
    }
    assert_eq!(temps(&tab).len(), 4);
    assert!(temps(&tab).iter().all(|e| e.state == AddrState::Duplicate));
    // No more temporary addresses on this interface, for any prefix.
    tab.on_prefix_info(
        t(11),
        &mut rng,
        &pio("2001:db8:1::", 86_400, 86_400),
        &mut Vec::new(),
    );
    assert_eq!(temps(&tab).len(), 4);
    assert!(tab.is_tentative(&stable_addr("2001:db8:1::", 0)));
}

#[test]
fn table_limit_refuses_pio_flood() {
    let mut c = temp_cfg();
    c.max_addresses = 5;
    let (mut tab, mut rng) = started(c);
    for k in 0..50u16 {
        let prefix = Ipv6Addr::new(0x2001, 0xdb8, k, 0, 0, 0, 0, 0);
        let p = PrefixInfo {
            prefix,
            ..pio("::", 86_400, 86_400)
        };
        tab.on_prefix_info(t(10), &mut rng, &p, &mut Vec::new());
        assert!(tab.iter().count() <= 5);
    }
    assert_eq!(tab.iter().count(), 5);
    assert!(tab.counters().table_full > 0);
    assert!(
        tab.link_local().is_some(),
        "the flood did not evict working addresses"
    );
    let mut out = Vec::new();
    assert_eq!(
        tab.add_manual(t(11), &mut rng, a("2001:db8::1"), 64, None, &mut out),
        Err("address table full")
    );
}

mod prop {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Pio {
            k: u8,
            len: u8,
            auto: bool,
            valid: u32,
            pref: u32,
        },
        Ns {
            which: u8,
            nonce: Option<Vec<u8>>,
            own: bool,
        },
        Na {
            which: u8,
        },
        Advance {
            micros: u64,
        },
        Manual {
            k: u8,
            valid: Option<u32>,
        },
        Remove {
            which: u8,
        },
        Retrans {
            ms: u32,
        },
        Stop,
        Start,
    }

    fn lifetime() -> impl Strategy<Value = u32> {
        prop_oneof![Just(0u32), 1u32..20_000, Just(u32::MAX), any::<u32>()]
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u8..12, prop_oneof![Just(64u8), any::<u8>()], any::<bool>(), lifetime(), lifetime())
                .prop_map(|(k, len, auto, valid, pref)| Op::Pio { k, len, auto, valid, pref }),
            2 => (any::<u8>(), proptest::option::of(proptest::collection::vec(any::<u8>(), 0..10)), any::<bool>())
                .prop_map(|(which, nonce, own)| Op::Ns { which, nonce, own }),
            2 => any::<u8>().prop_map(|which| Op::Na { which }),
            4 => prop_oneof![0u64..3_000_000, 0u64..10_000_000_000, Just(30 * 86_400 * 1_000_000u64)]
                .prop_map(|micros| Op::Advance { micros }),
            1 => (0u8..8, proptest::option::of(0u32..100_000)).prop_map(|(k, valid)| Op::Manual { k, valid }),
            1 => any::<u8>().prop_map(|which| Op::Remove { which }),
            1 => any::<u32>().prop_map(|ms| Op::Retrans { ms }),
            1 => Just(Op::Stop),
            1 => Just(Op::Start),
        ]
    }

    fn prop_cfg() -> impl Strategy<Value = SlaacConfig> {
        (0u32..4, any::<bool>(), 1usize..10, any::<bool>()).prop_map(|(tx, eui, max, temp)| {
            let mut c = SlaacConfig {
                dup_addr_detect_transmits: tx,
                iid_mode: if eui { IidMode::Eui64 } else { IidMode::Stable },
                max_addresses: max,
                ..SlaacConfig::default()
            };
            c.temporary.enabled = temp;
            // Short temporary lifetimes so that regeneration happens within a run.
            c.temporary.temp_preferred_lifetime = Duration::from_secs(600);
            c.temporary.temp_valid_lifetime = Duration::from_secs(1200);
            c.temporary.max_desync_factor = Duration::from_secs(240);
            c
        })
    }

    proptest! {
        #[test]
        fn arbitrary_inputs_never_panic_nor_overflow(
            cfg in prop_cfg(),
            seed in any::<u64>(),
            ops in proptest::collection::vec(op(), 0..80),
        ) {
            let max = cfg.max_addresses;
            let mut tab = table(cfg);
            let mut rng = Rng::new(seed);
            let mut now = t(0);
            let mut sent: Vec<(Ipv6Addr, [u8; 6])> = Vec::new();
            let mut out = Vec::new();
            tab.start(now, &mut rng, &mut out);
            for op in ops {
                let addrs: Vec<Ipv6Addr> = tab.iter().map(|e| e.addr).collect();
                let pick = |w: u8| -> Ipv6Addr {
                    if addrs.is_empty() || w.is_multiple_of(5) {
                        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(w))
                    } else {
                        addrs[usize::from(w) % addrs.len()]
                    }
                };
                match op {
                    Op::Pio { k, len, auto, valid, pref } => {
                        let p = PrefixInfo {
                            prefix: Ipv6Addr::new(0x2001, 0xdb8, u16::from(k), 0, 0, 0, 0, 0),
                            prefix_len: len, autonomous: auto,
                            valid_lifetime: valid, preferred_lifetime: pref,
                        };
                        tab.on_prefix_info(now, &mut rng, &p, &mut out);
                    }
                    Op::Ns { which, nonce, own } => {
                        let target = pick(which);
                        let own_nonce = sent.iter().rev().find(|(a, _)| *a == target).map(|(_, n)| n.to_vec());
                        let nonce = if own { own_nonce.or(nonce) } else { nonce };
                        tab.on_dad_solicit(now, &mut rng, &target, nonce.as_deref(), &mut out);
                    }
                    Op::Na { which } => tab.on_advert(now, &mut rng, &pick(which), &mut out),
                    Op::Advance { micros } => {
                        now += Duration::from_micros(micros);
                        let probes_before = probes(&out).len();
                        let tentative = tab.iter().filter(|e| e.state == AddrState::Tentative).count();
                        tab.poll(now, &mut rng, &mut out);
                        // No burst: at most one probe per address per poll (plus new temporaries).
                        prop_assert!(probes(&out).len() - probes_before <= tentative + max);
                        // poll_at converges: no busy loop at one instant.
                        for _ in 0..4 {
                            if tab.poll_at().is_some_and(|at| at <= now) {
                                tab.poll(now, &mut rng, &mut out);
                            }
                        }
                        prop_assert!(tab.poll_at().is_none_or(|at| at > now));
                    }
                    Op::Manual { k, valid } => {
                        let addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(k));
                        let _ = tab.add_manual(now, &mut rng, addr, 64,
                            valid.map(|v| Duration::from_secs(v.into())), &mut out);
                    }
                    Op::Remove { which } => { tab.remove(&pick(which), &mut out); }
                    Op::Retrans { ms } => tab.set_retrans_timer(Duration::from_millis(ms.into())),
                    Op::Stop => tab.stop(&mut out),
                    Op::Start => tab.start(now, &mut rng, &mut out),
                }
                sent.extend(probes(&out));
                for x in &out {
                    if let SlaacAction::SendDadSolicit { target, .. } = x {
                        prop_assert!(tab.get(target).is_some_and(|e| e.state == AddrState::Tentative));
                    }
                }
                out.clear();
                prop_assert!(tab.iter().count() <= max);
                let mut seen: Vec<Ipv6Addr> = tab.iter().map(|e| e.addr).collect();
                seen.sort();
                seen.dedup();
                prop_assert_eq!(seen.len(), tab.iter().count(), "an address twice");
                for e in tab.iter() {
                    prop_assert!(e.preferred_until <= e.valid_until);
                    if e.state == AddrState::Duplicate {
                        prop_assert!(!tab.is_assigned(&e.addr));
                    }
                }
            }
        }
    }
}
