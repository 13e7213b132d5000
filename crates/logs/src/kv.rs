//! `key=value key="quoted value"` pairs (FortiGate, SonicWall, Junos structured data).
//! Values borrow the line; quotes are removed, escapes inside them are left as written.

pub(crate) struct Pairs<'a> {
    rest: &'a str,
}

pub(crate) fn pairs(s: &str) -> Pairs<'_> {
    Pairs { rest: s }
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = self.rest.trim_start_matches([' ', '\t', '[', ']']);
            if s.is_empty() {
                self.rest = s;
                return None;
            }
            let word_end = s.find([' ', '\t']).unwrap_or(s.len());
            let Some(eq) = s[..word_end].find('=') else {
                // A word without '=' (Junos's "junos@2636.1.1.1.2.39"): skip it.
                self.rest = &s[word_end..];
                continue;
            };
            let key = &s[..eq];
            let after = &s[eq + 1..];
            if let Some(q) = after.strip_prefix('"') {
                let b = q.as_bytes();
                let mut i = 0;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = i.min(q.len());
                self.rest = q.get(end + 1..).unwrap_or("");
                return Some((key, &q[..end]));
            }
            let end = after.find([' ', '\t']).unwrap_or(after.len());
            self.rest = &after[end..];
            return Some((key, after[..end].trim_end_matches(']')));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_plain() {
        let v: Vec<_> =
            pairs(r#"date=2019-05-10 devname="FG 1" srcip=10.1.100.11 msg="a \"b\" c" x"#)
                .collect();
        assert_eq!(
            v,
            vec![
                ("date", "2019-05-10"),
                ("devname", "FG 1"),
                ("srcip", "10.1.100.11"),
                ("msg", r#"a \"b\" c"#)
            ]
        );
        assert_eq!(pairs("[junos@2636 a=\"1\" b=\"2\"]").count(), 2);
        assert_eq!(
            pairs("k=\"unterminated").next(),
            Some(("k", "unterminated"))
        );
    }
}
