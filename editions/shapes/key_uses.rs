//! Keys in bodies: names that shadow a key (parameters, `let`, closure
//! parameters, `match`, `if let`, `while let`, `let else`, `for`, nested
//! blocks and fns), and `mut` keys written with `ctx::set!` at the top of
//! the body, in loops, closures, iterator adapters, callees and nested
//! callees; every write is checked from the caller after the call.

use super::{ann, audit, audit_now, hits, hits_now, request_id, user};

#[ctx::propagate(user)]
fn user_now() -> String {
    user.clone()
}

#[ctx::propagate(mut hits)]
fn bump() -> u32 {
    ctx::set!(hits, *hits + 1);
    *hits
}

fn call_twice(f: impl Fn()) {
    f();
    f();
}

#[ctx::propagate(user)]
pub fn key01_param_shadows_key(user: u32) -> String {
    format!("{}:{}", user, user_now())
}

#[ctx::propagate(user)]
pub fn key02_let_shadows_key() -> String {
    let user = user.len();
    format!("{}/{}", user, user_now())
}

#[ctx::propagate(user)]
pub fn key03_closure_param_shadows_key() -> String {
    let f = |user: &str| user.to_uppercase();
    f("x") + user
}

#[ctx::propagate(user)]
pub fn key04_match_binding_shadows_key(o: Option<&str>) -> String {
    match o {
        Some(user) => format!("{}/{}", user, user_now()),
        None => user.clone(),
    }
}

#[ctx::propagate(user)]
pub fn key05_if_let_shadows_key(o: Option<u8>) -> String {
    if let Some(user) = o {
        format!("{}+{}", user, user_now())
    } else {
        format!("none+{}", *user)
    }
}

#[ctx::propagate(user)]
pub fn key06_for_binding_shadows_key() -> String {
    let mut out = String::new();
    for user in ["x", "y"] {
        out.push_str(user);
    }
    out.push_str(user);
    out
}

#[ctx::propagate(user)]
pub fn key07_shadow_ends_with_block() -> String {
    let inner = {
        let user = "inner";
        user.to_string()
    };
    format!("{} {}", inner, *user)
}

#[ctx::propagate(user)]
pub fn key08_nested_fn_param_named_key() -> usize {
    fn local(user: &str) -> usize {
        user.len() * 10
    }
    local("ab") + user.len()
}

#[ctx::propagate(user)]
pub fn key09_tuple_pattern_shadows_key() -> String {
    let (user, n) = ("t", 1);
    format!("{}{}{}", user, n, user_now())
}

#[ctx::propagate(user)]
pub fn key10_while_let_shadows_key() -> String {
    let mut names = vec!["b", "a"];
    let mut out = String::new();
    while let Some(user) = names.pop() {
        out.push_str(user);
    }
    out + user
}

#[ctx::propagate(user)]
pub fn key11_let_else_shadows_key(o: Option<&str>) -> String {
    let Some(user) = o else {
        return user_now();
    };
    format!("{}!{}", user, user_now())
}

#[ctx::propagate(user, request_id)]
pub fn key12_key_copied_and_bound() -> String {
    let id: u64 = *request_id;
    let r: &String = user;
    format!("{}#{}", r, id * 2)
}

#[ctx::propagate(mut hits)]
pub fn key13_set_then_read() -> u32 {
    ctx::set!(hits, *hits + 10);
    *hits
}

#[ctx::propagate(mut hits)]
pub fn key14_set_by_callees() -> u32 {
    bump();
    bump();
    *hits
}

#[ctx::propagate(mut hits)]
pub fn key15_set_in_closure() -> u32 {
    let inc = || ctx::set!(hits, *hits + 1);
    inc();
    inc();
    inc();
    *hits
}

#[ctx::propagate(user, mut hits)]
pub fn key16_set_in_loop() -> u32 {
    for _ in 0..user.len() {
        ctx::set!(hits, *hits + 2);
    }
    *hits
}

#[ctx::propagate(user, mut hits)]
pub fn key17_set_in_iterator_adapters() -> Vec<u32> {
    (0..user.len())
        .map(|_| bump())
        .filter(|n| n % 2 == 1)
        .collect()
}

#[ctx::propagate(mut user)]
pub fn key18_set_string_key() -> String {
    let before = user.clone();
    ctx::set!(user, format!("{}!", *user));
    format!("{} -> {}", before, *user)
}

#[ctx::propagate(user, mut hits)]
pub fn key19_set_in_match_arm() -> u32 {
    match user.as_str() {
        "ann" => ctx::set!(hits, 100),
        _ => ctx::set!(hits, 200),
    }
    *hits
}

#[ctx::propagate(mut hits)]
pub fn key20_set_then_early_return(stop: bool) -> u32 {
    ctx::set!(hits, *hits + 5);
    if stop {
        return *hits;
    }
    ctx::set!(hits, *hits + 5);
    *hits
}

#[ctx::propagate(user, mut audit)]
pub fn key21_set_append_key() -> usize {
    let mut v = audit.clone();
    v.push(format!("seen {}", *user));
    ctx::set!(audit, v);
    audit.len()
}

#[ctx::propagate(user, mut hits)]
pub fn key22_set_from_a_call() -> u32 {
    ctx::set!(hits, user_now().len() as u32 * 3);
    *hits
}

