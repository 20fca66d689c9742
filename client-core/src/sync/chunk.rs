//! What a change chunk will cost to read, found before Automerge reads it.
//!
//! Automerge stores a change's ops in run-length-encoded columns, so a chunk of a
//! hundred bytes can describe billions of ops, each with a list of billions of
//! predecessors, and Automerge walks every one of them while parsing (and allocates
//! for the predecessor lists and repeated key strings). Compressed change chunks are
//! inflated by Automerge with no limit at all. So before a received chunk reaches
//! `Change::try_from`, this module reads its header and sums the runs of the columns
//! that drive that work, against a `ChangeBudget` shared by the whole message:
//!
//! - the action column: how many ops there are;
//! - the predecessor-count column: how many predecessor ids they list in all;
//! - every string column (map keys, mark names): the bytes their runs repeat.
//!
//! It reads the chunk format of Automerge's binary format specification (chunk header,
//! change header, column metadata, RLE columns) and nothing else. A change it cannot
//! read is refused: what it cannot price, Automerge may not parse. Compressed chunks are
//! refused outright: no Từng Nhà client sends them (changes travel raw inside the
//! deflated envelope).

/// How much work the changes of one message may ask for, in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeBudget {
    /// Ops, over every change.
    pub ops: u64,
    /// Predecessor ids listed by those ops.
    pub preds: u64,
    /// Bytes of map keys and mark names, counting each repetition of a run.
    pub key_bytes: u64,
}

impl ChangeBudget {
    /// What one device may send in one request. A busy day offline is a few hundred
    /// visits of about a dozen ops each; this is forty times that.
    pub fn request() -> ChangeBudget {
        ChangeBudget { ops: 200_000, preds: 400_000, key_bytes: 8 << 20 }
    }
    /// What one answer from the server may carry to a device: a hamlet's worth of
    /// changes from every teammate (a device that holds nothing gets a snapshot).
    pub fn reply() -> ChangeBudget {
        ChangeBudget { ops: 4_000_000, preds: 8_000_000, key_bytes: 128 << 20 }
    }

    fn spend(&mut self, cost: &ChunkCost) -> Result<(), ChunkRefusal> {
        let take = |left: &mut u64, n: u64, what: &'static str| {
            *left = left.checked_sub(n).ok_or(ChunkRefusal::OverBudget(what))?;
            Ok(())
        };
        take(&mut self.ops, cost.ops, "too many operations")?;
        take(&mut self.preds, cost.preds, "too many predecessor references")?;
        take(&mut self.key_bytes, cost.key_bytes, "too many bytes of keys")
    }
}

/// Why a chunk was refused before Automerge read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkRefusal {
    /// The message as a whole asks for more than its budget allows.
    #[error("the changes ask for too much work: {0}")]
    OverBudget(&'static str),
    /// A compressed change chunk (Automerge would inflate it without a limit).
    #[error("compressed change chunks are not accepted; send changes uncompressed")]
    Compressed,
    /// Not a change chunk (a whole document, or an unknown chunk type).
    #[error("this is not a change")]
    NotAChange,
    /// A change chunk whose header or columns do not read.
    #[error("the change is damaged: its header or columns do not read")]
    Unreadable,
}

/// The work one chunk asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ChunkCost {
    ops: u64,
    preds: u64,
    key_bytes: u64,
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;
/// Column ids and types of Automerge's change columns.
const COL_ACTION: u32 = 4;
const COL_PRED: u32 = 7;
const TYPE_GROUP: u32 = 0;
const TYPE_ACTOR: u32 = 1;
const TYPE_DELTA: u32 = 3;
const TYPE_INTEGER: u32 = 2;
const TYPE_STRING: u32 = 5;

