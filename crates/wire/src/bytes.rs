//! Bounds-checked big-endian reads. Callers check lengths once; these still never panic,
//! returning 0 past the end, because a view over a padded partial header relies on it.

#[inline(always)]
pub(crate) fn u8_at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}
#[inline(always)]
pub(crate) fn u16_at(b: &[u8], i: usize) -> u16 {
    match b.get(i..i + 2) {
        Some(s) => u16::from_be_bytes([s[0], s[1]]),
        None => 0,
    }
}
#[inline(always)]
pub(crate) fn u32_at(b: &[u8], i: usize) -> u32 {
    match b.get(i..i + 4) {
        Some(s) => u32::from_be_bytes([s[0], s[1], s[2], s[3]]),
        None => 0,
    }
}
#[inline(always)]
pub(crate) fn arr<const N: usize>(b: &[u8], i: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(i..i + N) {
        out.copy_from_slice(s);
    }
    out
}
#[inline(always)]
pub(crate) fn sub(b: &[u8], from: usize, to: usize) -> &[u8] {
    b.get(from..to.min(b.len())).unwrap_or(&[])
}
