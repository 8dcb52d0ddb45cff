//! Async bodies: async methods returning borrows of `self`, callbacks held
//! across awaits, nested roots (`with!` and `scope`) inside a propagated
//! async fn, timers, labeled blocks around an await, `return` in closures,
//! async closures, writes in async blocks, `select!` arms (propagated branch
//! futures, preconditions and handlers that read a key, patterns that
//! shadow one), callbacks handed to plain code, early returns that coerce
//! to the declared output.

use super::{ann, hits, runtime, tag, tag_async, user};
use std::fmt::Display;
use std::time::Duration;

fn bob() -> super::Req {
    super::Req {
        user: "bob".into(),
        ..ann()
    }
}

fn carol() -> super::Req {
    super::Req {
        user: "carol".into(),
        ..ann()
    }
}

pub struct Svc {
    pub name: String,
}

impl Svc {
    #[ctx::propagate(user)]
    pub async fn abd01_async_borrow_of_self<'a>(&'a self, other: &'a str) -> &'a str {
        let chosen: &'a str = if user.len() == 3 { &self.name } else { other };
        chosen
    }
}

#[ctx::propagate(user)]
pub async fn abd02_callback_across_await(f: impl Fn(u32) -> u32) -> String {
    let a = f(1);
    tokio::task::yield_now().await;
    format!("{}{}{}", *user, a, f(2))
}

#[ctx::propagate(user)]
pub async fn abd03_nested_with_root() -> (String, String) {
    let inner = ctx::with!(bob(), { tag(1) });
    (inner, tag(2))
}

#[ctx::propagate(user)]
pub async fn abd04_nested_scope() -> (String, String) {
    let inner = bob().scope(tag_async(1)).await;
    (inner, tag_async(2).await)
}

#[ctx::propagate(user)]
pub async fn abd05_timer_then_read() -> String {
    tokio::time::sleep(Duration::from_millis(1)).await;
    tag(5)
}

#[ctx::propagate(user)]
pub async fn abd06_labeled_block_with_await() -> String {
    'b: {
        if user.is_empty() {
            break 'b String::new();
        }
        tag_async(1).await
    }
}

#[ctx::propagate(user)]
pub async fn abd07_return_in_closure() -> Vec<String> {
    let f = |n: u32| {
        if n == 0 {
            return "zero".to_string();
        }
        tag(n)
    };
    vec![f(0), f(1)]
}

#[ctx::propagate(user)]
pub async fn abd08_async_closure() -> String {
    let f = async |n: u32| tag(n);
    f(1).await + &f(2).await
}

#[ctx::propagate(mut hits)]
pub async fn abd09_write_in_async_block() -> u32 {
    async { ctx::set!(hits, *hits + 3) }.await;
    *hits
}

#[ctx::propagate(user)]
pub async fn abd10_select_arm_reads(ready: std::future::Ready<u32>) -> String {
    let t = tag(0);
    tokio::select! {
        v = ready => format!("{}{}", t, v),
    }
}

#[ctx::propagate(user)]
pub async fn abd11_closure_to_plain_code(xs: Vec<u32>) -> Vec<String> {
    fn apply(xs: &[u32], f: impl Fn(u32) -> String) -> Vec<String> {
        xs.iter().map(|&x| f(x)).collect()
    }
    apply(&xs, |x| tag(x))
}

#[ctx::propagate(user)]
pub async fn abd12_await_in_while_let() -> String {
    let mut pending = vec![2, 1];
    let mut out = String::new();
    while let Some(n) = pending.pop() {
        out.push_str(&tag_async(n).await);
    }
    out
}

#[ctx::propagate(user)]
pub async fn abd13_await_in_format_args() -> String {
    format!("{}+{}", tag_async(1).await, tag_async(2).await)
}

#[ctx::propagate(mut hits)]
pub async fn abd14_write_across_awaits_in_loop() -> u32 {
    for i in 1..=3 {
        ctx::set!(hits, *hits + i);
        tokio::task::yield_now().await;
    }
    *hits
}

