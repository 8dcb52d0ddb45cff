//! Rules 4.5 (snapshot at spawn), 4.6 (no pollution), 4.7 (nested
//! rebinding unwinds), 4.8 (ambient mirror); scenarios 3, 4, 5, 8.
#![cfg(feature = "tokio")]

mod common;
use common::*;
use std::sync::mpsc;

#[ctx::propagate(user)]
fn read_user() -> String {
    user.clone()
}

// Scenario 3: a value set in the handler is read in spawn_blocking,
// std::thread and a rayon pool; never the default.
#[ctx::propagate(mut user)]
async fn handler_sets_then_submits() -> Vec<String> {
    ctx::set!(user, "set-in-handler".to_string());
    let a = tokio::task::spawn_blocking(read_user).await.unwrap();
    let b = std::thread::spawn(read_user).join().unwrap();
    let (tx, rx) = mpsc::channel();
    rayon::spawn(move || tx.send(read_user()).unwrap());
    let c = rx.recv().unwrap();
    vec![a, b, c]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario3_executor_submit_sees_the_handlers_value() {
    let out = req("default", 3).scope(handler_sets_then_submits()).await;
    assert_eq!(out, ["set-in-handler"; 3]);
}

// Scenario 4: parent sets A, spawns, sets B; the child sees A; a
// re-submitted job sees B.
#[ctx::propagate(mut user)]
async fn capture_timing() -> (String, String, String) {
    ctx::set!(user, "A".to_string());
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let first = tokio::task::spawn_blocking(move || {
        go_rx.recv().unwrap();
        read_user()
    });
    ctx::set!(user, "B".to_string());
    go_tx.send(()).unwrap();
    let first = first.await.unwrap();
    let again = tokio::task::spawn_blocking(read_user).await.unwrap();
    let thread = std::thread::spawn(read_user).join().unwrap();
    (first, again, thread)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario4_child_sees_the_value_at_spawn() {
    let (first, again, thread) = req("root", 4).scope(capture_timing()).await;
    assert_eq!(first, "A");
    assert_eq!(again, "B");
    assert_eq!(thread, "B");
}

// Scenario 5: a job writes on a reused worker thread; the next request's
// job must not see it, and plain jobs on that thread see no context.
#[ctx::propagate(mut user)]
fn polluting_job() -> String {
    ctx::set!(user, "polluter".to_string());
    read_user()
}

#[ctx::propagate(user)]
async fn next_request_job() -> (String, Option<String>) {
    tokio::task::spawn_blocking(read_user)
        .await
        .map(|u| (u, None))
        .unwrap()
}

#[test]
fn scenario5_no_pollution_across_pool_jobs() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        #[ctx::propagate(mut user)]
        async fn first() -> String {
            tokio::task::spawn_blocking(polluting_job).await.unwrap()
        }
        assert_eq!(req("r1", 1).scope(first()).await, "polluter");
        // A plain job on the (single, reused) blocking thread sees nothing.
        let plain = tokio::task::spawn_blocking(ambient_user).await.unwrap();
        assert_eq!(plain, None);
        let (u, _) = req("r2", 2).scope(next_request_job()).await;
        assert_eq!(u, "r2");
    });
    // Same on a one-thread rayon pool.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let first = pool.install(|| ctx::with!(req("r1", 1), { polluting_job() }));
    assert_eq!(first, "polluter");
    assert_eq!(pool.install(ambient_user), None);
    let second = pool.install(|| ctx::with!(req("r2", 2), { read_user() }));
    assert_eq!(second, "r2");
    assert_eq!(ambient_user(), None);
}

