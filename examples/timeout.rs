//! Deadlines: a handler looks the user's profile up under
//! `tokio::time::timeout`, in its own task and in spawned tasks. Every
//! lookup reads the request's user; a lookup that finishes in time brings
//! the profile it wrote back to the handler, one that times out does not —
//! not even when its detached task finishes later, since nothing joins it.
//! Two requests run at once; the program exits non-zero if any value seen
//! is wrong.
//!
//! Run with `cargo run --example timeout`.
//!
//! # A forgotten key is a compile error
//!
//! A lookup needs `user`; a handler that does not list it cannot start one,
//! under a timeout or anywhere else. Saved as `examples/forgotten_key.rs`,
//!
//! ```rust,ignore
//! use std::time::Duration;
//!
//! ctx::keys! {
//!     pub user: String;
//!     pub request_id: u64;
//!     pub profile: Option<String>;
//! }
//!
//! #[ctx::propagate(user, request_id, mut profile)]
//! async fn lookup_profile(delay: Duration) {
//!     tokio::time::sleep(delay).await;
//!     ctx::set!(profile, Some(format!("profile of {}", *user)));
//! }
//!
//! #[ctx::propagate(request_id, mut profile)]
//! async fn handler() {
//!     let lookup = ctx::bind!(lookup_profile(Duration::from_millis(5)));
//!     let _ = tokio::time::timeout(Duration::from_secs(5), lookup).await;
//! }
//!
//! fn main() {}
//! ```
//!
//! fails to build (`cargo build --example forgotten_key`) with:
//!
//! ```text
//! error[E0277]: context value `user` is not propagated here
//!    --> examples/forgotten_key.rs:17:29
//!     |
//!  17 |     let lookup = ctx::bind!(lookup_profile(Duration::from_millis(5)));
//!     |                             ^^^^^^^^^^^^^^ this needs `user`, which is not in the context here
//!     |
//! help: the trait `Has<user>` is not implemented for `handler::{closure#0}::{closure#0}::propagate`
//!    --> examples/forgotten_key.rs:15:1
//!     |
//!  15 | #[ctx::propagate(request_id, mut profile)]
//!     | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!     = note: add `user` to this function's #[propagate(...)] list, or give the root a field for `user`
//! help: the following other types implement trait `Has<K>`
//!    --> examples/forgotten_key.rs:15:18
//!     |
//!  15 | #[ctx::propagate(request_id, mut profile)]
//!     |                  ^^^^^^^^^^      ^^^^^^^ `handler::{closure#0}::{closure#0}::propagate` implements `Has<profile>`
//!     |                  |
//!     |                  `handler::{closure#0}::{closure#0}::propagate` implements `Has<request_id>`
//! note: required for `user` to implement `Need<handler::{closure#0}::{closure#0}::propagate>`
//!    --> examples/forgotten_key.rs:3:1
//!     |
//!   3 | / ctx::keys! {
//!   4 | |     pub user: String;
//!     | |         ^^^^
//!   5 | |     pub request_id: u64;
//!   6 | |     pub profile: Option<String>;
//!   7 | | }
//!     | |_^
//!     = note: required for `(user, request_id, Mut<profile>)` to implement `Covered<handler::{closure#0}::{closure#0}::propagate>`
//! ...
//! ```
//!
//! Adding `user` to the handler's `#[ctx::propagate(...)]` list fixes it.

use std::process::ExitCode;
use std::time::Duration;

ctx::keys! {
    /// The user the request is served for.
    pub user: String;
    /// The id of the request.
    pub request_id: u64;
    /// The user's profile, once looked up.
    pub profile: Option<String>;
}

#[derive(ctx::ContextFields)]
struct Request {
    user: String,
    request_id: u64,
    profile: Option<String>,
}

/// Generous: a fast lookup always finishes within it.
const IN_TIME: Duration = Duration::from_secs(5);
/// Short: a slow lookup never finishes within it.
const TOO_SHORT: Duration = Duration::from_millis(50);
const FAST: Duration = Duration::from_millis(5);
const SLOW: Duration = Duration::from_millis(300);

/// A plain logging function: no context parameter, reads the ambient mirror.
fn log(what: &str) {
    let user = ctx::current::<user>().map_or_else(|| "-".to_string(), |u| u.clone());
    let id = ctx::current::<request_id>().map_or(0, |id| *id);
    println!("  [request {id} user {user}] {what}");
}

/// Looks the user's profile up (in `delay`) and records it. Returns the
/// user it read.
#[ctx::propagate(user, request_id, mut profile)]
async fn lookup_profile(delay: Duration) -> String {
    log(&format!("lookup started ({} ms)", delay.as_millis()));
    tokio::time::sleep(delay).await;
    ctx::set!(profile, Some(format!("profile of {}", *user)));
    log("lookup finished, profile written");
    user.clone()
}