/// Charges the work `raw` asks for against `budget`, or refuses it.
pub fn charge(raw: &[u8], budget: &mut ChangeBudget) -> Result<(), ChunkRefusal> {
    match raw.get(..9) {
        Some(head) if head[..4] == MAGIC => match head[8] {
            CHUNK_CHANGE => {}
            CHUNK_COMPRESSED => return Err(ChunkRefusal::Compressed),
            _ => return Err(ChunkRefusal::NotAChange),
        },
        _ => return Err(ChunkRefusal::NotAChange),
    }
    budget.spend(&cost(&raw[9..]).ok_or(ChunkRefusal::Unreadable)?)
}

/// Reads the change header and sums the runs of the costly columns; `None` where the
/// bytes are not a well-formed change.
fn cost(after_type: &[u8]) -> Option<ChunkCost> {
    let mut r = Bytes(after_type);
    let len = usize::try_from(r.uleb()?).ok()?;
    let mut r = Bytes(r.take(len)?);
    let deps = r.uleb()?;
    for _ in 0..deps {
        r.take(32)?;
    }
    r.bytes()?; // actor
    r.uleb()?; // seq
    r.uleb()?; // start op
    r.sleb()?; // time
    r.bytes()?; // message
    let others = r.uleb()?;
    for _ in 0..others {
        r.bytes()?;
    }
    // Ops name actors by their index in the change's table (itself, then the others);
    // Automerge indexes it without checking, so an index past its end is refused here.
    let actors = others.checked_add(1)?;
    // A change has eleven kinds of column; a few more leave room for newer ones.
    let columns = r.uleb()?;
    if columns > 32 {
        return None;
    }
    let mut specs = Vec::new();
    for _ in 0..columns {
        let spec = u32::try_from(r.uleb()?).ok()?;
        let len = usize::try_from(r.uleb()?).ok()?;
        specs.push((spec, len));
    }
    let mut cost = ChunkCost::default();
    for (spec, len) in specs {
        let data = r.take(len)?;
        let (id, kind) = (spec >> 4, spec & 0b111);
        match (id, kind) {
            (COL_ACTION, TYPE_INTEGER) => cost.ops = rle_uint_runs(data, |n, _| n)?,
            (COL_PRED, TYPE_GROUP) => cost.preds = rle_uint_runs(data, u64::saturating_mul)?,
            (_, TYPE_STRING) => cost.key_bytes = cost.key_bytes.saturating_add(rle_string_bytes(data)?),
            (_, TYPE_ACTOR) if rle_uint_max(data)?.is_some_and(|max| max >= actors) => return None,
            // Op counters are 32-bit inside Automerge, which unwraps the conversion.
            (_, TYPE_INTEGER) if rle_uint_max(data)?.is_some_and(|max| max > u64::from(u32::MAX)) => {
                return None;
            }
            (_, TYPE_DELTA) if !rle_delta_fits(data)? => return None,
            _ => {}
        }
    }
    Some(cost)
}

/// Sums `weigh(run length, value)` over an RLE column of unsigned integers.
fn rle_uint_runs(data: &[u8], weigh: impl Fn(u64, u64) -> u64) -> Option<u64> {
    let mut r = Bytes(data);
    let mut total: u64 = 0;
    while !r.0.is_empty() {
        let count = r.sleb()?;
        let add = if count > 0 {
            weigh(count.unsigned_abs(), r.uleb()?)
        } else if count < 0 {
            let mut sum: u64 = 0;
            for _ in 0..count.unsigned_abs() {
                sum = sum.saturating_add(weigh(1, r.uleb()?));
            }
            sum
        } else {
            r.uleb()? // a run of nulls
        };
        total = total.saturating_add(add);
    }
    Some(total)
}

/// The largest value in an RLE column of unsigned integers, if it holds any.
fn rle_uint_max(data: &[u8]) -> Option<Option<u64>> {
    let mut r = Bytes(data);
    let mut max = None;
    while !r.0.is_empty() {
        let count = r.sleb()?;
        let values = if count > 0 {
            1
        } else if count < 0 {
            count.unsigned_abs()
        } else {
            r.uleb()?; // a run of nulls
            0
        };
        for _ in 0..values {
            let v = r.uleb()?;
            max = Some(max.map_or(v, |m: u64| m.max(v)));
        }
    }
    Some(max)
}

