//! A small filter language over decoded fields (documented in docs/filter.md).
//!
//! ```text
//! gre and inner.udp.dport == 32698
//! outer.ip.src == 31.168.0.0/16 and not gre.k
//! tcp.syn and !tcp.ack_flag or icmp.type == 3
//! ```
//! A term is `[outer.|inner.|quoted.]proto[.field] [op value]`. Without a selector the term
//! holds when any layer of that protocol satisfies it; `outer` picks the first such layer,
//! `inner` the last one outside an ICMP quote, `quoted` one inside the quote. A bare
//! `proto` tests presence; a bare `proto.field` tests that the field exists and is non-zero.
//! Pseudo-fields: `ip.addr`/`ipv6.addr` (src or dst), `tcp.port`/`udp.port` (either port).
//! Values: integers (decimal or 0x hex), IPv4/IPv6 addresses, CIDR prefixes, names
//! (`gre.proto_name == erspan`) and quoted strings.

use std::net::IpAddr;

use crate::field::Value;
use crate::{Dissection, Layer, Proto};

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Term(Term),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selector {
    Any,
    Outer,
    Inner,
    Quoted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Int(u64),
    Addr(IpAddr),
    Prefix(IpAddr, u8),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    pub selector: Selector,
    pub proto: Proto,
    pub field: Option<String>,
    pub cmp: Option<(Op, Literal)>,
}

/// A parse error with the byte position in the filter text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub pos: usize,
    pub message: String,
}
impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "filter error at character {}: {}",
            self.pos + 1,
            self.message
        )
    }
}
impl std::error::Error for FilterError {}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(Op),
    And,
    Or,
    Not,
    LParen,
    RParen,
}

fn lex(s: &str) -> Result<Vec<(usize, Tok)>, FilterError> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' => i += 1,
            b'(' => {
                out.push((i, Tok::LParen));
                i += 1
            }
            b')' => {
                out.push((i, Tok::RParen));
                i += 1
            }
            b'&' if b.get(i + 1) == Some(&b'&') => {
                out.push((i, Tok::And));
                i += 2
            }
            b'|' if b.get(i + 1) == Some(&b'|') => {
                out.push((i, Tok::Or));
                i += 2
            }
            b'=' if b.get(i + 1) == Some(&b'=') => {
                out.push((i, Tok::Op(Op::Eq)));
                i += 2
            }
            b'!' if b.get(i + 1) == Some(&b'=') => {
                out.push((i, Tok::Op(Op::Ne)));
                i += 2
            }
            b'!' => {
                out.push((i, Tok::Not));
                i += 1
            }
            b'<' | b'>' => {
                let eq = b.get(i + 1) == Some(&b'=');
                let op = match (c, eq) {
                    (b'<', false) => Op::Lt,
                    (b'<', true) => Op::Le,
                    (_, false) => Op::Gt,
                    (_, true) => Op::Ge,
                };
                out.push((i, Tok::Op(op)));
                i += 1 + eq as usize;
            }
            b'"' => {
                i += 1;
                let from = i;
                while i < b.len() && b[i] != b'"' {
                    i += 1;
                }
                if i >= b.len() {
                    return Err(FilterError {
                        pos: start,
                        message: "unterminated string".into(),
                    });
                }
                out.push((start, Tok::Str(s[from..i].to_string())));
                i += 1;
            }
            c if c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b':' | b'/' | b'-') => {
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || matches!(b[i], b'_' | b'.' | b':' | b'/' | b'-'))
                {
                    i += 1;
                }
                let w = &s[start..i];
                out.push((
                    start,
                    match w {
                        "and" => Tok::And,
                        "or" => Tok::Or,
                        "not" => Tok::Not,
                        "eq" => Tok::Op(Op::Eq),
                        "ne" => Tok::Op(Op::Ne),
                        "lt" => Tok::Op(Op::Lt),
                        "le" => Tok::Op(Op::Le),
                        "gt" => Tok::Op(Op::Gt),
                        "ge" => Tok::Op(Op::Ge),
                        _ => Tok::Word(w.to_string()),
                    },
                ));
            }
            _ => {
                return Err(FilterError {
                    pos: i,
                    message: format!(
                        "unexpected character '{}'",
                        s[i..].chars().next().unwrap_or('?')
                    ),
                });
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }
    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }
    fn err<T>(&self, m: impl Into<String>) -> Result<T, FilterError> {
        Err(FilterError {
            pos: self.at(),
            message: m.into(),
        })
    }
    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut l = self.and()?;
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let r = self.and()?;
            l = Expr::Or(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut l = self.not()?;
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            let r = self.not()?;
            l = Expr::And(Box::new(l), Box::new(r));
        }
        Ok(l)
    }
    fn not(&mut self) -> Result<Expr, FilterError> {
        if self.peek() == Some(&Tok::Not) {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.not()?)));
        }
        self.primary()
    }
    fn primary(&mut self) -> Result<Expr, FilterError> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                if self.peek() != Some(&Tok::RParen) {
                    return self.err("expected ')'");
                }
                self.pos += 1;
                Ok(e)
            }
            Some(Tok::Word(w)) => {
                let term_pos = self.at();
                self.pos += 1;
                let mut term = parse_path(&w).map_err(|m| FilterError {
                    pos: term_pos,
                    message: m,
                })?;
                if let Some(Tok::Op(op)) = self.peek().cloned() {
                    self.pos += 1;
                    let lit = match self.peek().cloned() {
                        Some(Tok::Word(v)) => parse_literal(&v),
                        Some(Tok::Str(v)) => Literal::Text(v),
                        _ => return self.err("expected a value after the comparison"),
                    };
                    self.pos += 1;
                    if term.field.is_none() {
                        return Err(FilterError {
                            pos: term_pos,
                            message: format!(
                                "'{w}' names a protocol; compare one of its fields, e.g. '{w}.len'"
                            ),
                        });
                    }
                    term.cmp = Some((op, lit));
                }
                Ok(Expr::Term(term))
            }
            Some(t) => self.err(format!("unexpected {t:?}")),
            None => self.err("unexpected end of filter"),
        }
    }
}

