//! Bodies: closures, iterator adapters calling propagated fns, loops,
//! labeled breaks and blocks, `match`, `if let`, `while let`, `let else`,
//! early return, nested fns (plain and propagated), recursion, the standard
//! macros (`format!`, `vec!` in both forms, `assert*!`, `matches!`,
//! `write!`), `unsafe` blocks, consts and statics in the body.

use super::{ann, request_id, tag, user};
use std::fmt::Write;

/// A helper the shapes call: not a shape itself.
#[ctx::propagate(user)]
fn name_len() -> u32 {
    user.len() as u32
}

fn plain_len(s: &str) -> usize {
    s.len()
}

pub struct Pair {
    pub name: String,
    pub id: u64,
}

#[ctx::propagate(user)]
pub fn bod01_closure_reads_key() -> String {
    let f = |s: &str| format!("{}{}", s, *user);
    f("a") + &f("b")
}

#[ctx::propagate(user)]
pub fn bod02_move_closure_reads_key() -> usize {
    let f = move || user.len();
    f() + f()
}

#[ctx::propagate(user)]
pub fn bod03_map_calls_propagated() -> Vec<String> {
    (1..=3).map(|n| tag(n)).collect()
}

#[ctx::propagate(user)]
pub fn bod04_filter_fold() -> String {
    (1..=5)
        .filter(|n| n % 2 == 1)
        .fold(String::new(), |acc, n| acc + &tag(n))
}

#[ctx::propagate(user)]
pub fn bod05_adapter_chain() -> Vec<String> {
    user.chars()
        .enumerate()
        .filter_map(|(i, c)| if i > 0 { Some(c) } else { None })
        .flat_map(|c| vec![c.to_string(), tag(u32::from(c == 'n'))])
        .collect()
}

#[ctx::propagate(user)]
pub fn bod06_for_loop() -> String {
    let mut out = String::new();
    for i in 0..3 {
        out.push_str(&tag(i));
    }
    out
}

#[ctx::propagate(user)]
pub fn bod07_while_loop() -> u32 {
    let mut n = 0;
    while n < name_len() * 2 {
        n += 1;
    }
    n
}

#[ctx::propagate(user)]
pub fn bod08_loop_break_value() -> String {
    let mut i = 0;
    loop {
        i += 1;
        if i == name_len() {
            break tag(i);
        }
    }
}

#[ctx::propagate(request_id)]
pub fn bod09_labeled_break() -> (u64, u64) {
    let mut found = (0, 0);
    'outer: for a in 0..10 {
        for b in 0..10 {
            if a + b == *request_id && a * b > 10 {
                found = (a, b);
                break 'outer;
            }
        }
    }
    found
}

#[ctx::propagate(user)]
pub fn bod10_labeled_continue() -> Vec<u32> {
    let mut out = Vec::new();
    'rows: for row in 0..4 {
        for col in 0..4 {
            if col > row {
                continue 'rows;
            }
            if row + col == name_len() {
                out.push(row * 10 + col);
            }
        }
    }
    out
}

#[ctx::propagate(user)]
pub fn bod11_labeled_block() -> usize {
    let n = 'blk: {
        if user.is_empty() {
            break 'blk 0;
        }
        user.len() * 100
    };
    n + 1
}

#[ctx::propagate(user)]
pub fn bod12_match_on_key() -> &'static str {
    match user.as_str() {
        "ann" => "first",
        "bob" => "second",
        _ => "other",
    }
}

#[ctx::propagate(user)]
pub fn bod13_match_guard_calls(n: u32) -> String {
    match n {
        x if x > name_len() => format!("{} > {}", x, tag(0)),
        x => format!("{} <= {}", x, tag(0)),
    }
}

#[ctx::propagate(user)]
pub fn bod14_if_let() -> String {
    if let Some(c) = user.chars().next() {
        format!("starts with {}", c)
    } else {
        "empty".into()
    }
}

#[ctx::propagate(user)]
pub fn bod15_while_let() -> String {
    let mut stack: Vec<char> = user.chars().collect();
    let mut out = String::new();
    while let Some(c) = stack.pop() {
        out.push(c);
        out.push_str(&tag(0));
    }
    out
}

#[ctx::propagate(user)]
pub fn bod16_let_else() -> String {
    let Some(last) = user.chars().last() else {
        return "empty".into();
    };
    format!("ends with {}", last)
}

#[ctx::propagate(user)]
pub fn bod17_early_return(limit: usize) -> String {
    if user.len() > limit {
        return format!("long {}", *user);
    }
    format!("short {}", *user)
}

#[ctx::propagate(user)]
pub fn bod18_nested_plain_fn() -> String {
    fn double(s: &str) -> String {
        format!("{}{}", s, s)
    }
    double(user)
}

#[ctx::propagate(user)]
pub fn bod19_nested_propagated_fn() -> String {
    #[ctx::propagate(user)]
    fn inner(n: u32) -> String {
        format!("inner {}{}", *user, n)
    }
    inner(1)
}

#[ctx::propagate(user)]
pub fn bod20_format_with_calls() -> String {
    format!("{}-{}-{n}", tag(1), tag(2), n = name_len())
}

