//! The whole dissector on arbitrary frames of every link type it knows: it must never
//! panic, and what it renders must be valid JSON-shaped text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sixstack_apps::dump::{Frame, LinkType, dissect, render_json, render_line, render_tree};

const LINKTYPES: [LinkType; 8] = [
    LinkType::ETHERNET,
    LinkType::FDDI,
    LinkType::RAW,
    LinkType::IPV6,
    LinkType::IPV4,
    LinkType::LINUX_SLL,
    LinkType::NULL,
    LinkType::LOOP,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, frame)) = data.split_first() else {
        return;
    };
    let lt = LINKTYPES[usize::from(sel) % LINKTYPES.len()];
    let (layers, malformed) = dissect(lt, frame);
    let f = Frame {
        number: 1,
        layers,
        malformed,
        ..Default::default()
    };
    let j = render_json(&f);
    assert!(j.starts_with('{') && j.ends_with('}'));
    let _ = render_line(&f);
    let _ = render_tree(&f);
});