fn parse_path(w: &str) -> Result<Term, String> {
    let mut parts = w.split('.');
    let mut first = parts.next().unwrap_or("");
    let selector = match first {
        "outer" => Selector::Outer,
        "inner" => Selector::Inner,
        "quoted" => Selector::Quoted,
        _ => Selector::Any,
    };
    if selector != Selector::Any {
        first = parts
            .next()
            .ok_or_else(|| format!("'{w}': a protocol must follow the selector"))?;
    }
    let proto = Proto::from_name(first).ok_or_else(|| {
        let names: Vec<&str> = Proto::ALL.iter().map(|p| p.name()).collect();
        format!("unknown protocol '{first}' (known: {})", names.join(", "))
    })?;
    let rest: Vec<&str> = parts.collect();
    let field = if rest.is_empty() {
        None
    } else {
        Some(rest.join("."))
    };
    // An unknown field would silently match nothing (a typo reads as "0 matched").
    if let Some(f) = &field {
        let pseudo: &[&str] = match proto {
            Proto::Ip | Proto::Ipv6 => &["addr"],
            Proto::Tcp | Proto::Udp | Proto::Sctp => &["port"],
            _ => &[],
        };
        if !proto.fields().contains(&f.as_str()) && !pseudo.contains(&f.as_str()) {
            let mut known: Vec<&str> = proto.fields().to_vec();
            known.extend_from_slice(pseudo);
            return Err(format!(
                "unknown field '{f}' of {} (its fields: {})",
                proto.name(),
                known.join(", ")
            ));
        }
    }
    Ok(Term {
        selector,
        proto,
        field,
        cmp: None,
    })
}

fn parse_literal(v: &str) -> Literal {
    if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"))
        && let Ok(n) = u64::from_str_radix(h, 16)
    {
        return Literal::Int(n);
    }
    if let Ok(n) = v.parse::<u64>() {
        return Literal::Int(n);
    }
    if let Ok(a) = v.parse::<IpAddr>() {
        return Literal::Addr(a);
    }
    if v.contains('/')
        && let Ok((a, l)) = crate::prefix::parse(v)
    {
        return Literal::Prefix(a, l);
    }
    Literal::Text(v.to_string())
}