#[ctx::propagate(mut user)]
pub fn key23_write_then_callee_reads() -> String {
    ctx::set!(user, "bob".to_string());
    format!("callee sees {}", user_now())
}

#[ctx::propagate(mut hits)]
pub fn key24_set_in_callback_to_plain_fn() -> u32 {
    call_twice(|| ctx::set!(hits, *hits + 4));
    *hits
}

#[ctx::propagate(mut hits)]
fn nested_level_two() {
    bump();
}

#[ctx::propagate(mut hits)]
fn nested_level_one() {
    nested_level_two();
    nested_level_two();
}

#[ctx::propagate(mut hits)]
pub fn key25_write_through_nested_callees() -> u32 {
    nested_level_one();
    nested_level_one();
    *hits
}

#[ctx::propagate(user, mut hits, request_id)]
pub fn key26_read_and_mut_keys_mixed() -> String {
    ctx::set!(hits, *request_id as u32 + user.len() as u32);
    format!("{}:{}:{}", *user, *request_id, *hits)
}

#[ctx::propagate(mut hits)]
pub fn key27_set_in_if_let_and_while() -> u32 {
    if let Some(n) = Some(3) {
        ctx::set!(hits, n);
    }
    while *hits < 20 {
        ctx::set!(hits, *hits * 2);
    }
    *hits
}

#[ctx::propagate(mut user)]
pub fn key28_shadowed_then_written(user_param: &str) -> String {
    {
        let user = user_param;
        assert_eq!(user, "p");
    }
    ctx::set!(user, format!("{}+{}", *user, user_param));
    user.clone()
}

/// Runs `f` in the `ann` context and returns its result with the values of
/// `hits` and `user` the caller sees afterwards.
#[ctx::propagate(user, mut hits)]
fn then_seen<T>(f: impl FnOnce() -> T) -> (T, u32, String) {
    let out = f();
    (out, *hits, user.clone())
}

pub fn check() {
    assert_eq!(ctx::with!(ann(), { key01_param_shadows_key(5) }), "5:ann");
    assert_eq!(ctx::with!(ann(), { key02_let_shadows_key() }), "3/ann");
    assert_eq!(
        ctx::with!(ann(), { key03_closure_param_shadows_key() }),
        "Xann"
    );
    assert_eq!(
        ctx::with!(ann(), { key04_match_binding_shadows_key(Some("bo")) }),
        "bo/ann"
    );
    assert_eq!(
        ctx::with!(ann(), { key04_match_binding_shadows_key(None) }),
        "ann"
    );
    assert_eq!(
        ctx::with!(ann(), { key05_if_let_shadows_key(Some(4)) }),
        "4+ann"
    );
    assert_eq!(
        ctx::with!(ann(), { key05_if_let_shadows_key(None) }),
        "none+ann"
    );
    assert_eq!(
        ctx::with!(ann(), { key06_for_binding_shadows_key() }),
        "xyann"
    );
    assert_eq!(
        ctx::with!(ann(), { key07_shadow_ends_with_block() }),
        "inner ann"
    );
    assert_eq!(ctx::with!(ann(), { key08_nested_fn_param_named_key() }), 23);
    assert_eq!(
        ctx::with!(ann(), { key09_tuple_pattern_shadows_key() }),
        "t1ann"
    );
    assert_eq!(
        ctx::with!(ann(), { key10_while_let_shadows_key() }),
        "abann"
    );
    assert_eq!(
        ctx::with!(ann(), { key11_let_else_shadows_key(Some("z")) }),
        "z!ann"
    );
    assert_eq!(
        ctx::with!(ann(), { key11_let_else_shadows_key(None) }),
        "ann"
    );
    assert_eq!(
        ctx::with!(ann(), { key12_key_copied_and_bound() }),
        "ann#14"
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key13_set_then_read()) }),
        (10, 10, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key14_set_by_callees()) }),
        (2, 2, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key15_set_in_closure()) }),
        (3, 3, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key16_set_in_loop()) }),
        (6, 6, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key17_set_in_iterator_adapters()) }),
        (vec![1, 3], 3, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key18_set_string_key()) }),
        ("ann -> ann!".to_string(), 0, "ann!".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key19_set_in_match_arm()) }),
        (100, 100, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key20_set_then_early_return(true)) }),
        (5, 5, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key20_set_then_early_return(false)) }),
        (10, 10, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { (key21_set_append_key(), audit_now()) }),
        (1, vec!["seen ann".to_string()])
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key22_set_from_a_call()) }),
        (9, 9, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key23_write_then_callee_reads()) }),
        ("callee sees bob".to_string(), 0, "bob".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key24_set_in_callback_to_plain_fn()) }),
        (8, 8, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), {
            then_seen(|| key25_write_through_nested_callees())
        }),
        (4, 4, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key26_read_and_mut_keys_mixed()) }),
        ("ann:7:10".to_string(), 10, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key27_set_in_if_let_and_while()) }),
        (24, 24, "ann".to_string())
    );
    assert_eq!(
        ctx::with!(ann(), { then_seen(|| key28_shadowed_then_written("p")) }),
        ("ann+p".to_string(), 0, "ann+p".to_string())
    );
    assert_eq!(ctx::with!(ann(), { (bump(), hits_now()) }), (1, 1));
}
