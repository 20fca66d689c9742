//! LEB128 numbers as Automerge and the sync envelope write them: unsigned for lengths
//! and counts, signed for Automerge's run lengths and deltas. Shared by the envelope
//! encoder, the tests that craft change chunks by hand, and the attack payloads of
//! `tungnha-hostile`.

/// Appends `v` as unsigned LEB128.
pub fn write_uleb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Appends `v` as signed LEB128.
pub fn write_sleb(out: &mut Vec<u8>, mut v: i64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        let last = (v == 0 && byte & 0x40 == 0) || (v == -1 && byte & 0x40 != 0);
        out.push(if last { byte } else { byte | 0x80 });
        if last {
            return;
        }
    }
}
