//! Attributes next to `#[ctx::propagate]` mean what they mean without it,
//! in either order.

mod common;
use common::*;

fn span_name() -> Option<&'static str> {
    tracing::Span::current().metadata().map(|m| m.name())
}

#[ctx::propagate(user)]
#[tracing::instrument]
async fn traced_async_below() -> (Option<&'static str>, String) {
    tokio::task::yield_now().await;
    (span_name(), user.clone())
}

#[tracing::instrument]
#[ctx::propagate(user)]
async fn traced_async_above() -> (Option<&'static str>, String) {
    tokio::task::yield_now().await;
    (span_name(), user.clone())
}

#[ctx::propagate(user)]
#[tracing::instrument(skip(secret))]
fn traced_sync_below(n: u32, secret: String) -> (Option<&'static str>, String) {
    let _ = secret;
    (span_name(), format!("{}{n}", *user))
}

#[ctx::propagate(user)]
async fn run_all() -> Vec<(Option<&'static str>, String)> {
    vec![
        traced_async_below().await,
        traced_async_above().await,
        traced_sync_below(7, "s".into()),
    ]
}

#[test]
fn tracing_instrument_wraps_the_body_in_either_order() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = rt.block_on(req("ann", 1).scope(run_all()));
    assert_eq!(
        out,
        [
            (Some("traced_async_below"), "ann".to_string()),
            (Some("traced_async_above"), "ann".to_string()),
            (Some("traced_sync_below"), "ann7".to_string()),
        ]
    );
}

// Shapes that only failed because of the rewrite.
#[ctx::propagate(user)]
async fn serve_forever(tx: tokio::sync::mpsc::UnboundedSender<String>) -> ! {
    loop {
        tx.send(user.clone()).unwrap();
        tokio::task::yield_now().await;
    }
}

#[test]
fn an_async_fn_returning_never_compiles_and_runs() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    rt.block_on(async {
        tokio::select! {
            _ = req("ann", 1).scope(serve_forever(tx)) => unreachable!(),
            got = rx.recv() => assert_eq!(got.as_deref(), Some("ann")),
        }
    });
}

#[allow(clippy::too_many_arguments)]
#[ctx::propagate(user)]
fn sixteen(
    a: u8,
    b: u8,
    c: u8,
    d: u8,
    e: u8,
    f: u8,
    g: u8,
    h: u8,
    i: u8,
    j: u8,
    k: u8,
    l: u8,
    m: u8,
    n: u8,
    o: u8,
    p: u8,
) -> String {
    let sum: u32 = [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p]
        .iter()
        .map(|&x| u32::from(x))
        .sum();
    format!("{}{sum}", *user)
}

#[ctx::propagate(user)]
fn call_sixteen() -> String {
    sixteen(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)
}

#[test]
fn calls_with_up_to_sixteen_arguments_pass_the_context() {
    assert_eq!(ctx::with!(req("ann", 1), { call_sixteen() }), "ann16");
}

#[ctx::propagate(user)]
fn unchecked_greeting(bytes: &[u8]) -> String {
    // SAFETY: the test passes UTF-8.
    let s = unsafe { std::str::from_utf8_unchecked(bytes) };
    format!("{s} {}", *user)
}

#[test]
fn plain_unsafe_fns_are_called_as_written_in_unsafe_blocks() {
    assert_eq!(
        ctx::with!(req("ann", 1), { unchecked_greeting(b"hi") }),
        "hi ann"
    );
}

#[ctx::propagate(user)]
fn initial() -> Option<char> {
    user.chars().next()
}

#[ctx::propagate(user)]
fn starts_with_a() -> (bool, bool) {
    (
        matches!(initial(), Some('a')),
        std::matches!(user.as_str(), "ann" | "bob"),
    )
}

#[test]
fn calls_and_keys_inside_matches_are_rewritten() {
    assert_eq!(ctx::with!(req("ann", 1), { starts_with_a() }), (true, true));
    assert_eq!(
        ctx::with!(req("zed", 1), { starts_with_a() }),
        (false, false)
    );
}

// A body's inner attributes stay in the body when `#[propagate]` is
// written above `#[tracing::instrument]`.
#[ctx::propagate(user)]
#[tracing::instrument]
fn inner_attributes_above_instrument() -> (Option<&'static str>, usize) {
    #![allow(clippy::let_and_return)]
    let n = user.len();
    (span_name(), n)
}

#[test]
fn inner_attributes_stay_in_the_body_above_instrument() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let out = ctx::with!(req("ann", 1), { inner_attributes_above_instrument() });
    assert_eq!(out, (Some("inner_attributes_above_instrument"), 3));
}

#[must_use]
#[ctx::propagate(user, mut audit)]
async fn audited_fetch(what: &str) -> usize {
    tokio::task::yield_now().await;
    ctx::set!(audit, {
        let mut a = audit.clone();
        a.push(format!("{what} for {}", *user));
        a
    });
    audit.len()
}

#[must_use]
#[ctx::propagate(user, mut audit)]
fn audited_lookup(what: &str) -> usize {
    ctx::set!(audit, {
        let mut a = audit.clone();
        a.push(format!("{what} by {}", *user));
        a
    });
    audit.len()
}

/// A `#[must_use]` callee whose result a statement discards still runs,
/// and its writes stay (the statement goes through the discarding probe).
#[allow(unused_must_use)]
#[ctx::propagate(user, mut audit)]
async fn discards_must_use_results() -> (usize, Vec<String>) {
    audited_fetch("a").await;
    audited_lookup("b");
    let kept = audited_fetch("c").await + audited_lookup("d");
    (kept, audit.clone())
}

#[test]
fn discarded_must_use_calls_run_with_their_writes() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (kept, audit) = rt.block_on(req("ann", 1).scope(discards_must_use_results()));
    assert_eq!(
        audit,
        ["a for ann", "b by ann", "c for ann", "d by ann"].map(String::from)
    );
    assert_eq!(kept, 3 + 4);
}