/// Whether every running total of an RLE column of signed deltas stays within a
/// 32-bit counter.
fn rle_delta_fits(data: &[u8]) -> Option<bool> {
    let mut r = Bytes(data);
    let mut at: i128 = 0;
    let fits = |v: i128| (0..=i128::from(u32::MAX)).contains(&v);
    while !r.0.is_empty() {
        let count = r.sleb()?;
        if count > 0 {
            let delta = i128::from(r.sleb()?);
            // A run moves the total in one direction: its ends bound it.
            let first = at + delta;
            at += delta * i128::from(count);
            if !fits(first) || !fits(at) {
                return Some(false);
            }
        } else if count < 0 {
            for _ in 0..count.unsigned_abs() {
                at += i128::from(r.sleb()?);
                if !fits(at) {
                    return Some(false);
                }
            }
        } else {
            r.uleb()?; // a run of nulls
        }
    }
    Some(true)
}

/// Sums the bytes an RLE column of strings expands to.
fn rle_string_bytes(data: &[u8]) -> Option<u64> {
    let mut r = Bytes(data);
    let mut total: u64 = 0;
    while !r.0.is_empty() {
        let count = r.sleb()?;
        let add = if count > 0 {
            count.unsigned_abs().saturating_mul(r.bytes()?.len() as u64)
        } else if count < 0 {
            let mut sum: u64 = 0;
            for _ in 0..count.unsigned_abs() {
                sum = sum.saturating_add(r.bytes()?.len() as u64);
            }
            sum
        } else {
            r.uleb()?;
            0
        };
        total = total.saturating_add(add);
    }
    Some(total)
}