#[ctx::propagate(user)]
pub fn bod21_vec_macro() -> Vec<String> {
    let mut v = vec![tag(1), tag(2)];
    let three = tag(3);
    v.extend(vec![three; 2]);
    v
}

#[ctx::propagate(user)]
pub fn bod22_assert_macros() -> u32 {
    assert!(name_len() > 0);
    assert!(!tag(1).is_empty(), "tag of {} is empty", *user);
    assert_eq!(tag(1), format!("{}1", *user));
    assert_ne!(tag(1), tag(2));
    debug_assert!(name_len() < 100);
    name_len()
}

#[ctx::propagate(user)]
pub fn bod23_matches_macro() -> (bool, bool) {
    (
        matches!(tag(1).as_str(), "ann1" | "bob1"),
        matches!(user.len(), n if n > 5),
    )
}

#[ctx::propagate(user)]
pub fn bod24_write_macro() -> String {
    let mut s = String::new();
    write!(s, "{}", tag(3)).unwrap();
    writeln!(s, "/{}", name_len()).unwrap();
    s
}

#[ctx::propagate(user)]
pub fn bod25_format_args() -> String {
    format!("<{}>", format_args!("{}+{}", tag(1), *user))
}

#[ctx::propagate(request_id)]
pub fn bod26_question_in_closure(s: &str) -> Result<u64, std::num::ParseIntError> {
    let parse = |s: &str| -> Result<u64, std::num::ParseIntError> {
        let n: u64 = s.parse()?;
        Ok(n + *request_id)
    };
    parse(s)
}

#[ctx::propagate(user)]
pub fn bod27_recursion(n: u32) -> String {
    if n == 0 {
        user.clone()
    } else {
        format!("{}.", bod27_recursion(n - 1))
    }
}

#[ctx::propagate(user)]
pub fn bod28_read_in_unsafe_block() -> String {
    // SAFETY: the bytes come from a `String`.
    let s = unsafe { std::str::from_utf8_unchecked(user.as_bytes()) };
    s.to_uppercase()
}

#[ctx::propagate(user)]
pub fn bod29_const_and_static_in_body() -> String {
    const SEP: &str = "/";
    static TIMES: usize = 2;
    [user.as_str(); TIMES].join(SEP)
}

#[ctx::propagate(user)]
pub fn bod30_closure_returning_closure() -> String {
    let make = |p: &'static str| move |n: u32| format!("{}{}{}", p, *user, n);
    let f = make("x");
    f(1) + &make("y")(2)
}

#[ctx::propagate(user)]
pub fn bod31_block_expression() -> usize {
    let v = {
        let a = user.len();
        a * 2
    };
    v + 1
}

#[ctx::propagate(user, request_id)]
pub fn bod32_struct_literal() -> Pair {
    Pair {
        name: user.clone(),
        id: *request_id,
    }
}

#[ctx::propagate(user)]
pub fn bod33_key_to_plain_fn() -> usize {
    plain_len(user) + plain_len(&user[1..])
}

#[ctx::propagate(user)]
pub fn bod34_key_in_array() -> String {
    let arr = [user.as_str(), "x", user];
    arr.join("+")
}

#[ctx::propagate(user)]
pub fn bod35_method_chain_on_key() -> String {
    user.chars().rev().map(|c| c.to_ascii_uppercase()).collect()
}

#[ctx::propagate(user)]
pub fn bod36_if_else_chain(n: u32) -> String {
    if n == 0 {
        tag(0)
    } else if n < name_len() {
        format!("small {}", tag(n))
    } else {
        format!("big {}", tag(n))
    }
}

#[ctx::propagate(user)]
pub fn bod37_sum_of_calls() -> u32 {
    (1..=3).map(|n| name_len() * n).sum()
}

#[ctx::propagate(user)]
pub fn bod38_sort_by_calls() -> Vec<u32> {
    let mut v = vec![4, 1, 3, 2];
    v.sort_by_key(|n| (i64::from(*n) - i64::from(name_len())).abs());
    v
}

#[ctx::propagate(user)]
pub fn bod39_option_combinators(o: Option<u32>) -> String {
    o.map(|n| tag(n))
        .and_then(|s| if s.len() > 3 { Some(s) } else { None })
        .unwrap_or_else(|| tag(0))
}

#[ctx::propagate(user)]
pub fn bod40_result_map_err(s: &str) -> Result<u32, String> {
    s.parse::<u32>().map_err(|_| tag(0))
}

#[ctx::propagate(user)]
pub fn bod41_vec_repeat_with_calls() -> (Vec<String>, Vec<u32>) {
    (vec![tag(3); 2], vec![name_len(); user.len() - 1])
}

