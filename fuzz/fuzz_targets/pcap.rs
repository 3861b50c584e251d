//! The capture file reader on arbitrary files: errors, never panics or huge allocations.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sixstack_wire::pcap::Reader;

fuzz_target!(|data: &[u8]| {
    let Ok(mut r) = Reader::new(data) else { return };
    for _ in 0..10_000 {
        match r.next() {
            Ok(Some(rec)) => assert!(rec.data.len() <= data.len()),
            _ => break,
        }
    }
});