/// Everything the handler observed, in order.
#[derive(Debug, PartialEq)]
struct Seen {
    /// Whether each branch's timeout fired.
    timed_out: Vec<bool>,
    /// `profile` as the handler saw it after each branch.
    profile_after: Vec<Option<String>>,
    /// The user each lookup that ran to the end read.
    lookups_read: Vec<String>,
}

impl Seen {
    /// Records (and logs) the outcome of a branch.
    fn branch(&mut self, what: &str, timed_out: bool, profile: &Option<String>) {
        let outcome = if timed_out { "timed out" } else { "in time" };
        log(&format!("{what}: {outcome} -> profile {profile:?}"));
        self.timed_out.push(timed_out);
        self.profile_after.push(profile.clone());
    }
}

#[ctx::propagate(user, request_id, mut profile)]
async fn handler() -> Seen {
    let mut seen = Seen {
        timed_out: Vec::new(),
        profile_after: Vec::new(),
        lookups_read: Vec::new(),
    };

    // 1. In this task, finished in time: the write is the handler's own.
    //    (`ctx::bind!` hands the context to a propagated future that is
    //    not awaited where it is made.)
    let r = tokio::time::timeout(IN_TIME, ctx::bind!(lookup_profile(FAST))).await;
    seen.branch("1. lookup in this task", r.is_err(), profile);
    seen.lookups_read.extend(r.ok());
    ctx::set!(profile, None);

    // 2. In this task, timed out: the lookup is dropped before it writes.
    let r = tokio::time::timeout(TOO_SHORT, ctx::bind!(lookup_profile(SLOW))).await;
    seen.branch("2. lookup in this task", r.is_err(), profile);
    seen.lookups_read.extend(r.ok());

    // 3. A spawned task, joined in time: its write comes back at the join.
    let r = tokio::time::timeout(IN_TIME, tokio::spawn(lookup_profile(FAST))).await;
    seen.branch("3. lookup in a task", r.is_err(), profile);
    seen.lookups_read.extend(r.ok().and_then(Result::ok));
    ctx::set!(profile, None);

    // 4. A spawned task, timed out: its handle is dropped and the task runs
    //    on, detached, and writes — but nothing joins it, so nothing comes
    //    back, even once it has finished.
    let (finished_tx, finished) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let read = lookup_profile(SLOW).await;
        let _ = finished_tx.send(read);
    });
    let r = tokio::time::timeout(TOO_SHORT, task).await;
    seen.lookups_read.extend(finished.await.ok());
    seen.branch(
        "4. lookup in a task (it finished later, detached)",
        r.is_err(),
        profile,
    );

    // 5. A spawned task that timed out, then was joined after all: its
    //    write comes back at that later join.
    let mut task = tokio::spawn(lookup_profile(SLOW));
    let r = tokio::time::timeout(TOO_SHORT, &mut task).await;
    seen.lookups_read.extend(task.await.ok());
    seen.branch(
        "5. lookup in a task (joined after all)",
        r.is_err(),
        profile,
    );

    seen
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let request = |user: &str, request_id| Request {
        user: user.to_string(),
        request_id,
        profile: None,
    };
    #[allow(
        clippy::disallowed_methods,
        reason = "roots: each brings its own context"
    )]
    let (ann, bo) = (
        tokio::spawn(request("ann", 1).scope_returning(handler())),
        tokio::spawn(request("bo", 2).scope_returning(handler())),
    );

    let mut failures = 0;
    for (name, task) in [("ann", ann), ("bo", bo)] {
        let (seen, root) = task.await.expect("request panicked");
        let profile = Some(format!("profile of {name}"));
        let expected = Seen {
            timed_out: vec![false, true, false, true, true],
            // Every lookup that ran to the end read this request's user:
            // branches 1, 3, 4 (detached) and 5.
            lookups_read: vec![name.to_string(); 4],
            profile_after: vec![
                profile.clone(),
                None,
                profile.clone(),
                None,
                profile.clone(),
            ],
        };
        let ok = seen == expected && root.profile == profile;
        println!(
            "{name}: timed out {:?}; profile after each {:?}; lookups read {:?}; root ends with {:?} -> {}",
            seen.timed_out,
            seen.profile_after,
            seen.lookups_read,
            root.profile,
            if ok { "as expected" } else { "WRONG" }
        );
        failures += usize::from(!ok);
    }
    if failures == 0 {
        println!(
            "every lookup read its request's user; writes came back exactly from the joined ones"
        );
        ExitCode::SUCCESS
    } else {
        eprintln!("{failures} request(s) saw wrong values");
        ExitCode::FAILURE
    }
}