/// Parses a filter expression.
pub fn parse(s: &str) -> Result<Expr, FilterError> {
    let toks = lex(s)?;
    if toks.is_empty() {
        return Err(FilterError {
            pos: 0,
            message: "empty filter".into(),
        });
    }
    let mut p = Parser {
        toks,
        pos: 0,
        end: s.len(),
    };
    let e = p.or()?;
    if p.pos != p.toks.len() {
        return p.err("expected 'and', 'or' or the end of the filter");
    }
    Ok(e)
}

impl Expr {
    pub fn matches(&self, d: &Dissection) -> bool {
        match self {
            Expr::And(a, b) => a.matches(d) && b.matches(d),
            Expr::Or(a, b) => a.matches(d) || b.matches(d),
            Expr::Not(a) => !a.matches(d),
            Expr::Term(t) => t.matches(d),
        }
    }
}

fn compare(v: &Value, op: Op, lit: &Literal) -> bool {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (v, lit) {
        (Value::U(n) | Value::Hex(n, _), Literal::Int(m)) => Some(n.cmp(m)),
        (Value::Bool(b), Literal::Int(m)) => Some((*b as u64).cmp(m)),
        (Value::V4(a), Literal::Addr(IpAddr::V4(b))) => Some(a.cmp(&b.octets())),
        (Value::V6(a), Literal::Addr(IpAddr::V6(b))) => Some(a.cmp(&b.octets())),
        (Value::V4(a), Literal::Prefix(n, l)) => {
            let inside = crate::prefix::contains(*n, *l, IpAddr::from(*a));
            return match op {
                Op::Eq => inside,
                Op::Ne => !inside,
                _ => false,
            };
        }
        (Value::V6(a), Literal::Prefix(n, l)) => {
            let inside = crate::prefix::contains(*n, *l, IpAddr::from(*a));
            return match op {
                Op::Eq => inside,
                Op::Ne => !inside,
                _ => false,
            };
        }
        (Value::Name(s), Literal::Text(t)) => Some(s.cmp(&t.as_str())),
        (Value::Text(s), Literal::Text(t)) => Some((*s).cmp(t.as_bytes())),
        _ => None,
    };
    match ord {
        Some(o) => match op {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
        },
        // Values of different kinds are never equal.
        None => op == Op::Ne,
    }
}

impl Term {
    fn layer_matches(&self, l: &Layer) -> bool {
        let Some(field) = &self.field else {
            return true;
        };
        // Pseudo-fields that look at either direction.
        let keys: &[&str] = match field.as_str() {
            "addr" => &["src", "dst"],
            "port" => &["sport", "dport"],
            f => return self.key_matches(l, f),
        };
        keys.iter().any(|k| self.key_matches(l, k))
    }
    fn key_matches(&self, l: &Layer, key: &str) -> bool {
        let mut hit = false;
        l.visit(&mut |f| {
            if hit || f.key != key {
                return;
            }
            hit = match &self.cmp {
                Some((op, lit)) => compare(&f.value, *op, lit),
                None => match f.value {
                    Value::U(n) | Value::Hex(n, _) => n != 0,
                    Value::Bool(b) => b,
                    _ => true,
                },
            };
        });
        hit
    }
    fn matches(&self, d: &Dissection) -> bool {
        let of_proto = |l: &Layer| l.proto() == self.proto;
        match self.selector {
            Selector::Any => d
                .layers()
                .iter()
                .filter(of_proto)
                .any(|l| self.layer_matches(&l)),
            Selector::Outer => d
                .layers()
                .iter()
                .find(of_proto)
                .is_some_and(|l| self.layer_matches(&l)),
            Selector::Inner => d
                .main_layers()
                .iter()
                .rev()
                .find(of_proto)
                .is_some_and(|l| self.layer_matches(&l)),
            Selector::Quoted => d
                .quoted_layers()
                .iter()
                .filter(of_proto)
                .any(|l| self.layer_matches(&l)),
        }
    }
}
