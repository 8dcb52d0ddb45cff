//! The seed scenario in Rust: a sync endpoint run in `spawn_blocking`
//! authenticates the user; a logging middleware that awaited it sees the
//! user after the join; a middleware that runs the endpoint in a spawned
//! task sees it too. Prints what each middleware saw and exits non-zero if
//! any saw the wrong value.
//!
//! Run with `cargo run --example middleware`.

use std::process::ExitCode;

ctx::keys! {
    /// The authenticated user, if any.
    pub user: Option<String>;
    /// The id of the request being served.
    pub request_id: u64;
}

#[derive(ctx::ContextFields)]
struct Request {
    user: Option<String>,
    request_id: u64,
    #[ctx(skip)]
    token: String,
}

/// A sync dependency: checks the token and records who the user is.
#[ctx::propagate(mut user, request_id)]
fn authenticate(token: &str) {
    if let Some(name) = token.strip_prefix("token-") {
        ctx::set!(user, Some(name.to_string()));
    }
}

/// A sync endpoint, run on the blocking pool like a sync handler would be.
#[ctx::propagate(mut user, request_id)]
async fn endpoint(token: String) -> u16 {
    tokio::task::spawn_blocking(move || authenticate(&token))
        .await
        .expect("endpoint panicked");
    if user.is_some() { 200 } else { 401 }
}

/// Logs who the request was served for, after the endpoint returned.
#[ctx::propagate(mut user, request_id)]
async fn logging_middleware(token: String) -> (u16, Option<String>) {
    let status = endpoint(token).await;
    let seen = user.clone();
    println!(
        "logging_middleware     request {} -> {status}, user = {:?}",
        *request_id,
        ctx::current::<user>().and_then(|u| u.clone())
    );
    (status, seen)
}

/// Runs the endpoint in a spawned task and reads the user at response time.
#[ctx::propagate(mut user, request_id)]
async fn middleware_using_tasks(token: String) -> (u16, Option<String>) {
    let status = tokio::spawn(endpoint(token)).await.expect("task panicked");
    let seen = user.clone();
    println!(
        "middleware_using_tasks request {} -> {status}, user = {seen:?}",
        *request_id
    );
    (status, seen)
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut failures = 0;
    for (id, token) in [(1, "token-alice"), (2, "token-bob"), (3, "bad")] {
        let expected = token.strip_prefix("token-").map(String::from);
        let req = || Request {
            user: None,
            request_id: id,
            token: token.to_string(),
        };

        let r = req();
        let token = r.token.clone();
        let (_, seen) = r.scope(logging_middleware(token)).await;
        failures += usize::from(seen != expected);

        let r = req();
        let token = r.token.clone();
        let ((_, seen), root) = r.scope_returning(middleware_using_tasks(token)).await;
        failures += usize::from(seen != expected);
        failures += usize::from(root.user != expected);
    }
    if failures == 0 {
        println!("every middleware saw the user the endpoint authenticated");
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} middleware(s) saw the wrong user");
        ExitCode::FAILURE
    }
}
