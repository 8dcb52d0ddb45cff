//! Async bodies: async methods returning borrows of `self`, callbacks held
//! across awaits, nested roots (`with!` and `scope`) inside a propagated
//! async fn, timers, labeled blocks around an await, `return` in closures,
//! async closures, writes in async blocks, `select!` arms, callbacks handed
//! to plain code.

use super::{ann, hits, runtime, user};
use std::time::Duration;

#[ctx::propagate(user)]
fn tag(n: u32) -> String {
    format!("{}{}", *user, n)
}

#[ctx::propagate(user)]
async fn tag_async(n: u32) -> String {
    format!("{}{}", *user, n)
}

fn bob() -> super::Req {
    super::Req {
        user: "bob".into(),
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

pub fn check() {
    let rt = runtime();
    rt.block_on(async {
        let svc = Svc { name: "svc".into() };
        assert_eq!(
            ann().scope(svc.abd01_async_borrow_of_self("x")).await,
            "svc"
        );
        let carol = super::Req {
            user: "carol".into(),
            ..ann()
        };
        assert_eq!(carol.scope(svc.abd01_async_borrow_of_self("x")).await, "x");
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
    });
}

// Not yet supported (valid Rust that fails with `#[ctx::propagate]`):
//
// An early `return` in a propagated async fn whose value needs a coercion
// to the declared return type: the body's type is taken from the first
// `return` (error[E0308]: mismatched types, expected `&String`, found
// `&str`; error[E0271]: expected `{async block}` to be a future that
// resolves to `&str`, but it resolves to `&String`). The same with
// `return Box::new(x)` in a fn returning `Box<dyn Display>`:
//
//     #[ctx::propagate(user)]
//     async fn pick<'a>(&'a self, other: &'a str) -> &'a str {
//         if user.len() == 3 {
//             return &self.name;
//         }
//         other
//     }