/// A cursor over bytes, reading LEB128 numbers as Automerge writes them.
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn uleb(&mut self) -> Option<u64> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    fn sleb(&mut self) -> Option<i64> {
        let mut v: i64 = 0;
        let mut shift = 0;
        loop {
            let b = self.byte()?;
            if shift < 64 {
                v |= i64::from(b & 0x7f) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
            if shift >= 70 {
                return None;
            }
        }
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.uleb()?).ok()?;
        self.take(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::leb::{write_sleb, write_uleb};
    use automerge::transaction::Transactable;
    use automerge::{Automerge, ObjType, ROOT};

    fn change_with_puts(n: usize) -> Vec<u8> {
        let mut doc = Automerge::new();
        let mut tx = doc.transaction();
        let m = tx.put_object(ROOT, "m", ObjType::Map).expect("fresh doc");
        for i in 0..n {
            tx.put(&m, format!("k{i}"), i as i64).expect("fresh doc");
        }
        tx.commit();
        doc.get_last_local_change().expect("one change").raw_bytes().to_vec()
    }

    #[test]
    fn an_honest_change_costs_what_it_holds() {
        let raw = change_with_puts(10);
        let mut budget = ChangeBudget::request();
        charge(&raw, &mut budget).expect("within budget");
        assert_eq!(ChangeBudget::request().ops - budget.ops, 11);
        assert!(ChangeBudget::request().key_bytes - budget.key_bytes >= 20);
    }

    #[test]
    fn the_budget_is_shared_by_the_whole_message() {
        let raw = change_with_puts(10);
        let mut budget = ChangeBudget { ops: 25, ..ChangeBudget::request() };
        charge(&raw, &mut budget).expect("first fits");
        charge(&raw, &mut budget).expect("second fits");
        assert_eq!(charge(&raw, &mut budget), Err(ChunkRefusal::OverBudget("too many operations")));
    }

    /// A change chunk of one actor whose ops are described by `columns` alone.
    fn crafted(columns: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut body = vec![0u8, 16];
        body.extend_from_slice(&[7u8; 16]);
        body.extend_from_slice(&[1, 1, 0, 0, 0]); // seq, start op, time, message, others
        write_uleb(&mut body, columns.len() as u64);
        for (spec, data) in columns {
            write_uleb(&mut body, u64::from(*spec));
            write_uleb(&mut body, data.len() as u64);
        }
        for (_, data) in columns {
            body.extend_from_slice(data);
        }
        let mut chunk = MAGIC.to_vec();
        chunk.extend_from_slice(&[0, 0, 0, 0, CHUNK_CHANGE]);
        write_uleb(&mut chunk, body.len() as u64);
        chunk.extend_from_slice(&body);
        chunk
    }

    #[test]
    fn a_run_of_a_trillion_ops_is_refused_before_automerge_walks_it() {
        let mut actions = Vec::new();
        write_sleb(&mut actions, 1 << 40);
        write_uleb(&mut actions, 3);
        let chunk = crafted(&[((COL_ACTION << 4) | TYPE_INTEGER, actions)]);
        assert!(chunk.len() < 64);
        let mut budget = ChangeBudget::reply();
        assert_eq!(charge(&chunk, &mut budget), Err(ChunkRefusal::OverBudget("too many operations")));
    }

    #[test]
    fn one_op_with_a_trillion_predecessors_is_refused() {
        let mut actions = Vec::new();
        write_sleb(&mut actions, 1);
        write_uleb(&mut actions, 3);
        let mut preds = Vec::new();
        write_sleb(&mut preds, 1);
        write_uleb(&mut preds, 1 << 40);
        let chunk =
            crafted(&[((COL_ACTION << 4) | TYPE_INTEGER, actions), ((COL_PRED << 4) | TYPE_GROUP, preds)]);
        let mut budget = ChangeBudget::request();
        assert_eq!(
            charge(&chunk, &mut budget),
            Err(ChunkRefusal::OverBudget("too many predecessor references"))
        );
    }

    #[test]
    fn a_key_repeated_a_million_times_is_refused() {
        let mut keys = Vec::new();
        write_sleb(&mut keys, 1_000_000);
        write_uleb(&mut keys, 100);
        keys.extend_from_slice(&[b'k'; 100]);
        let chunk = crafted(&[((1 << 4) | TYPE_STRING, keys)]);
        let mut budget = ChangeBudget::request();
        assert_eq!(charge(&chunk, &mut budget), Err(ChunkRefusal::OverBudget("too many bytes of keys")));
    }

    #[test]
    fn compressed_chunks_and_documents_are_refused() {
        let mut chunk = change_with_puts(3);
        chunk[8] = CHUNK_COMPRESSED;
        assert_eq!(charge(&chunk, &mut ChangeBudget::request()), Err(ChunkRefusal::Compressed));
        chunk[8] = 0;
        assert_eq!(charge(&chunk, &mut ChangeBudget::request()), Err(ChunkRefusal::NotAChange));
        assert_eq!(charge(b"not a change", &mut ChangeBudget::request()), Err(ChunkRefusal::NotAChange));
    }

    #[test]
    fn a_change_the_scan_cannot_price_is_refused() {
        let mut chunk = change_with_puts(3);
        chunk.truncate(chunk.len() - 5);
        assert_eq!(charge(&chunk, &mut ChangeBudget::request()), Err(ChunkRefusal::Unreadable));
        // More columns than a change has: the scan would not price them all.
        let many: Vec<(u32, Vec<u8>)> = (0..33).map(|i| ((100 + i) << 4, Vec::new())).collect();
        assert_eq!(charge(&crafted(&many), &mut ChangeBudget::request()), Err(ChunkRefusal::Unreadable));
    }

    #[test]
    fn leb_numbers_read_as_automerge_writes_them() {
        for v in [0i64, 1, -1, 63, 64, -64, -65, 1 << 40, -(1 << 40), i64::MAX, i64::MIN] {
            let mut buf = Vec::new();
            write_sleb(&mut buf, v);
            assert_eq!(Bytes(&buf).sleb(), Some(v), "{v}");
        }
    }
}
