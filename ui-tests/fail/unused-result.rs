// A discarded result warns in a propagated body as it does in plain code:
// a `Result` (the type is `#[must_use]`), a `#[must_use]` propagated
// function, method or awaited `async fn`, and a `#[must_use]` function of
// the standard library.
// Results that need not be used, or are discarded with `let _`, do not.
#![deny(unused_must_use)]

ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
fn check() -> Result<(), String> {
    if user.is_empty() { Err("no user".into()) } else { Ok(()) }
}

#[must_use]
#[ctx::propagate(user)]
fn greeting() -> String {
    format!("hello {}", *user)
}

#[ctx::propagate(user)]
fn log_line() -> usize {
    user.len()
}

struct Counter;

impl Counter {
    #[must_use]
    #[ctx::propagate(user)]
    fn next(&self) -> usize {
        user.len() + 1
    }
}

#[ctx::propagate(user)]
fn handler() {
    check();
    greeting();
    Counter::next(&Counter);
    let mut name = String::new();
    std::mem::replace(&mut name, user.clone());
    log_line();
    let _ = greeting();
    let _kept = Counter::next(&Counter);
}

#[must_use]
#[ctx::propagate(user)]
async fn fetch() -> usize {
    user.len()
}

#[ctx::propagate(user)]
async fn notify() -> usize {
    user.len()
}

#[ctx::propagate(user)]
async fn async_handler() -> usize {
    fetch().await;
    notify().await;
    let _ = fetch().await;
    fetch().await + notify().await
}

fn main() {}
