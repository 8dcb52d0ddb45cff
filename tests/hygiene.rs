//! Generated code names only absolute paths: a user shadowing `Result`,
//! `Option`, `core`, `std` names, `Box` or `Vec` changes nothing.
#![cfg(feature = "tokio")]
#![allow(dead_code, non_camel_case_types)]

struct Result;
struct Option;
struct Box;
struct Vec;
struct String;
struct Future;
mod core {}

ctx::keys! {
    pub user: ::std::string::String;
    #[merge(append)] pub audit: ::std::vec::Vec<u8>;
}

#[derive(ctx::ContextFields)]
struct Root {
    user: ::std::string::String,
    audit: ::std::vec::Vec<u8>,
    #[ctx(skip)]
    other: u8,
}

#[ctx::propagate(mut user, audit)]
fn sync_fn(x: u8) -> usize {
    ctx::set!(user, ::std::format!("{}{x}", *user));
    user.len() + audit.len()
}

#[ctx::propagate(mut user, audit)]
async fn async_fn() -> usize {
    let n = tokio::spawn(async move { sync_fn(1) }).await.unwrap();
    let m = tokio::task::spawn_blocking(move || sync_fn(2))
        .await
        .unwrap();
    n + m + ctx::bind!(inner()).await
}

#[ctx::propagate(user)]
async fn inner() -> usize {
    user.len()
}

#[test]
fn macros_are_immune_to_shadowed_names() {
    let root = Root {
        user: "a".into(),
        audit: ::std::vec![1],
        other: 0,
    };
    assert_eq!(ctx::with!(root, { sync_fn(9) }), 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let root = Root {
        user: "a".into(),
        audit: ::std::vec![],
        other: 0,
    };
    let (n, root) = rt.block_on(root.scope_returning(async_fn()));
    assert_eq!(root.user, "a12");
    assert_eq!(n, 2 + 3 + 3);
}
