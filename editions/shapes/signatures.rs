//! Signatures: generics, where clauses, lifetimes, `impl Trait` arguments and
//! returns, patterns in parameters, `mut` parameters, many parameters, const
//! generics, `Result` and `?`, `-> !`.

use super::{ann, request_id, user};
use std::fmt::Display;

pub struct Point {
    pub x: i32,
    pub y: i32,
}

pub struct Holder<'a> {
    pub name: &'a str,
}

#[ctx::propagate(user)]
pub fn sig01_no_params() -> String {
    user.clone()
}

#[ctx::propagate(user)]
pub fn sig02_generic_bound<T: Display>(t: T) -> String {
    format!("{}:{}", t, *user)
}

#[ctx::propagate(user, request_id)]
pub fn sig03_where_clause<I>(items: I) -> String
where
    I: IntoIterator,
    I::Item: Display,
{
    let v: Vec<String> = items.into_iter().map(|i| i.to_string()).collect();
    format!("{}@{}#{}", v.join(","), *user, *request_id)
}

#[ctx::propagate(user)]
pub fn sig04_explicit_lifetimes<'a, 'b>(a: &'a str, b: &'b str) -> &'a str {
    if user.starts_with(b) {
        return a;
    }
    ""
}

#[ctx::propagate(user)]
pub fn sig05_elided_lifetime(s: &str) -> &str {
    &s[..user.len().min(s.len())]
}

#[ctx::propagate(user)]
pub fn sig06_impl_trait_arg(x: impl Into<String>) -> String {
    format!("{}{}", x.into(), *user)
}

#[ctx::propagate(user)]
pub fn sig07_impl_trait_return() -> impl Display {
    format!("<{}>", *user)
}

#[ctx::propagate(user)]
pub fn sig08_impl_iterator_return(n: usize) -> impl Iterator<Item = String> {
    let u = user.clone();
    (0..n).map(move |i| format!("{}{}", u, i))
}

#[ctx::propagate(user)]
pub fn sig09_tuple_pattern((a, b): (u32, u32)) -> String {
    format!("{}{}", *user, a + b)
}

#[ctx::propagate(user)]
pub fn sig10_struct_pattern(Point { x, y }: Point) -> String {
    format!("{}({},{})", *user, x, y)
}

#[ctx::propagate(request_id)]
pub fn sig11_ref_pattern(&n: &u32) -> u64 {
    u64::from(n) + *request_id
}

#[ctx::propagate(user)]
pub fn sig12_mut_param(mut v: Vec<String>) -> Vec<String> {
    v.push(user.clone());
    v
}

#[allow(clippy::too_many_arguments)]
#[ctx::propagate(user)]
pub fn sig13_many_params(a: u8, b: u16, c: u32, d: u64, e: i8, f: i16, g: &str, h: char) -> String {
    let sum = u64::from(a) + u64::from(b) + u64::from(c) + d;
    format!("{}{}{}{}{}{}", *user, sum, e, f, g, h)
}

#[ctx::propagate(user)]
pub fn sig14_const_generic<const N: usize>(arr: [u8; N]) -> String {
    format!(
        "{}{}{}",
        *user,
        N,
        arr.iter().map(|&b| u32::from(b)).sum::<u32>()
    )
}

#[ctx::propagate(request_id)]
pub fn sig15_result_question(s: &str) -> Result<u64, std::num::ParseIntError> {
    let n: u64 = s.parse()?;
    Ok(n + *request_id)
}

#[ctx::propagate(user)]
pub fn sig16_option_question(s: &str) -> Option<String> {
    let c = s.chars().next()?;
    Some(format!("{}{}", c, *user))
}

#[ctx::propagate(user)]
pub fn sig17_never_returns(reason: &str) -> ! {
    panic!("{} {}", reason, *user)
}

#[ctx::propagate(user)]
pub fn sig18_unit_return(out: &mut String) {
    out.push_str(user);
}

#[ctx::propagate(user)]
pub fn sig19_dyn_trait_arg(d: &dyn Display) -> String {
    format!("{}={}", *user, d)
}

#[ctx::propagate(user)]
pub fn sig20_fn_pointer_arg(f: fn(&str) -> String) -> String {
    f(user)
}

#[ctx::propagate(user)]
pub fn sig21_generic_closure_arg<F: Fn(&str) -> String>(f: F) -> String {
    f(user) + &f("!")
}

#[ctx::propagate(request_id)]
pub fn sig22_slice_and_array(xs: &[u64], arr: [u64; 2]) -> u64 {
    xs.iter().sum::<u64>() + arr[0] * arr[1] + *request_id
}

#[ctx::propagate(user)]
pub fn sig23_higher_ranked<F>(f: F) -> String
where
    F: for<'a> Fn(&'a str) -> &'a str,
{
    f(user).to_string()
}

