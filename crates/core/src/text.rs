//! Sentences for skips, warnings and errors: a template whose `{}` are
//! filled piece by piece into one `String`. Not `format!`: it would keep
//! `core::fmt` (its `write`, padding and integer formatting) in the browser
//! build. A template rather than a list of pieces keeps each call small: its
//! text is one constant, only the pieces that vary are built.

use crate::value::Value;

/// What fills a `{}` of a template.
pub enum Piece<'a> {
    /// Text as it is.
    Text(&'a str),
    /// A string in double quotes, escaped as `{:?}` escapes it (see [`push_quoted`]).
    Quoted(&'a str),
    /// A whole number in decimal.
    Int(i64),
    /// A value as warnings show it: a string quoted, a number written, any
    /// other value by the name of its type.
    Described(&'a Value),
}

/// `template` with each `{}` replaced by the next of `pieces`. No other
/// brace is special: `{"id": 123}` is written as it is.
pub fn sentence(template: &str, pieces: &[Piece<'_>]) -> String {
    // What `format!` checks at compile time, checked where every test runs:
    // one piece per `{}`.
    debug_assert_eq!(template.matches("{}").count(), pieces.len(), "pieces for {template:?}");
    let mut out = String::with_capacity(template.len() + 32);
    let mut pieces = pieces.iter();
    let mut rest = template;
    // `{}` is ASCII: splitting at it always falls on character boundaries.
    while let Some(at) = rest.as_bytes().windows(2).position(|pair| pair == b"{}") {
        out.push_str(&rest[..at]);
        rest = &rest[at + 2..];
        let Some(piece) = pieces.next() else { continue };
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Quoted(text) => push_quoted(&mut out, text),
            Piece::Int(n) => push_int(&mut out, *n),
            Piece::Described(Value::String(s)) => push_quoted(&mut out, s),
            Piece::Described(Value::Number(n)) => n.push_to(&mut out),
            Piece::Described(other) => out.push_str(other.type_name()),
        }
    }
    out.push_str(rest);
    out
}

/// `n` in decimal, as `{}` writes it.
pub fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_digits(out, n.unsigned_abs(), 10);
}

/// `n` in `base` (10 or 16, lowercase), most significant digit first.
fn push_digits(out: &mut String, mut n: u64, base: u64) {
    // u64::MAX has 20 decimal digits.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b"0123456789abcdef"[(n % base) as usize];
        n /= base;
        if n == 0 {
            break;
        }
    }
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// `text` in double quotes, with quotes, backslashes and control characters
/// escaped the way `{:?}` does. Not `{:?}` itself: its Unicode printability
/// tables would weigh on the browser's wasm. The one difference: characters
/// `{:?}` escapes that are not control characters (U+200B, unassigned code
/// points, …) are written as they are.
pub(crate) fn push_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                out.push_str("\\u{");
                push_digits(out, u64::from(c), 16);
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_as_debug_does() {
        for s in ["Order \"Completed\"", "a\\b", "tab\there\nnew\r\0", "\u{1b}[0m\u{7f}\u{9f}", "naïve — 'ok' 日本"] {
            assert_eq!(sentence("{}", &[Piece::Quoted(s)]), format!("{s:?}"));
        }
    }

    #[test]
    fn integers_are_written_as_display_writes_them() {
        for n in [0, 7, 10, 60, 12345, -1, -908, i64::MAX, i64::MIN] {
            assert_eq!(sentence("{}", &[Piece::Int(n)]), n.to_string());
        }
    }

    #[test]
    fn values_are_described_by_content_or_type() {
        let pieces = [Piece::Described(&Value::from("x\"y")), Piece::Described(&Value::from(-42)), Piece::Described(&Value::Bool(true))];
        assert_eq!(sentence("got {}, {}, {} {x}", &pieces), r#"got "x\"y", -42, a boolean {x}"#);
    }
}