// Scenario 8 / rule 4.7: an inner root binds "bob"; after it — also after a
// panic or a cancelled future inside it — the outer code sees "alice".
#[ctx::propagate(user)]
fn nested_sync() -> Vec<String> {
    let mut seen = vec![user.clone()];
    seen.push(ctx::with!(req("bob", 2), { read_user() }));
    seen.push(user.clone());
    seen.push(ambient_user().unwrap());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        ctx::with!(req("bob", 2), {
            let _ = read_user();
            panic!("inside the inner scope")
        })
    }));
    assert!(r.is_err());
    seen.push(read_user());
    seen.push(ambient_user().unwrap());
    seen
}

#[ctx::propagate(user)]
async fn waits_forever() {
    let _ = user.len();
    std::future::pending::<()>().await;
}

#[ctx::propagate(user)]
async fn nested_async() -> Vec<String> {
    let mut seen = vec![read_user()];
    seen.push(req("bob", 2).scope(async_read()).await);
    seen.push(read_user());
    let cancelled = tokio::time::timeout(
        std::time::Duration::from_millis(10),
        req("bob", 2).scope(waits_forever()),
    )
    .await;
    assert!(cancelled.is_err());
    seen.push(read_user());
    seen.push(ambient_user().unwrap());
    seen
}

#[ctx::propagate(user)]
async fn async_read() -> String {
    tokio::task::yield_now().await;
    read_user()
}

#[test]
fn scenario8_nested_rebinding_unwinds_on_exit_and_panic() {
    let seen = ctx::with!(req("alice", 1), { nested_sync() });
    assert_eq!(seen, ["alice", "bob", "alice", "alice", "alice", "alice"]);
    assert_eq!(ambient_user(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario8_nested_rebinding_unwinds_on_cancel() {
    let seen = req("alice", 1).scope(nested_async()).await;
    assert_eq!(seen, ["alice", "bob", "alice", "alice", "alice"]);
}

// Rule 4.8: the mirror returns what the function sees, per poll, and None
// outside any scope.
#[ctx::propagate(mut user)]
async fn mirror_follows_the_task() -> Vec<Option<String>> {
    let mut seen = vec![ambient_user()];
    tokio::task::yield_now().await;
    seen.push(ambient_user());
    ctx::set!(user, "changed".to_string());
    seen.push(ambient_user());
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ambient_mirror_matches_the_function_and_is_empty_outside() {
    assert_eq!(ambient_user(), None);
    let a = tokio::spawn(req("t1", 1).scope(mirror_follows_the_task()));
    let b = tokio::spawn(req("t2", 2).scope(mirror_follows_the_task()));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    let s = |v: &str| Some(v.to_string());
    assert_eq!(a, [s("t1"), s("t1"), s("changed")]);
    assert_eq!(b, [s("t2"), s("t2"), s("changed")]);
    assert_eq!(ambient_user(), None);
}

/// A function without `mut` keys: its children cannot write, so they share
/// one read-only snapshot of the frame current at the spawn.
#[ctx::propagate(user)]
async fn read_only_fan_out(
    gate: std::sync::Arc<tokio::sync::Semaphore>,
) -> Vec<tokio::task::JoinHandle<String>> {
    let waiting = tokio::spawn(async move {
        gate.acquire().await.unwrap().forget();
        read_user()
    });
    let now = tokio::spawn(async move { read_user() });
    vec![waiting.into_inner(), now.into_inner()]
}

#[ctx::propagate(mut user)]
async fn writes_between_read_only_spawns() -> Vec<String> {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
    ctx::set!(user, "first".to_string());
    let mut early = read_only_fan_out(gate.clone()).await;
    ctx::set!(user, "second".to_string());
    let late = read_only_fan_out(gate.clone()).await;
    gate.add_permits(2);
    let mut out = Vec::new();
    for h in early.drain(..).chain(late) {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_children_see_the_frame_at_their_spawn() {
    for _ in 0..20 {
        let out = req("root", 9)
            .scope(writes_between_read_only_spawns())
            .await;
        // The first two were spawned while `user` was "first" (one of them
        // reads after the parent changed it), the last two after "second".
        assert_eq!(out, ["first", "first", "second", "second"]);
    }
}
