//! Async forms: async fns and methods (`&self`, `&mut self`, `self`,
//! `Arc<Self>`, trait methods), async blocks, `.await` chains, `join!` and
//! `try_join!` (with and without `ctx::bind!`), `ctx::bind!` for futures not
//! awaited where they are made (timeouts, stored and boxed futures,
//! recursion), sync fns returning `impl Future`, async fns with references,
//! generics and patterns.

use super::{ann, hits, runtime, tag, tag_async, user};
use std::fmt::Display;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

#[ctx::propagate(user)]
async fn parse_async(s: &str) -> Result<u64, std::num::ParseIntError> {
    Ok(s.parse::<u64>()? + user.len() as u64)
}

pub struct Svc {
    pub name: String,
    pub calls: u32,
}

#[ctx::propagate(user)]
pub async fn asy01_async_fn() -> String {
    user.clone()
}

#[ctx::propagate(user)]
pub async fn asy02_async_calls_sync() -> String {
    format!("{}/{}", tag(1), tag(2))
}

#[ctx::propagate(user)]
pub async fn asy03_await_chain() -> String {
    let a = asy01_async_fn().await;
    let b = tag_async(a.len() as u32).await;
    format!("{}|{}|{}", a, b, tag_async(9).await.to_uppercase())
}

impl Svc {
    #[ctx::propagate(user)]
    pub async fn asy04_async_method_ref(&self) -> String {
        format!("{} for {}", self.name, *user)
    }

    #[ctx::propagate(user)]
    pub async fn asy05_async_method_mut(&mut self) -> u32 {
        self.calls += user.len() as u32;
        self.calls
    }

    #[ctx::propagate(user)]
    pub async fn asy06_async_method_by_value(self) -> String {
        format!("{}+{}", self.name, *user)
    }

    #[ctx::propagate(user)]
    pub async fn asy07_async_method_arc_self(self: Arc<Self>) -> String {
        format!("{}@{}", self.name, *user)
    }

    #[ctx::propagate(user)]
    pub async fn asy08_async_method_calls_sibling(&self) -> String {
        let a = self.asy04_async_method_ref().await;
        let b = Svc::asy04_async_method_ref(self).await;
        format!("{} = {}", a, b)
    }
}

#[ctx::propagate(user)]
pub async fn asy09_async_block_awaited() -> String {
    let inner = async { tag_async(1).await + &tag(2) };
    inner.await
}

#[ctx::propagate(user)]
pub async fn asy10_async_move_block() -> String {
    let suffix = String::from("!");
    async move { format!("{}{}", *user, suffix) }.await
}

#[ctx::propagate(user)]
pub async fn asy11_async_with_references<'a>(s: &'a str, xs: &[u32]) -> &'a str {
    &s[..user.len() + xs.len()]
}

#[ctx::propagate(user)]
pub async fn asy12_async_generic<T: Display + Send>(t: T) -> String {
    format!("{}<{}>", *user, t)
}

#[ctx::propagate(user)]
pub async fn asy13_async_question(a: &str, b: &str) -> Result<u64, std::num::ParseIntError> {
    let x = parse_async(a).await?;
    let y = parse_async(b).await?;
    Ok(x * y)
}

#[ctx::propagate(user)]
pub fn asy14_returns_impl_future() -> impl Future<Output = String> {
    let u = user.clone();
    async move { format!("later {}", u) }
}

#[ctx::propagate(user)]
pub fn asy15_returns_boxed_future() -> Pin<Box<dyn Future<Output = String> + Send>> {
    let u = user.to_uppercase();
    Box::pin(async move { u })
}

#[ctx::propagate(user)]
pub async fn asy16_recursion_with_bind(n: u32) -> String {
    if n == 0 {
        return user.clone();
    }
    let next = Box::pin(ctx::bind!(asy16_recursion_with_bind(n - 1)));
    format!("{}.", next.await)
}

#[ctx::propagate(user)]
pub async fn asy17_join_macro() -> (String, String) {
    tokio::join!(ctx::bind!(asy01_async_fn()), ctx::bind!(tag_async(2)))
}

#[ctx::propagate(user)]
pub async fn asy18_try_join_macro() -> Result<(u64, u64), std::num::ParseIntError> {
    tokio::try_join!(ctx::bind!(parse_async("1")), ctx::bind!(parse_async("2")))
}

#[ctx::propagate(user)]
pub async fn asy19_bind_timeout() -> String {
    let d = Duration::from_secs(5);
    tokio::time::timeout(d, ctx::bind!(tag_async(5)))
        .await
        .unwrap()
}

