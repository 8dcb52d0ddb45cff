//! Rule 4.4: every spawn boundary in a propagated body carries the context,
//! captured at the spawn call, and mirrors it for ambient readers.
#![cfg(feature = "tokio")]

mod common;
use common::*;

#[ctx::propagate(user, request_id)]
fn seen() -> String {
    format!("{}#{}|{:?}", *user, *request_id, ambient_user())
}

fn expected(u: &str, id: u64) -> String {
    format!("{u}#{id}|Some({u:?})")
}

#[ctx::propagate(user, request_id)]
async fn via_tokio_spawn() -> (String, String) {
    let a = tokio::spawn(async move { seen() }).await.unwrap();
    let b = tokio::task::spawn(async { seen() }).await.unwrap();
    (a, b)
}

#[ctx::propagate(user, request_id)]
async fn via_spawn_blocking() -> String {
    tokio::task::spawn_blocking(|| seen()).await.unwrap()
}

#[ctx::propagate(user, request_id)]
async fn nested_spawns() -> String {
    tokio::spawn(async move {
        tokio::task::spawn_blocking(move || std::thread::spawn(seen).join().unwrap())
            .await
            .unwrap()
    })
    .await
    .unwrap()
}

#[ctx::propagate(user, request_id)]
async fn via_join_set() -> Vec<String> {
    let mut set = ctx::JoinSet::new();
    set.spawn(async move { seen() });
    set.spawn_blocking(move || seen());
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out
}

#[ctx::propagate(user, request_id)]
async fn via_spawn_local() -> String {
    tokio::task::spawn_local(async move { seen() })
        .await
        .unwrap()
}

#[ctx::propagate(user, request_id)]
fn via_threads() -> Vec<String> {
    let a = std::thread::spawn(move || seen()).join().unwrap();
    let b = std::thread::Builder::new()
        .name("worker".into())
        .spawn(move || seen())
        .unwrap()
        .join()
        .unwrap();
    let c = std::thread::scope(|s| s.spawn(|| seen()).join().unwrap());
    vec![a, b, c]
}

#[ctx::propagate(user, request_id)]
fn via_rayon() -> Vec<String> {
    use rayon::prelude::*;
    let (a, b) = rayon::join(|| seen(), || seen());
    let mut c = String::new();
    rayon::scope(|s| {
        s.spawn(|_| c = seen());
    });
    let (tx, rx) = std::sync::mpsc::channel();
    rayon::spawn(move || tx.send(seen()).unwrap());
    let d = rx.recv().unwrap();
    let many: Vec<String> = (0..64).into_par_iter().map(|_| seen()).collect();
    let mut out = vec![a, b, c, d];
    out.extend(many);
    out
}

#[ctx::propagate(user, request_id)]
async fn lexical_closures_and_blocks() -> (String, String) {
    let f = || seen();
    let from_closure = f();
    let from_block = async { seen() }.await;
    (from_closure, from_block)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_spawn_carries_the_context() {
    let (a, b) = req("ann", 1).scope(via_tokio_spawn()).await;
    assert_eq!(a, expected("ann", 1));
    assert_eq!(b, expected("ann", 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_blocking_carries_the_context() {
    assert_eq!(
        req("bo", 2).scope(via_spawn_blocking()).await,
        expected("bo", 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_boundaries_carry_the_context() {
    assert_eq!(req("cy", 3).scope(nested_spawns()).await, expected("cy", 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_set_carries_the_context() {
    let out = req("di", 4).scope(via_join_set()).await;
    assert_eq!(out, vec![expected("di", 4), expected("di", 4)]);
}

#[tokio::test]
async fn spawn_local_carries_the_context() {
    let local = tokio::task::LocalSet::new();
    let out = local.run_until(req("ed", 5).scope(via_spawn_local())).await;
    assert_eq!(out, expected("ed", 5));
}

#[test]
fn std_threads_carry_the_context() {
    let out = ctx::with!(req("fay", 6), { via_threads() });
    assert_eq!(out, vec![expected("fay", 6); 3]);
}

#[test]
fn rayon_carries_the_context() {
    let out = ctx::with!(req("gus", 7), { via_rayon() });
    assert_eq!(out.len(), 68);
    for s in out {
        assert_eq!(s, expected("gus", 7));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closures_and_async_blocks_see_the_context_lexically() {
    let (a, b) = req("hal", 8).scope(lexical_closures_and_blocks()).await;
    assert_eq!(a, expected("hal", 8));
    assert_eq!(b, expected("hal", 8));
}

/// Plain code that runs a closure on a thread of its own: a pool this crate
/// does not know.
fn run_on_unknown_thread<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    std::thread::scope(|s| s.spawn(f).join().unwrap())
}

/// Plain code that runs a closure while another request's context is the
/// ambient one on this thread.
fn run_inside_another_request<R>(f: impl FnOnce() -> R) -> R {
    // `(f)()`: a callee in parentheses is called as written, not probed
    // for a context parameter (a probe needs a `Copy` callee).
    ctx::with!(req("intruder", 99), { (f)() })
}

#[ctx::propagate(user, request_id)]
fn via_unknown_runners() -> (String, String, Vec<String>) {
    let elsewhere = run_on_unknown_thread(|| seen());
    let inside_other = run_inside_another_request(|| seen());
    let mapped = (0..2).map(|_| seen()).collect();
    (elsewhere, inside_other, mapped)
}

#[test]
fn closures_run_by_unknown_code_mirror_their_own_context() {
    let (elsewhere, inside_other, mapped) = ctx::with!(req("ivy", 9), { via_unknown_runners() });
    assert_eq!(elsewhere, expected("ivy", 9));
    assert_eq!(inside_other, expected("ivy", 9));
    assert_eq!(mapped, vec![expected("ivy", 9); 2]);
    assert_eq!(
        ambient_user(),
        None,
        "the mirror is restored after the root"
    );
}