#[ctx::propagate(user)]
pub async fn abd15_select_precondition_and_handler(first: bool) -> String {
    tokio::select! {
        biased;
        s = tag_async(1), if first && !user.is_empty() => format!("{}/{}", s, *user),
        n = tag_async(2) => format!("{}+{}", n, user.len()),
    }
}

#[ctx::propagate(user)]
pub async fn abd16_select_pattern_shadows_key(o: Option<u32>) -> String {
    tokio::select! {
        Some(user) = std::future::ready(o) => format!("{}{}", user, tag(0)),
        else => tag(9),
    }
}

impl Svc {
    #[ctx::propagate(user)]
    pub async fn abd17_early_return_coerces_borrow<'a>(&'a self, other: &'a str) -> &'a str {
        if user.len() == 3 {
            return &self.name;
        }
        tokio::task::yield_now().await;
        other
    }
}

#[ctx::propagate(user)]
pub async fn abd18_early_return_coerces_box(n: u32) -> Box<dyn Display> {
    if n == 0 {
        return Box::new(user.clone());
    }
    let t = tag_async(n).await;
    Box::new(t.len())
}

pub fn check() {
    let rt = runtime();
    rt.block_on(async {
        let svc = Svc { name: "svc".into() };
        assert_eq!(
            ann().scope(svc.abd01_async_borrow_of_self("x")).await,
            "svc"
        );
        assert_eq!(
            carol().scope(svc.abd01_async_borrow_of_self("x")).await,
            "x"
        );
        assert_eq!(
            ann().scope(abd02_callback_across_await(|x| x * 3)).await,
            "ann36"
        );
        assert_eq!(
            ann().scope(abd03_nested_with_root()).await,
            ("bob1".to_string(), "ann2".to_string())
        );
        assert_eq!(
            ann().scope(abd04_nested_scope()).await,
            ("bob1".to_string(), "ann2".to_string())
        );
        assert_eq!(ann().scope(abd05_timer_then_read()).await, "ann5");
        assert_eq!(ann().scope(abd06_labeled_block_with_await()).await, "ann1");
        assert_eq!(
            ann().scope(abd07_return_in_closure()).await,
            ["zero", "ann1"]
        );
        assert_eq!(ann().scope(abd08_async_closure()).await, "ann1ann2");
        let (out, root) = ann().scope_returning(abd09_write_in_async_block()).await;
        assert_eq!((out, root.hits), (3, 3));
        assert_eq!(
            ann()
                .scope(abd10_select_arm_reads(std::future::ready(9)))
                .await,
            "ann09"
        );
        assert_eq!(
            ann().scope(abd11_closure_to_plain_code(vec![1, 2])).await,
            ["ann1", "ann2"]
        );
        assert_eq!(ann().scope(abd12_await_in_while_let()).await, "ann1ann2");
        assert_eq!(ann().scope(abd13_await_in_format_args()).await, "ann1+ann2");
        let (out, root) = ann()
            .scope_returning(abd14_write_across_awaits_in_loop())
            .await;
        assert_eq!((out, root.hits), (6, 6));
        assert_eq!(
            ann()
                .scope(abd15_select_precondition_and_handler(true))
                .await,
            "ann1/ann"
        );
        assert_eq!(
            ann()
                .scope(abd15_select_precondition_and_handler(false))
                .await,
            "ann2+3"
        );
        assert_eq!(
            bob().scope(abd16_select_pattern_shadows_key(Some(4))).await,
            "4bob0"
        );
        assert_eq!(
            bob().scope(abd16_select_pattern_shadows_key(None)).await,
            "bob9"
        );
        assert_eq!(
            ann()
                .scope(svc.abd17_early_return_coerces_borrow("x"))
                .await,
            "svc"
        );
        assert_eq!(
            carol()
                .scope(svc.abd17_early_return_coerces_borrow("x"))
                .await,
            "x"
        );
        let shown = |b: Box<dyn Display>| b.to_string();
        assert_eq!(
            shown(ann().scope(abd18_early_return_coerces_box(0)).await),
            "ann"
        );
        assert_eq!(
            shown(carol().scope(abd18_early_return_coerces_box(2)).await),
            "6"
        );
    });
}