#[ctx::propagate(user)]
pub async fn asy20_bind_stored_future() -> String {
    let fut = ctx::bind!(tag_async(6));
    let first = tag(0);
    format!("{} {}", first, fut.await)
}

#[ctx::propagate(user)]
pub async fn asy21_loop_with_awaits() -> String {
    let mut out = String::new();
    for i in 0..3 {
        out.push_str(&tag_async(i).await);
        tokio::task::yield_now().await;
    }
    out
}

#[ctx::propagate(mut hits)]
pub async fn asy22_mut_key_across_awaits() -> u32 {
    ctx::set!(hits, *hits + 1);
    tokio::task::yield_now().await;
    ctx::set!(hits, *hits * 10);
    *hits
}

pub trait Fetch {
    #[ctx::propagate(user)]
    async fn asy23_async_trait_method(&self) -> String;
}

impl Fetch for Svc {
    #[ctx::propagate(user)]
    async fn asy23_async_trait_method(&self) -> String {
        format!("fetch {} {}", self.name, *user)
    }
}

#[ctx::propagate(user)]
pub async fn asy24_async_early_return(skip: bool) -> String {
    if skip {
        return format!("skipped {}", *user);
    }
    tag_async(1).await
}

#[ctx::propagate(user)]
pub async fn asy25_async_impl_trait_arg(x: impl Into<String>) -> String {
    format!("{}{}", x.into(), tag_async(0).await)
}

#[ctx::propagate(user)]
pub async fn asy26_async_patterns_and_mut((a, b): (u32, u32), mut v: Vec<String>) -> Vec<String> {
    v.push(tag_async(a + b).await);
    v
}

#[ctx::propagate(user)]
pub async fn asy27_async_let_else(o: Option<u32>) -> String {
    let Some(n) = o else {
        return asy01_async_fn().await;
    };
    tag_async(n).await
}

#[ctx::propagate(user)]
pub async fn asy28_await_in_match(n: u32) -> String {
    match n {
        0 => asy01_async_fn().await,
        n if n < 5 => tag_async(n).await,
        _ => format!("big {}", *user),
    }
}

#[ctx::propagate(user)]
pub async fn asy29_await_in_closure_built_future() -> Vec<String> {
    let make = |n: u32| ctx::bind!(tag_async(n));
    let mut out = Vec::new();
    for f in [make(1), make(2)] {
        out.push(f.await);
    }
    out
}

#[ctx::propagate(user)]
pub async fn asy30_impl_future_param<F: Future<Output = u32>>(f: F) -> String {
    tag_async(f.await).await
}

#[ctx::propagate(user)]
pub async fn asy31_async_block_returning_result() -> Result<u64, std::num::ParseIntError> {
    let fut = async {
        let n = parse_async("4").await?;
        Ok::<u64, std::num::ParseIntError>(n * 2)
    };
    fut.await
}

#[ctx::propagate(user)]
pub async fn asy32_join_without_bind(s: &Svc) -> (String, String, String) {
    tokio::join!(asy01_async_fn(), tag_async(2), s.asy04_async_method_ref())
}

#[ctx::propagate(user)]
pub async fn asy33_try_join_without_bind() -> Result<u64, std::num::ParseIntError> {
    let (a, b) = tokio::try_join!(parse_async("1"), parse_async("2"))?;
    Ok(a * 10 + b)
}

#[ctx::propagate(user)]
pub async fn asy34_join_stored_future() -> String {
    let later = tag_async(3);
    let (a, b) = tokio::join!(later, async { tag_async(4).await + &tag(5) });
    format!("{}|{}", a, b)
}

fn svc(name: &str) -> Svc {
    Svc {
        name: name.into(),
        calls: 0,
    }
}

