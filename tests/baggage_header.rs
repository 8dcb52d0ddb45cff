//! The W3C Baggage header: parsing (grammar, percent-encoding, limits) and
//! encoding. A malformed or oversized header is an error, never a panic.
#![cfg(feature = "http")]

use ctx::http::{Baggage, BaggageError, Limits};

fn parse(s: &str) -> Result<Baggage, BaggageError> {
    Baggage::parse(s, &Limits::default())
}

fn members(s: &str) -> Vec<(String, String)> {
    parse(s)
        .unwrap()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

#[test]
fn members_with_whitespace_and_properties() {
    assert_eq!(
        members(" a = 1 ,\tb=two;prop=x;flag , c="),
        pairs(&[("a", "1"), ("b", "two"), ("c", "")])
    );
    assert!(parse("").unwrap().is_empty());
    assert!(parse("  ").unwrap().is_empty());
    // The first occurrence of a name wins.
    assert_eq!(members("a=1,a=2"), pairs(&[("a", "1")]));
}

#[test]
fn percent_encoded_values_are_decoded() {
    assert_eq!(
        members("v=a%20b%2Cc%3Bd%25e%22f%5Cg,u=caf%c3%a9,e=%E2%9C%93"),
        pairs(&[("v", "a b,c;d%e\"f\\g"), ("u", "café"), ("e", "✓")])
    );
}

#[test]
fn any_value_survives_encoding_and_parsing() {
    let all_ascii: String = (0u8..128).map(char::from).collect();
    let values = [
        "",
        "plain",
        "with space, comma; semicolon",
        "100%",
        "%41 is not decoded twice",
        "naïve — ünïcödé ✓ 𝄞",
        all_ascii.as_str(),
    ];
    for v in values {
        let mut bag = Baggage::default();
        bag.insert("k", v).unwrap();
        let header = bag.to_header(&Limits::default());
        assert!(
            header.bytes().all(|b| b.is_ascii_graphic()),
            "{header:?} is not visible ASCII"
        );
        assert_eq!(parse(&header).unwrap().get("k"), Some(v), "{header}");
    }
}

#[test]
fn malformed_headers_are_errors() {
    let cases = [
        ("user", 0, "no `=` between name and value"),
        ("=v", 0, "empty name"),
        ("a=1,,b=2", 1, "no `=` between name and value"),
        ("a=1,bad name=1", 1, "the name is not an HTTP token"),
        (
            "k=v v",
            0,
            "a character that must be percent-encoded in a value",
        ),
        (
            "k=\"q\"",
            0,
            "a character that must be percent-encoded in a value",
        ),
        (
            "k=a\\b",
            0,
            "a character that must be percent-encoded in a value",
        ),
        (
            "k=é",
            0,
            "a character that must be percent-encoded in a value",
        ),
        ("k=%zz", 0, "a `%` not followed by two hex digits"),
        ("k=%4", 0, "a `%` not followed by two hex digits"),
        ("k=%", 0, "a `%` not followed by two hex digits"),
        ("k=%FF", 0, "the decoded value is not UTF-8"),
        ("k=%C3", 0, "the decoded value is not UTF-8"),
    ];
    for (header, member, reason) in cases {
        assert_eq!(
            parse(header),
            Err(BaggageError::Malformed { member, reason }),
            "{header}"
        );
    }
}

#[test]
fn a_header_that_is_not_ascii_is_an_error() {
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        "baggage",
        axum::http::HeaderValue::from_bytes(b"k=caf\xe9").unwrap(),
    );
    let err = Baggage::from_headers(&headers, &Limits::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed baggage header: member 0: not visible ASCII"
    );
}

#[test]
fn limits_reject_long_headers_and_many_members_and_drop_long_values() {
    let limits = Limits::default();
    let long = format!("k={}", "x".repeat(limits.max_header_len));
    assert_eq!(
        parse(&long),
        Err(BaggageError::TooLong {
            len: limits.max_header_len + 2,
            max: limits.max_header_len
        })
    );
    let at_limit: Vec<String> = (0..limits.max_members).map(|i| format!("k{i}=1")).collect();
    assert_eq!(
        parse(&at_limit.join(",")).unwrap().iter().count(),
        limits.max_members
    );
    let over: Vec<String> = (0..=limits.max_members)
        .map(|i| format!("k{i}=1"))
        .collect();
    assert_eq!(
        parse(&over.join(",")),
        Err(BaggageError::TooManyMembers {
            max: limits.max_members
        })
    );
    // Value length counts decoded bytes; a value over it is dropped alone.
    let max = "é".repeat(limits.max_value_len / 2);
    let header = format!(
        "ok={},long={}x,b=2",
        "%C3%A9".repeat(limits.max_value_len / 2),
        "%C3%A9".repeat(limits.max_value_len / 2)
    );
    let bag = parse(&header).unwrap();
    assert_eq!(bag.get("ok"), Some(max.as_str()));
    assert_eq!(bag.get("long"), None);
    assert_eq!(bag.get("b"), Some("2"));
}

#[test]
fn several_headers_are_one_list_within_the_length_limit() {
    let limits = Limits {
        max_header_len: 10,
        ..Limits::default()
    };
    let mut headers = axum::http::HeaderMap::new();
    headers.append("baggage", "a=1".parse().unwrap());
    headers.append("baggage", "b=2".parse().unwrap());
    let bag = Baggage::from_headers(&headers, &limits).unwrap();
    assert_eq!((bag.get("a"), bag.get("b")), (Some("1"), Some("2")));
    headers.append("baggage", "c=3456".parse().unwrap());
    assert!(matches!(
        Baggage::from_headers(&headers, &limits),
        Err(BaggageError::TooLong { max: 10, .. })
    ));
}

#[test]
fn encoding_keeps_within_the_limits() {
    let limits = Limits {
        max_header_len: 12,
        max_members: 2,
        max_value_len: 4,
    };
    let mut bag = Baggage::default();
    bag.insert("a", "12345").unwrap(); // value too long
    bag.insert("b", "1").unwrap();
    bag.insert("c", "1234").unwrap(); // "b=1,c=1234" is 10 bytes
    bag.insert("d", "1").unwrap(); // a third member
    assert_eq!(bag.to_header(&limits), "b=1,c=1234");
    assert!(bag.insert("", "x").is_err());
    assert!(bag.insert("a,b", "x").is_err());
}

/// Arbitrary bytes never make the parser panic, and what it accepts
/// encodes back to a header it reads the same.
#[test]
fn arbitrary_input_never_panics() {
    const ALPHABET: &[u8] = b"ab=,; \t%2C3FE\"\\\x7f\x01k";
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut accepted = 0;
    for _ in 0..20_000 {
        let mut s = Vec::new();
        for _ in 0..(state % 24) {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            s.push(ALPHABET[(state >> 33) as usize % ALPHABET.len()]);
        }
        let s = String::from_utf8(s).unwrap();
        if let Ok(bag) = parse(&s) {
            accepted += 1;
            let again = parse(&bag.to_header(&Limits::default())).unwrap();
            assert_eq!(again, bag, "{s:?}");
        }
    }
    assert!(accepted > 100, "only {accepted} inputs accepted");
}
