//! The W3C Baggage header (`baggage: name=value;property,name2=value2`):
//! parsing with limits, and encoding. Values are percent-encoded UTF-8.

use std::fmt;

use ::http::HeaderMap;

/// The name of the header.
pub const HEADER: &str = "baggage";

/// Bounds on what [`Baggage::parse`] reads and [`Baggage::to_header`]
/// writes. The defaults are the W3C limits (8192 bytes, 64 members), and
/// 256 bytes per decoded value.
///
/// ```
/// use ctx::http::{Baggage, Limits};
///
/// let limits = Limits { max_value_len: 3, ..Limits::default() };
/// let bag = Baggage::parse("a=123,b=1234", &limits).unwrap();
/// assert_eq!(bag.get("a"), Some("123"));
/// assert_eq!(bag.get("b"), None); // over the limit: dropped
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest header read or written, in bytes; a longer one is
    /// rejected whole.
    pub max_header_len: usize,
    /// The most list members read; a header with more is rejected whole.
    pub max_members: usize,
    /// The longest value, in bytes once decoded; a longer member is
    /// dropped (the others are kept).
    pub max_value_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_len: 8192,
            max_members: 64,
            max_value_len: 256,
        }
    }
}

/// Why a `baggage` header was rejected. Nothing of a rejected header is
/// used.
///
/// ```
/// use ctx::http::{Baggage, BaggageError, Limits};
///
/// let err = Baggage::parse("user", &Limits::default()).unwrap_err();
/// assert!(matches!(err, BaggageError::Malformed { member: 0, .. }));
/// assert_eq!(err.to_string(), "malformed baggage header: member 0: no `=` between name and value");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaggageError {
    /// The header is longer than [`Limits::max_header_len`].
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The header has more members than [`Limits::max_members`].
    TooManyMembers {
        /// The limit.
        max: usize,
    },
    /// A member does not follow the W3C grammar, or the header is not
    /// visible ASCII.
    Malformed {
        /// The member's position (0-based).
        member: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A name given to [`Baggage::insert`] is not an HTTP token.
    InvalidName(String),
}

impl fmt::Display for BaggageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BaggageError::TooLong { len, max } => {
                write!(f, "baggage header of {len} bytes, over the limit of {max}")
            }
            BaggageError::TooManyMembers { max } => {
                write!(f, "baggage header with more than {max} members")
            }
            BaggageError::Malformed { member, reason } => {
                write!(f, "malformed baggage header: member {member}: {reason}")
            }
            BaggageError::InvalidName(name) => {
                write!(f, "`{name}` is not a valid baggage name (an HTTP token)")
            }
        }
    }
}

impl std::error::Error for BaggageError {}

/// The members of a `baggage` header, decoded: names and values, in
/// order, each name once (the first occurrence wins). Properties are read
/// and ignored.
///
/// ```
/// use ctx::http::{Baggage, Limits};
///
/// let bag = Baggage::parse("tenant=acme, note=caf%C3%A9%2C%20ok;p=1", &Limits::default()).unwrap();
/// assert_eq!(bag.get("tenant"), Some("acme"));
/// assert_eq!(bag.get("note"), Some("café, ok"));
///
/// let mut out = Baggage::default();
/// out.insert("note", "café, ok").unwrap();
/// assert_eq!(out.to_header(&Limits::default()), "note=caf%C3%A9%2C%20ok");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baggage {
    members: Vec<(String, String)>,
}

impl Baggage {
    /// Parses one header value by the W3C grammar and `limits`.
    pub fn parse(header: &str, limits: &Limits) -> Result<Baggage, BaggageError> {
        if header.len() > limits.max_header_len {
            return Err(BaggageError::TooLong {
                len: header.len(),
                max: limits.max_header_len,
            });
        }
        let mut bag = Baggage::default();
        if header.trim_matches(is_ows).is_empty() {
            return Ok(bag);
        }
        for (i, member) in header.split(',').enumerate() {
            if i >= limits.max_members {
                return Err(BaggageError::TooManyMembers {
                    max: limits.max_members,
                });
            }
            let malformed = |reason| BaggageError::Malformed { member: i, reason };
            let (name, value) = parse_member(member).map_err(malformed)?;
            if value.len() <= limits.max_value_len && bag.get(name).is_none() {
                bag.members.push((name.to_string(), value));
            }
        }
        Ok(bag)
    }

