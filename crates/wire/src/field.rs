//! The one description of a decoded field that `-V`, `--json` and filters all read.
//!
//! Every layer reports its fields through [`Fields::visit`]; renderers and the filter never
//! touch header bytes themselves, so the three views of a packet cannot disagree.

/// A decoded value. Integers are kept as integers (JSON numbers); `Hex` only changes how the
/// verbose tree prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    U(u64),
    /// An integer best read in hexadecimal; the second value is the number of hex digits.
    Hex(u64, u8),
    Bool(bool),
    V4([u8; 4]),
    V6([u8; 16]),
    Mac([u8; 6]),
    /// A fixed name chosen by the decoder (e.g. `"ipv4"`, `"reg-request"`).
    Name(&'static str),
    /// Text carried in the packet (NFLOG prefix, pflog interface); may be any bytes.
    Text(&'a [u8]),
    /// Raw bytes shown as hex.
    Bytes(&'a [u8]),
}

impl Value<'_> {
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U(v) | Value::Hex(v, _) => Some(v),
            Value::Bool(b) => Some(b as u64),
            _ => None,
        }
    }
}

/// A bit-field inside a header word, so the verbose tree can draw `.1.. .... = Don't fragment: Set`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bits {
    pub word: u32,
    pub width: u8,
    pub mask: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field<'a> {
    /// Stable machine name, used in JSON and filters (`gre.key`).
    pub key: &'static str,
    /// Human label for the verbose tree.
    pub label: &'static str,
    pub value: Value<'a>,
    pub bits: Option<Bits>,
    /// Offset in the header where this field ends. A header cut short by the snap length
    /// reports only the fields that end within the captured bytes.
    pub end: usize,
}

impl<'a> Field<'a> {
    pub const fn new(key: &'static str, label: &'static str, value: Value<'a>, end: usize) -> Self {
        Field {
            key,
            label,
            value,
            bits: None,
            end,
        }
    }
    pub const fn bits(mut self, word: u32, width: u8, mask: u32) -> Self {
        self.bits = Some(Bits { word, width, mask });
        self
    }
}

/// Implemented by every header view.
pub trait Fields<'a> {
    fn visit(&self, out: &mut dyn FnMut(Field<'a>));
}

/// Shorthand used by the decoders.
pub(crate) fn u(
    key: &'static str,
    label: &'static str,
    v: impl Into<u64>,
    end: usize,
) -> Field<'static> {
    Field::new(key, label, Value::U(v.into()), end)
}
pub(crate) fn hex(
    key: &'static str,
    label: &'static str,
    v: impl Into<u64>,
    digits: u8,
    end: usize,
) -> Field<'static> {
    Field::new(key, label, Value::Hex(v.into(), digits), end)
}
pub(crate) fn flag(
    key: &'static str,
    label: &'static str,
    word: u32,
    width: u8,
    mask: u32,
    end: usize,
) -> Field<'static> {
    Field::new(key, label, Value::Bool(word & mask != 0), end).bits(word, width, mask)
}
pub(crate) fn name(
    key: &'static str,
    label: &'static str,
    v: &'static str,
    end: usize,
) -> Field<'static> {
    Field::new(key, label, Value::Name(v), end)
}
