//! String building without `core::fmt`.
//!
//! The wasm build must not link Rust's formatting machinery (integer and float `Display`,
//! `Formatter` padding, trait-object dispatch): it is most of what a naive build weighs.
//! Messages and frames are therefore assembled from pieces with these helpers; numbers
//! are whole and written digit by digit.

use alloc::string::String;

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// `s` split around the first `byte` (ASCII), like `split_once` with a `char` pattern
/// but with no char searcher and no slice that can panic (either links `core::fmt`).
pub fn split_once_byte(s: &str, byte: u8) -> Option<(&str, &str)> {
    let at = s.bytes().position(|b| b == byte)?;
    Some((s.get(..at)?, s.get(at + 1..)?))
}

/// The pieces, joined.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.push_str(p);
    }
    out
}

/// `before`, the decimal digits of `n`, then `after`.
pub fn with_number(before: &str, n: u64, after: &str) -> String {
    let mut out = String::with_capacity(before.len() + 20 + after.len());
    out.push_str(before);
    push_u64(&mut out, n);
    out.push_str(after);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn digits_match_display() {
        for n in [0, 7, 10, 99, 100, 12345, u64::from(u32::MAX), u64::MAX] {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        assert_eq!(with_number("request ", 42, " timed out"), "request 42 timed out");
        assert_eq!(concat(&["a", "", "bc"]), "abc");
        assert_eq!(split_once_byte("a?b?c", b'?'), Some(("a", "b?c")));
        assert_eq!(split_once_byte("é/", b'/'), Some(("é", "")));
        assert_eq!(split_once_byte("abc", b'?'), None);
    }
}
