//! Generated code is clean under `#![deny(warnings, clippy::pedantic)]`
//! (checked by `cargo clippy --all-targets` in CI).
#![cfg(feature = "tokio")]
#![deny(warnings, clippy::pedantic)]

ctx::keys! {
    /// A user.
    pub user: String;
    /// A counter.
    #[merge(keep)]
    pub hits: u64;
}

/// A root.
#[derive(ctx::ContextFields)]
pub struct Root {
    user: String,
    hits: u64,
}

#[ctx::propagate(user, mut hits)]
fn count(by: u64) -> u64 {
    ctx::set!(hits, *hits + by);
    *hits + u64::try_from(user.len()).unwrap_or(0)
}

#[ctx::propagate(user, mut hits)]
async fn serve() -> u64 {
    let a = tokio::spawn(async move { count(1) }).await.unwrap_or(0);
    let b = std::thread::spawn(move || count(2)).join().unwrap_or(0);
    let c = count(3);
    a + b + c + ctx::bind!(read()).await
}

#[ctx::propagate(hits)]
async fn read() -> u64 {
    *hits
}

// Parentheses the rewrite adds (a closure body that starts with a block,
// the value of a labelled `break`) are needed ones: no `unused_parens`.
#[ctx::propagate(user, mut hits)]
fn parenthesized(flag: bool) -> u64 {
    let c = || if flag { 1 } else { 2 } + *hits;
    let n = 'found: {
        if flag {
            break 'found user.len();
        }
        0
    };
    c() + u64::try_from(n).unwrap_or(0)
}

#[test]
fn needed_parentheses_are_lint_clean() {
    let root = Root {
        user: "abc".into(),
        hits: 10,
    };
    assert_eq!(ctx::with!(root, { parenthesized(true) }), 1 + 10 + 3);
}

#[test]
fn pedantic_clean() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out = rt.block_on(
        Root {
            user: "ab".into(),
            hits: 0,
        }
        .scope(serve()),
    );
    // keep policy: children's writes never replace the parent's hits.
    assert_eq!(out, (1 + 2) + (2 + 2) + (3 + 2) + 3);
}
