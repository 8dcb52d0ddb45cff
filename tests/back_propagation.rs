//! §5: changes made in callees, tasks, blocking closures and threads come
//! back at join; kept on normal return (also `Err`), dropped on panic or
//! cancellation; merged per key policy in join order.
#![cfg(feature = "tokio")]

mod common;
use common::*;
use rayon::prelude::*;

#[ctx::propagate(mut user)]
fn authenticate(name: &str) {
    ctx::set!(user, name.to_string());
}

// Scenario 1: a sync dependency run in a worker sets the user; the caller
// (the route and the middleware around it) sees it after join.
#[ctx::propagate(mut user)]
async fn route_with_blocking_auth() -> String {
    tokio::task::spawn_blocking(|| authenticate("alice"))
        .await
        .unwrap();
    user.clone()
}

#[ctx::propagate(mut user)]
async fn route_with_thread_auth() -> String {
    std::thread::spawn(|| authenticate("alice")).join().unwrap();
    user.clone()
}

#[ctx::propagate(mut user)]
async fn route_with_scoped_thread_auth() -> String {
    std::thread::scope(|s| s.spawn(|| authenticate("alice")).join().unwrap());
    user.clone()
}

#[ctx::propagate(mut user)]
fn route_with_rayon_auth() -> String {
    rayon::scope(|s| s.spawn(|_| authenticate("alice")));
    let after_scope = user.clone();
    ctx::set!(user, "nobody".to_string());
    let ((), n) = rayon::join(|| authenticate("alice"), || 1);
    assert_eq!(n, 1);
    format!("{after_scope}/{}", *user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario1_worker_auth_is_seen_by_the_caller_and_the_root() {
    for route in 0..3 {
        let root = req("anonymous", 1);
        let (seen, root) = match route {
            0 => root.scope_returning(route_with_blocking_auth()).await,
            1 => root.scope_returning(route_with_thread_auth()).await,
            _ => root.scope_returning(route_with_scoped_thread_auth()).await,
        };
        assert_eq!(seen, "alice", "route {route}");
        assert_eq!(
            root.user, "alice",
            "route {route}: the outermost root sees it too"
        );
    }
    let s = ctx::with!(req("anonymous", 1), { route_with_rayon_auth() });
    assert_eq!(s, "alice/alice");
}

// Scenario 2: an async route writes; middleware that ran it in a child task
// reads it at response time.
#[ctx::propagate(mut user)]
async fn async_route() -> u32 {
    tokio::task::yield_now().await;
    ctx::set!(user, "route-user".to_string());
    200
}

#[ctx::propagate(mut user)]
async fn middleware_using_tasks() -> (u32, String) {
    let status = tokio::spawn(async_route()).await.unwrap();
    (status, user.clone())
}

#[ctx::propagate(mut user)]
async fn middleware_using_join_set() -> (u32, String) {
    let mut set = ctx::JoinSet::new();
    set.spawn(async_route());
    let status = set.join_next().await.unwrap().unwrap();
    (status, user.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario2_middleware_sees_what_the_task_wrote() {
    let (status, seen) = req("anon", 2).scope(middleware_using_tasks()).await;
    assert_eq!((status, seen.as_str()), (200, "route-user"));
    let (status, seen) = req("anon", 2).scope(middleware_using_join_set()).await;
    assert_eq!((status, seen.as_str()), (200, "route-user"));
}

// Scenario 6: a child under tokio::time::timeout writes; the caller sees it.
#[ctx::propagate(mut user)]
async fn under_timeout() -> (String, String) {
    let d = std::time::Duration::from_secs(5);
    tokio::time::timeout(d, tokio::spawn(async_route()))
        .await
        .unwrap()
        .unwrap();
    let via_task = user.clone();
    ctx::set!(user, "reset".to_string());
    tokio::time::timeout(d, ctx::bind!(async_route()))
        .await
        .unwrap();
    (via_task, user.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario6_writes_under_timeout_come_back() {
    for _ in 0..20 {
        let (a, b) = req("anon", 6).scope(under_timeout()).await;
        assert_eq!(a, "route-user");
        assert_eq!(b, "route-user");
    }
}

// Scenario 7: two children write the same keys; merge policy + join order.
#[ctx::propagate(mut user, mut audit, mut first_seen, mut total)]
async fn child(name: &'static str, delay_ms: u64) {
    tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
    ctx::set!(user, name.to_string());
    let mut a = audit.clone();
    a.push(format!("{name}-1"));
    a.push(format!("{name}-2"));
    ctx::set!(audit, a);
    ctx::set!(first_seen, name.to_string());
    ctx::set!(total, *total + 10);
}

#[ctx::propagate(mut user, mut audit, mut first_seen, mut total)]
async fn fan_out() -> (String, Vec<String>, String, u64) {
    // b finishes first, but a is joined first.
    let a = tokio::spawn(child("a", 20));
    let b = tokio::spawn(child("b", 0));
    a.await.unwrap();
    b.await.unwrap();
    (user.clone(), audit.clone(), first_seen.clone(), *total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario7_fan_out_merges_by_policy_in_join_order_every_run() {
    let mut results = Vec::new();
    for _ in 0..100 {
        let mut r = req("root", 7);
        r.audit = vec!["start".into()];
        r.total = 1;
        results.push(r.scope(fan_out()).await);
    }
    let expected = (
        "b".to_string(),
        vec!["start", "a-1", "a-2", "b-1", "b-2"]
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>(),
        "root".to_string(),
        // `add(parent, child)` receives each child's whole value (1 + 10):
        // 1 + 11 + 11.
        23,
    );
    for r in results {
        assert_eq!(r, expected);
    }
}

// Scenario 10: writes before a panic or a cancellation are discarded;
// writes before an Err return are kept.
#[ctx::propagate(mut user)]
async fn fails_with_err() -> Result<(), String> {
    ctx::set!(user, "written-before-err".to_string());
    Err("nope".into())
}

#[ctx::propagate(mut user)]
async fn panics() {
    ctx::set!(user, "written-before-panic".to_string());
    panic!("child failed");
}

#[ctx::propagate(mut user)]
async fn hangs() {
    ctx::set!(user, "written-before-cancel".to_string());
    std::future::pending::<()>().await;
}

#[ctx::propagate(mut user)]
async fn failure_paths() -> Vec<String> {
    let mut seen = Vec::new();
    let r = tokio::spawn(fails_with_err()).await.unwrap();
    assert!(r.is_err());
    seen.push(user.clone());
    ctx::set!(user, "root".to_string());

    assert!(tokio::spawn(panics()).await.unwrap_err().is_panic());
    seen.push(user.clone());

    let h = tokio::spawn(hangs());
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    h.abort();
    assert!(h.await.unwrap_err().is_cancelled());
    seen.push(user.clone());

    let t = tokio::task::spawn_blocking(move || {
        ctx::set!(user, "blocking-before-panic".to_string());
        panic!("blocking failed")
    });
    assert!(t.await.is_err());
    seen.push(user.clone());

    let th = std::thread::spawn(move || {
        ctx::set!(user, "thread-before-panic".to_string());
        panic!("thread failed")
    });
    assert!(th.join().is_err());
    seen.push(user.clone());

    // A detached child changes nothing.
    let (tx, rx) = tokio::sync::oneshot::channel();
    drop(tokio::spawn(async move {
        ctx::set!(user, "detached".to_string());
        tx.send(()).unwrap();
    }));
    rx.await.unwrap();
    seen.push(user.clone());
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario10_failure_paths() {
    let seen = req("root", 10).scope(failure_paths()).await;
    assert_eq!(
        seen,
        ["written-before-err", "root", "root", "root", "root", "root"]
    );
}

// A callee's change is visible to the caller when the call returns.
#[ctx::propagate(mut user, request_id)]
fn caller_sees_callee_change() -> (String, String) {
    let before = user.clone();
    authenticate("carol");
    (before, user.clone())
}

#[test]
fn callee_changes_are_seen_by_the_caller() {
    let (before, after) = ctx::with!(req("ann", 1), { caller_sees_callee_change() });
    assert_eq!((before.as_str(), after.as_str()), ("ann", "carol"));
}

#[ctx::propagate(user, request_id)]
fn describe(i: u64) -> String {
    format!("{}#{}:{i}", *user, *request_id)
}

/// A function that may change `user` still fans out with a parallel
/// iterator: its closures read the context (they cannot change it).
#[ctx::propagate(mut user, request_id)]
fn authenticate_then_fan_out() -> Vec<String> {
    authenticate("kim");
    let out = (0..4u64).into_par_iter().map(|i| describe(i)).collect();
    authenticate("lee");
    out
}

#[test]
fn parallel_iterators_read_the_context_in_functions_that_may_change_it() {
    let expected: Vec<String> = (0..4).map(|i| format!("kim#3:{i}")).collect();
    let (out, after) = ctx::with!(req("anonymous", 3), {
        (authenticate_then_fan_out(), ambient_user())
    });
    assert_eq!(out, expected);
    assert_eq!(after.as_deref(), Some("lee"));
    // Directly in a root block, whose keys may all be changed.
    let direct: Vec<String> = ctx::with!(req("kim", 3), {
        (0..4u64).into_par_iter().map(|i| describe(i)).collect()
    });
    assert_eq!(direct, expected);
}
