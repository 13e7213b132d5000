//! What every header view shares with the protocol table (`proto.rs`): the protocol it
//! decodes, its short name and title, every field key it can report, and how it is kept in a
//! [`crate::Dissection`]'s compact slot (its bytes, one small value, GRE's header length).
//! Each view implements it beside its own code, so a new decoder is its file, one row in
//! the table and its step in `dissect_into`.

use crate::Proto;
use crate::field::Fields;

/// A header view over borrowed bytes (smoltcp style).
pub trait View<'a>: Fields<'a> + Copy {
    /// The protocol this view decodes.
    const PROTO: Proto;
    /// Short name in the protocols-in-frame chain (`eth`, `ip`, `gre`).
    const NAME: &'static str;
    /// Title in the verbose tree.
    const TITLE: &'static str;
    /// Every field key `visit` can report (`-V`, `--json`, filters); the filter refuses any
    /// other name. Kept with docs/dissect-json.md's table (a test checks every key seen).
    const FIELDS: &'static [&'static str];
    /// The header's bytes in the frame.
    fn bytes(&self) -> &'a [u8];
    /// What the slot keeps besides the bytes: one small value and a header length.
    fn extra(&self) -> (u8, u16) {
        (0, 0)
    }
    /// The view rebuilt from a slot, or over the bytes of a header the capture cut short.
    fn from_slot(buf: &'a [u8], aux: u8, hlen: u16) -> Self;
}

/// What a view's checked constructor (`parse`) found in the bytes at hand.
#[derive(Clone, Copy, Debug)]
pub enum Checked<'a, V> {
    /// A whole header, and the bytes after it.
    Whole(V, &'a [u8]),
    /// The bytes end inside the header (a snap length cut it): only a partial layer.
    Cut,
    /// An invalid header: the view over its fixed part, the bytes after that, and why.
    Invalid(V, &'a [u8], &'static str),
}

impl<'a, V> Checked<'a, V> {
    /// A header of fixed length `len` at the start of `b`, viewed by `view`.
    #[inline(always)]
    pub(crate) fn fixed(b: &'a [u8], len: usize, view: impl FnOnce(&'a [u8]) -> V) -> Self {
        match b.split_at_checked(len) {
            Some((head, rest)) => Checked::Whole(view(head), rest),
            None => Checked::Cut,
        }
    }
}