pub fn check() {
    let rt = runtime();
    rt.block_on(async {
        assert_eq!(ann().scope(asy01_async_fn()).await, "ann");
        assert_eq!(ann().scope(asy02_async_calls_sync()).await, "ann1/ann2");
        assert_eq!(ann().scope(asy03_await_chain()).await, "ann|ann3|ANN9");
        let s = svc("svc");
        assert_eq!(ann().scope(s.asy04_async_method_ref()).await, "svc for ann");
        let mut m = svc("m");
        assert_eq!(ann().scope(m.asy05_async_method_mut()).await, 3);
        assert_eq!(m.calls, 3);
        assert_eq!(
            ann().scope(svc("v").asy06_async_method_by_value()).await,
            "v+ann"
        );
        assert_eq!(
            ann()
                .scope(Arc::new(svc("a")).asy07_async_method_arc_self())
                .await,
            "a@ann"
        );
        assert_eq!(
            ann().scope(s.asy08_async_method_calls_sibling()).await,
            "svc for ann = svc for ann"
        );
        assert_eq!(ann().scope(asy09_async_block_awaited()).await, "ann1ann2");
        assert_eq!(ann().scope(asy10_async_move_block()).await, "ann!");
        assert_eq!(
            ann()
                .scope(asy11_async_with_references("abcdefgh", &[1, 2]))
                .await,
            "abcde"
        );
        assert_eq!(ann().scope(asy12_async_generic(4)).await, "ann<4>");
        assert_eq!(ann().scope(asy13_async_question("1", "2")).await, Ok(20));
        assert!(ann().scope(asy13_async_question("1", "x")).await.is_err());
        assert_eq!(
            ctx::with!(ann(), { asy14_returns_impl_future().await }),
            "later ann"
        );
        let fut = ctx::with!(ann(), { asy15_returns_boxed_future() });
        assert_eq!(fut.await, "ANN");
        assert_eq!(ann().scope(asy16_recursion_with_bind(3)).await, "ann...");
        assert_eq!(
            ann().scope(asy17_join_macro()).await,
            ("ann".to_string(), "ann2".to_string())
        );
        assert_eq!(ann().scope(asy18_try_join_macro()).await, Ok((4, 5)));
        assert_eq!(ann().scope(asy19_bind_timeout()).await, "ann5");
        assert_eq!(ann().scope(asy20_bind_stored_future()).await, "ann0 ann6");
        assert_eq!(ann().scope(asy21_loop_with_awaits()).await, "ann0ann1ann2");
        let root = super::Req { hits: 2, ..ann() };
        let (out, root) = root.scope_returning(asy22_mut_key_across_awaits()).await;
        assert_eq!((out, root.hits), (30, 30));
        assert_eq!(
            ann().scope(s.asy23_async_trait_method()).await,
            "fetch svc ann"
        );
        assert_eq!(
            ann().scope(asy24_async_early_return(true)).await,
            "skipped ann"
        );
        assert_eq!(ann().scope(asy24_async_early_return(false)).await, "ann1");
        assert_eq!(
            ann().scope(asy25_async_impl_trait_arg("x-")).await,
            "x-ann0"
        );
        assert_eq!(
            ann()
                .scope(asy26_async_patterns_and_mut((1, 2), vec!["a".into()]))
                .await,
            ["a", "ann3"]
        );
        assert_eq!(ann().scope(asy27_async_let_else(Some(4))).await, "ann4");
        assert_eq!(ann().scope(asy27_async_let_else(None)).await, "ann");
        assert_eq!(ann().scope(asy28_await_in_match(0)).await, "ann");
        assert_eq!(ann().scope(asy28_await_in_match(3)).await, "ann3");
        assert_eq!(ann().scope(asy28_await_in_match(9)).await, "big ann");
        assert_eq!(
            ann().scope(asy29_await_in_closure_built_future()).await,
            ["ann1", "ann2"]
        );
        assert_eq!(
            ann().scope(asy30_impl_future_param(async { 8 })).await,
            "ann8"
        );
        assert_eq!(
            ann().scope(asy31_async_block_returning_result()).await,
            Ok(14)
        );
        assert_eq!(
            ann().scope(asy32_join_without_bind(&s)).await,
            ("ann".into(), "ann2".into(), "svc for ann".into())
        );
        assert_eq!(ann().scope(asy33_try_join_without_bind()).await, Ok(45));
        let carol = super::Req {
            user: "carol".into(),
            ..ann()
        };
        assert_eq!(carol.scope(asy33_try_join_without_bind()).await, Ok(67));
        assert_eq!(
            ann().scope(asy34_join_stored_future()).await,
            "ann3|ann4ann5"
        );
    });
}

// Not yet supported (valid Rust that fails with `#[ctx::propagate]`):
//
// Edition 2024 only: a sync fn returning `impl Trait` captures the hidden
// context's lifetime, so its value cannot leave the root or outlive a
// write in the caller (error[E0716]: temporary value dropped while
// borrowed); in 2018 and 2021 it can. `asy14` and `sig07`/`sig08` are
// therefore consumed inside `with!`:
//
//     #[ctx::propagate(user)]
//     fn later() -> impl Future<Output = String> { let u = user.clone(); async move { u } }
//     let fut = ctx::with!(ann(), { later() }); // E0716 in edition 2024