pub fn check() {
    assert_eq!(ctx::with!(ann(), { bod01_closure_reads_key() }), "aannbann");
    assert_eq!(ctx::with!(ann(), { bod02_move_closure_reads_key() }), 6);
    assert_eq!(
        ctx::with!(ann(), { bod03_map_calls_propagated() }),
        ["ann1", "ann2", "ann3"]
    );
    assert_eq!(ctx::with!(ann(), { bod04_filter_fold() }), "ann1ann3ann5");
    assert_eq!(
        ctx::with!(ann(), { bod05_adapter_chain() }),
        ["n", "ann1", "n", "ann1"]
    );
    assert_eq!(ctx::with!(ann(), { bod06_for_loop() }), "ann0ann1ann2");
    assert_eq!(ctx::with!(ann(), { bod07_while_loop() }), 6);
    assert_eq!(ctx::with!(ann(), { bod08_loop_break_value() }), "ann3");
    assert_eq!(ctx::with!(ann(), { bod09_labeled_break() }), (3, 4));
    assert_eq!(ctx::with!(ann(), { bod10_labeled_continue() }), [21, 30]);
    assert_eq!(ctx::with!(ann(), { bod11_labeled_block() }), 301);
    assert_eq!(ctx::with!(ann(), { bod12_match_on_key() }), "first");
    assert_eq!(
        ctx::with!(ann(), { bod13_match_guard_calls(5) }),
        "5 > ann0"
    );
    assert_eq!(
        ctx::with!(ann(), { bod13_match_guard_calls(2) }),
        "2 <= ann0"
    );
    assert_eq!(ctx::with!(ann(), { bod14_if_let() }), "starts with a");
    assert_eq!(ctx::with!(ann(), { bod15_while_let() }), "nann0nann0aann0");
    assert_eq!(ctx::with!(ann(), { bod16_let_else() }), "ends with n");
    assert_eq!(ctx::with!(ann(), { bod17_early_return(2) }), "long ann");
    assert_eq!(ctx::with!(ann(), { bod17_early_return(3) }), "short ann");
    assert_eq!(ctx::with!(ann(), { bod18_nested_plain_fn() }), "annann");
    assert_eq!(
        ctx::with!(ann(), { bod19_nested_propagated_fn() }),
        "inner ann1"
    );
    assert_eq!(
        ctx::with!(ann(), { bod20_format_with_calls() }),
        "ann1-ann2-3"
    );
    assert_eq!(
        ctx::with!(ann(), { bod21_vec_macro() }),
        ["ann1", "ann2", "ann3", "ann3"]
    );
    assert_eq!(ctx::with!(ann(), { bod22_assert_macros() }), 3);
    assert_eq!(ctx::with!(ann(), { bod23_matches_macro() }), (true, false));
    assert_eq!(ctx::with!(ann(), { bod24_write_macro() }), "ann3/3\n");
    assert_eq!(ctx::with!(ann(), { bod25_format_args() }), "<ann1+ann>");
    assert_eq!(
        ctx::with!(ann(), { bod26_question_in_closure("3") }),
        Ok(10)
    );
    assert!(ctx::with!(ann(), { bod26_question_in_closure("-") }).is_err());
    assert_eq!(ctx::with!(ann(), { bod27_recursion(2) }), "ann..");
    assert_eq!(ctx::with!(ann(), { bod28_read_in_unsafe_block() }), "ANN");
    assert_eq!(
        ctx::with!(ann(), { bod29_const_and_static_in_body() }),
        "ann/ann"
    );
    assert_eq!(
        ctx::with!(ann(), { bod30_closure_returning_closure() }),
        "xann1yann2"
    );
    assert_eq!(ctx::with!(ann(), { bod31_block_expression() }), 7);
    let p = ctx::with!(ann(), { bod32_struct_literal() });
    assert_eq!((p.name.as_str(), p.id), ("ann", 7));
    assert_eq!(ctx::with!(ann(), { bod33_key_to_plain_fn() }), 5);
    assert_eq!(ctx::with!(ann(), { bod34_key_in_array() }), "ann+x+ann");
    assert_eq!(ctx::with!(ann(), { bod35_method_chain_on_key() }), "NNA");
    assert_eq!(ctx::with!(ann(), { bod36_if_else_chain(0) }), "ann0");
    assert_eq!(ctx::with!(ann(), { bod36_if_else_chain(2) }), "small ann2");
    assert_eq!(ctx::with!(ann(), { bod36_if_else_chain(4) }), "big ann4");
    assert_eq!(ctx::with!(ann(), { bod37_sum_of_calls() }), 18);
    assert_eq!(ctx::with!(ann(), { bod38_sort_by_calls() }), [3, 4, 2, 1]);
    assert_eq!(
        ctx::with!(ann(), { bod39_option_combinators(Some(4)) }),
        "ann4"
    );
    assert_eq!(
        ctx::with!(ann(), { bod39_option_combinators(None) }),
        "ann0"
    );
    assert_eq!(ctx::with!(ann(), { bod40_result_map_err("12") }), Ok(12));
    assert_eq!(
        ctx::with!(ann(), { bod40_result_map_err("x") }),
        Err("ann0".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { bod41_vec_repeat_with_calls() }),
        (vec!["ann3".to_string(), "ann3".to_string()], vec![3, 3])
    );
    let carol = super::Req {
        user: "carol".into(),
        ..ann()
    };
    assert_eq!(
        ctx::with!(carol, { bod41_vec_repeat_with_calls() }),
        (vec!["carol3".to_string(), "carol3".to_string()], vec![5; 4])
    );
}