    /// Parses the `baggage` headers of a request (several are one list).
    /// No header gives an empty baggage.
    ///
    /// ```
    /// use ctx::http::{Baggage, Limits};
    ///
    /// let mut headers = http::HeaderMap::new();
    /// headers.append("baggage", "a=1".parse().unwrap());
    /// headers.append("baggage", "b=2".parse().unwrap());
    /// let bag = Baggage::from_headers(&headers, &Limits::default()).unwrap();
    /// assert_eq!((bag.get("a"), bag.get("b")), (Some("1"), Some("2")));
    /// ```
    pub fn from_headers(headers: &HeaderMap, limits: &Limits) -> Result<Baggage, BaggageError> {
        let mut joined = String::new();
        for (i, v) in headers.get_all(HEADER).iter().enumerate() {
            let v = v.to_str().map_err(|_| BaggageError::Malformed {
                member: 0,
                reason: "not visible ASCII",
            })?;
            if i > 0 {
                joined.push(',');
            }
            joined.push_str(v);
            if joined.len() > limits.max_header_len {
                return Err(BaggageError::TooLong {
                    len: joined.len(),
                    max: limits.max_header_len,
                });
            }
        }
        Baggage::parse(&joined, limits)
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.members
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The members, in order.
    ///
    /// ```
    /// let bag = ctx::http::Baggage::parse("a=1,b=2", &Default::default()).unwrap();
    /// assert_eq!(bag.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.members.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// Sets `name` to `value` (replacing an earlier value).
    ///
    /// ```
    /// let mut bag = ctx::http::Baggage::default();
    /// assert!(bag.insert("bad name", "x").is_err());
    /// bag.insert("a", "1").unwrap();
    /// bag.insert("a", "2").unwrap();
    /// assert_eq!(bag.get("a"), Some("2"));
    /// ```
    pub fn insert(&mut self, name: &str, value: &str) -> Result<(), BaggageError> {
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(BaggageError::InvalidName(name.to_string()));
        }
        match self.members.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value.to_string(),
            None => self.members.push((name.to_string(), value.to_string())),
        }
        Ok(())
    }

    /// Whether there is no member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The header value: members in order, values percent-encoded; members
    /// beyond `limits` (count, length, value length) are left out.
    ///
    /// See [`Baggage`] for an example.
    pub fn to_header(&self, limits: &Limits) -> String {
        let mut out = String::new();
        let mut count = 0;
        for (name, value) in &self.members {
            if count == limits.max_members {
                break;
            }
            if value.len() > limits.max_value_len {
                continue;
            }
            let mut member = String::with_capacity(name.len() + 1 + value.len());
            member.push_str(name);
            member.push('=');
            encode_value(value, &mut member);
            let sep = usize::from(!out.is_empty());
            if out.len() + sep + member.len() > limits.max_header_len {
                continue;
            }
            if sep == 1 {
                out.push(',');
            }
            out.push_str(&member);
            count += 1;
        }
        out
    }
}

/// `OWS name OWS "=" OWS value OWS *( ";" property )`, value decoded.
fn parse_member(member: &str) -> Result<(&str, String), &'static str> {
    let kv = member.split(';').next().unwrap_or_default();
    let (name, value) = kv.split_once('=').ok_or("no `=` between name and value")?;
    let name = name.trim_matches(is_ows);
    if name.is_empty() {
        return Err("empty name");
    }
    if !name.bytes().all(is_tchar) {
        return Err("the name is not an HTTP token");
    }
    Ok((name, decode_value(value.trim_matches(is_ows))?))
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// W3C `baggage-octet`: visible ASCII but `"`, `,`, `;` and `\`.
fn is_baggage_octet(b: u8) -> bool {
    matches!(b, 0x21 | 0x23..=0x2B | 0x2D..=0x3A | 0x3C..=0x5B | 0x5D..=0x7E)
}

fn decode_value(value: &str) -> Result<String, &'static str> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&h| (h as char).to_digit(16));
            let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                return Err("a `%` not followed by two hex digits");
            };
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else if is_baggage_octet(b) {
            out.push(b);
            i += 1;
        } else {
            return Err("a character that must be percent-encoded in a value");
        }
    }
    String::from_utf8(out).map_err(|_| "the decoded value is not UTF-8")
}

fn encode_value(value: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if is_baggage_octet(b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}
