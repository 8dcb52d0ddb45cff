//! More spawns: propagated futures spawned in a loop, `block_in_place`,
//! `Builder::spawn_scoped`, `JoinSet::join_all`, merges through nested
//! spawns, `?` on a join, handles returned from a propagated fn and their
//! methods, writes from spawns in a loop.

use super::{ann, audit, hits, tag, tag_async, user};
use std::sync::Arc;

#[ctx::propagate(mut hits)]
fn bump(by: u32) {
    ctx::set!(hits, *hits + by);
}

#[ctx::propagate(user, mut audit)]
fn log(what: &str) {
    let mut v = audit.clone();
    v.push(format!("{}:{}", what, *user));
    ctx::set!(audit, v);
}

pub struct Svc;

impl Svc {
    #[ctx::propagate(user)]
    pub async fn fetch(&self) -> String {
        format!("fetched {}", *user)
    }
}

#[ctx::propagate(user)]
pub async fn thr01_spawn_futures_in_loop() -> Vec<String> {
    let mut out = Vec::new();
    for n in 0..2 {
        out.push(tokio::spawn(tag_async(n)).await.unwrap());
    }
    out
}

#[ctx::propagate(user)]
pub async fn thr02_block_in_place() -> String {
    tokio::task::block_in_place(|| tag(3))
}

#[ctx::propagate(user)]
pub fn thr03_builder_spawn_scoped() -> String {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("b".into())
            .spawn_scoped(s, || tag(4))
            .unwrap()
            .join()
            .unwrap()
    })
}

#[ctx::propagate(user, mut audit)]
pub async fn thr04_join_set_join_all() -> (Vec<u32>, Vec<String>) {
    let mut set = ctx::JoinSet::new();
    set.spawn(async {
        log("x");
        1
    });
    set.spawn(async {
        log("y");
        2
    });
    let mut v = set.join_all().await;
    v.sort_unstable();
    let mut a = audit.clone();
    a.sort();
    (v, a)
}

#[ctx::propagate(user, mut audit)]
pub async fn thr05_merges_through_nested_spawns() -> Vec<String> {
    tokio::spawn(async {
        tokio::task::spawn_blocking(|| log("deep")).await.unwrap();
        log("mid");
    })
    .await
    .unwrap();
    audit.clone()
}

#[ctx::propagate(user)]
pub async fn thr06_question_on_join() -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let s = tokio::spawn(async { tag(6) }).await?;
    Ok(s)
}

#[ctx::propagate(user)]
pub fn thr07_thread_closure_with_question() -> Result<String, String> {
    let r = std::thread::spawn(move || -> Result<String, String> {
        let n: u32 = "7".parse().map_err(|_| "bad".to_string())?;
        Ok(tag(n))
    })
    .join()
    .unwrap()?;
    Ok(r)
}

#[ctx::propagate(mut hits)]
pub async fn thr08_spawn_writes_in_loop() -> u32 {
    for _ in 0..3 {
        tokio::spawn(async { bump(1) }).await.unwrap();
    }
    *hits
}

#[ctx::propagate(user)]
pub async fn thr09_spawn_async_method_call() -> String {
    let s = Arc::new(Svc);
    tokio::spawn(async move { s.fetch().await }).await.unwrap()
}

#[ctx::propagate(user)]
pub fn thr10_returns_thread_handle() -> ctx::ThreadJoinHandle<String> {
    std::thread::spawn(|| tag(10))
}

#[ctx::propagate(user)]
pub async fn thr11_task_handle_methods() -> String {
    let h = tokio::spawn(async { tag(11) });
    let _abort = h.abort_handle();
    let _id = h.id();
    h.await.unwrap()
}

#[ctx::propagate(user)]
pub fn thr12_thread_handle_methods() -> String {
    let h = std::thread::Builder::new()
        .name("named".into())
        .spawn(|| tag(12))
        .unwrap();
    let name = h.thread().name().unwrap().to_string();
    format!("{} {}", name, h.join().unwrap())
}

pub fn check() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(
            ann().scope(thr01_spawn_futures_in_loop()).await,
            ["ann0", "ann1"]
        );
        assert_eq!(ann().scope(thr02_block_in_place()).await, "ann3");
        let ((values, seen), root) = ann().scope_returning(thr04_join_set_join_all()).await;
        assert_eq!(values, [1, 2]);
        assert_eq!(seen, ["x:ann", "y:ann"]);
        assert_eq!(root.audit.len(), 2);
        let (out, root) = ann()
            .scope_returning(thr05_merges_through_nested_spawns())
            .await;
        assert_eq!(out, ["deep:ann", "mid:ann"]);
        assert_eq!(root.audit, out);
        assert_eq!(ann().scope(thr06_question_on_join()).await.unwrap(), "ann6");
        let (out, root) = ann().scope_returning(thr08_spawn_writes_in_loop()).await;
        assert_eq!((out, root.hits), (3, 3));
        assert_eq!(
            ann().scope(thr09_spawn_async_method_call()).await,
            "fetched ann"
        );
        assert_eq!(ann().scope(thr11_task_handle_methods()).await, "ann11");
    });
    assert_eq!(ctx::with!(ann(), { thr03_builder_spawn_scoped() }), "ann4");
    assert_eq!(
        ctx::with!(ann(), { thr07_thread_closure_with_question() }),
        Ok("ann7".to_string())
    );
    let handle = ctx::with!(ann(), { thr10_returns_thread_handle() });
    assert_eq!(handle.join().unwrap(), "ann10");
    assert_eq!(
        ctx::with!(ann(), { thr12_thread_handle_methods() }),
        "named ann12"
    );
}

// Not counted, documented: a spawn in a propagated body returns
// `ctx::ThreadJoinHandle` / `ctx::JoinHandle`, so the plain-Rust signature
// fails (error[E0308]: mismatched types, expected `JoinHandle<String>`,
// found `ThreadJoinHandle<String>`, pointing at the attribute):
//
//     #[ctx::propagate(user)]
//     fn start() -> std::thread::JoinHandle<String> { std::thread::spawn(|| tag(1)) }
