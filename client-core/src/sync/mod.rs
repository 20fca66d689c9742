//! Sync: one batched exchange carries every document two replicas share.
//!
//! The protocol is a plan and its execution. The pure pieces here decide what to send
//! (`outgoing`, `reply_for`), check what arrived before it is applied (`decode_changes`,
//! `check_actor`), merge it on a copy and judge the result (`merge_checked`), and fold a
//! reply in (`absorb`). `Replica` strings them together for a device; the server uses
//! the pieces directly, adding its own checks. Transports (HTTP) and storage sit
//! outside and only move `Envelope` bytes.
//!
//! The exchange is asymmetric but stateless on the responder's side:
//! - the requester sends, per document, its heads and every change since the heads it
//!   knows the responder holds (its per-peer `shared` heads);
//! - the responder merges them, and answers with its heads and the changes the requester
//!   lacks, or the whole document if the requester has none of it;
//! - the requester applies the answer and records the responder's heads as shared.
//!
//! Before anything leaves a device, its run of unsent local changes is squashed into one
//! change (`squash`): nobody else has seen them, so rewriting them is safe, and one
//! change costs far fewer bytes than thirty (one header, one dependency hash, columns
//! that compress together).

/// Most exchanges one sync runs before it stops and reports: every answer carries all
/// the requester lacks, so two rounds suffice unless something was resent.
pub const MAX_ROUNDS: usize = 5;

mod chunk;
mod envelope;
pub mod leb;
mod session;
mod squash;

pub use automerge::Change;
pub use chunk::{ChangeBudget, ChunkRefusal};
pub use envelope::{
    BodyCompression, DocMessage, Envelope, EnvelopeError, KeyMessage, MAX_KEYS, MAX_REQUEST_BODY_BYTES,
    Payload,
};
pub use session::{
    Absorbed, Applied, Merged, NotApplied, PeerId, Replica, SharedHeads, SyncError, absorb_doc, check_actor,
    decode_changes, load_checked, load_checked_with, merge_checked, merge_checked_keyed,
    merge_in_place_checked, outgoing, reply_for, reply_from_kept, take_keys,
};
pub use squash::{SealReport, seal_onto};