#[ctx::propagate(user)]
pub fn sig24_turbofish<T: Default + Display>() -> String {
    format!("{}{}", T::default(), *user)
}

#[ctx::propagate(user)]
pub fn sig25_nested_impl_trait(items: impl IntoIterator<Item = impl Display>) -> String {
    let mut out = user.clone();
    for i in items {
        out.push_str(&i.to_string());
    }
    out
}

#[ctx::propagate(request_id)]
pub fn sig26_box_dyn_error(s: &str) -> Result<u64, Box<dyn std::error::Error>> {
    Ok(s.parse::<u64>()? * *request_id)
}

#[ctx::propagate(user, request_id)]
pub fn sig27_returns_tuple() -> (String, u64) {
    (user.clone(), *request_id)
}

#[ctx::propagate(user)]
pub fn sig28_underscore_params(_: u32, _unused: &str) -> String {
    user.to_uppercase()
}

#[ctx::propagate(user)]
pub fn sig29_raw_identifier(r#type: &str) -> String {
    format!("{}:{}", r#type, *user)
}

#[ctx::propagate(user)]
pub fn sig30_unsized_generic<T: AsRef<str> + ?Sized>(t: &T) -> usize {
    t.as_ref().len() + user.len()
}

#[ctx::propagate(user)]
pub fn sig31_returns_boxed_closure() -> Box<dyn Fn(&str) -> String> {
    let u = user.clone();
    Box::new(move |s| format!("{}{}", s, u))
}

#[ctx::propagate(user)]
pub fn sig32_nested_generic<T: Clone>(v: Vec<Option<T>>) -> (usize, String) {
    (v.iter().flatten().count(), user.clone())
}

#[ctx::propagate(user)]
pub fn sig33_struct_with_lifetime(h: Holder<'_>) -> String {
    format!("{}&{}", h.name, *user)
}

#[ctx::propagate(request_id)]
pub fn sig34_generic_reference<'a, T>(items: &'a [T]) -> Option<&'a T> {
    items.get(*request_id as usize % items.len().max(1))
}

#[ctx::propagate(user)]
pub fn sig35_impl_trait_with_lifetime<'a>(s: &'a str) -> impl Iterator<Item = char> + 'a {
    s.chars().take(user.len())
}

#[ctx::propagate(user)]
pub fn sig36_outlives_bound<'a, 'b: 'a>(a: &'a str, b: &'b str) -> &'a str {
    if user.len() > 2 {
        return b;
    }
    a
}

#[ctx::propagate(user)]
pub fn sig37_returns_box_dyn() -> Box<dyn Display> {
    Box::new(format!("boxed {}", *user))
}

#[ctx::propagate(user)]
pub fn sig38_returns_array() -> [String; 2] {
    [user.clone(), user.to_uppercase()]
}

#[ctx::propagate(request_id)]
pub fn sig39_mut_generic_iterator<I: Iterator<Item = u64>>(mut it: I) -> u64 {
    it.next().unwrap_or(0) + it.next().unwrap_or(0) + *request_id
}

#[ctx::propagate(user)]
#[allow(clippy::ptr_arg)]
pub fn sig40_early_return_coerces(s: &String) -> &str {
    if user.len() > s.len() {
        return s;
    }
    &s[..user.len()]
}

#[ctx::propagate(user)]
pub fn sig41_early_return_unsizes(n: u32) -> Box<dyn Display> {
    if n == 0 {
        return Box::new(user.clone());
    }
    Box::new(n)
}

fn shout(s: &str) -> String {
    s.to_uppercase()
}

pub fn check() {
    assert_eq!(ctx::with!(ann(), { sig01_no_params() }), "ann");
    assert_eq!(ctx::with!(ann(), { sig02_generic_bound(5) }), "5:ann");
    assert_eq!(
        ctx::with!(ann(), { sig03_where_clause(vec![1, 2]) }),
        "1,2@ann#7"
    );
    assert_eq!(
        ctx::with!(ann(), { sig04_explicit_lifetimes("yes", "a") }),
        "yes"
    );
    assert_eq!(
        ctx::with!(ann(), { sig05_elided_lifetime("abcdef") }),
        "abc"
    );
    assert_eq!(ctx::with!(ann(), { sig06_impl_trait_arg("hi ") }), "hi ann");
    assert_eq!(
        ctx::with!(ann(), { sig07_impl_trait_return().to_string() }),
        "<ann>"
    );
    assert_eq!(
        ctx::with!(ann(), { sig08_impl_iterator_return(2).collect::<Vec<_>>() }),
        ["ann0", "ann1"]
    );
    assert_eq!(ctx::with!(ann(), { sig09_tuple_pattern((1, 2)) }), "ann3");
    assert_eq!(
        ctx::with!(ann(), { sig10_struct_pattern(Point { x: 1, y: -1 }) }),
        "ann(1,-1)"
    );
    assert_eq!(ctx::with!(ann(), { sig11_ref_pattern(&3) }), 10);
    assert_eq!(
        ctx::with!(ann(), { sig12_mut_param(vec!["a".to_string()]) }),
        ["a", "ann"]
    );
    assert_eq!(
        ctx::with!(ann(), { sig13_many_params(1, 2, 3, 4, -5, -6, "g", 'h') }),
        "ann10-5-6gh"
    );
    assert_eq!(
        ctx::with!(ann(), { sig14_const_generic([1, 2, 3]) }),
        "ann36"
    );
    assert_eq!(ctx::with!(ann(), { sig15_result_question("5") }), Ok(12));
    assert!(ctx::with!(ann(), { sig15_result_question("x") }).is_err());
    assert_eq!(
        ctx::with!(ann(), { sig16_option_question("zed") }),
        Some("zann".to_string())
    );
    assert_eq!(ctx::with!(ann(), { sig16_option_question("") }), None);
    let panicked = std::panic::catch_unwind(|| {
        ctx::with!(ann(), {
            sig17_never_returns("stop");
        })
    });
    let payload = panicked.expect_err("sig17 never returns");
    assert_eq!(payload.downcast_ref::<String>().unwrap(), "stop ann");
    let mut out = String::from(">");
    ctx::with!(ann(), { sig18_unit_return(&mut out) });
    assert_eq!(out, ">ann");
    assert_eq!(ctx::with!(ann(), { sig19_dyn_trait_arg(&4) }), "ann=4");
    assert_eq!(ctx::with!(ann(), { sig20_fn_pointer_arg(shout) }), "ANN");
    assert_eq!(
        ctx::with!(ann(), { sig21_generic_closure_arg(|s| format!("[{}]", s)) }),
        "[ann][!]"
    );
    assert_eq!(
        ctx::with!(ann(), { sig22_slice_and_array(&[1, 2], [3, 4]) }),
        22
    );
    assert_eq!(
        ctx::with!(ann(), { sig23_higher_ranked(|s| &s[1..]) }),
        "nn"
    );
    assert_eq!(ctx::with!(ann(), { sig24_turbofish::<u8>() }), "0ann");
    assert_eq!(
        ctx::with!(ann(), { sig25_nested_impl_trait(vec![1, 2]) }),
        "ann12"
    );
    assert_eq!(ctx::with!(ann(), { sig26_box_dyn_error("3").unwrap() }), 21);
    assert!(ctx::with!(ann(), { sig26_box_dyn_error("x") }).is_err());
    assert_eq!(
        ctx::with!(ann(), { sig27_returns_tuple() }),
        ("ann".to_string(), 7)
    );
    assert_eq!(
        ctx::with!(ann(), { sig28_underscore_params(1, "x") }),
        "ANN"
    );
    assert_eq!(ctx::with!(ann(), { sig29_raw_identifier("t") }), "t:ann");
    assert_eq!(ctx::with!(ann(), { sig30_unsized_generic("abcd") }), 7);
    let f = ctx::with!(ann(), { sig31_returns_boxed_closure() });
    assert_eq!(f("hi "), "hi ann");
    assert_eq!(
        ctx::with!(ann(), {
            sig32_nested_generic(vec![Some(1), None, Some(3)])
        }),
        (2, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { sig33_struct_with_lifetime(Holder { name: "h" }) }),
        "h&ann"
    );
    let items = ['a', 'b', 'c'];
    assert_eq!(
        ctx::with!(ann(), { sig34_generic_reference(&items) }),
        Some(&'b')
    );
    assert_eq!(
        ctx::with!(ann(), {
            sig35_impl_trait_with_lifetime("abcdef").collect::<String>()
        }),
        "abc"
    );
    assert_eq!(
        ctx::with!(ann(), { sig36_outlives_bound("short", "long") }),
        "long"
    );
    assert_eq!(
        ctx::with!(ann(), { sig37_returns_box_dyn().to_string() }),
        "boxed ann"
    );
    assert_eq!(ctx::with!(ann(), { sig38_returns_array() }), ["ann", "ANN"]);
    assert_eq!(
        ctx::with!(ann(), {
            sig39_mut_generic_iterator(vec![1, 2].into_iter())
        }),
        10
    );
    let long = String::from("abcdef");
    assert_eq!(
        ctx::with!(ann(), { sig40_early_return_coerces(&long) }),
        "abc"
    );
    assert_eq!(
        ctx::with!(ann(), { sig41_early_return_unsizes(0).to_string() }),
        "ann"
    );
    assert_eq!(
        ctx::with!(ann(), { sig41_early_return_unsizes(4).to_string() }),
        "4"
    );
}
