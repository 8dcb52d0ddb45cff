//! Spawns: `tokio::spawn` (of async blocks and of propagated futures),
//! `tokio::task::spawn`, `spawn_blocking`, `Handle::spawn`, `spawn_local`,
//! `ctx::JoinSet`, `std::thread::spawn`, `thread::Builder`,
//! `thread::scope`, nested spawns; children read the snapshot taken at the
//! spawn, and their writes come back to the caller at join (dropped for an
//! aborted child).

use super::{ann, audit, audit_now, hits, hits_now, request_id, user};
use std::time::Duration;

#[ctx::propagate(user, request_id)]
fn seen() -> String {
    format!("{}#{}", *user, *request_id)
}

#[ctx::propagate(user)]
async fn seen_async() -> String {
    format!("async {}", *user)
}

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

#[ctx::propagate(user, request_id)]
pub async fn spn01_tokio_spawn_async_block() -> String {
    tokio::spawn(async move { seen() }).await.unwrap()
}

#[ctx::propagate(user)]
pub async fn spn02_tokio_spawn_propagated_future() -> String {
    tokio::spawn(seen_async()).await.unwrap()
}

#[ctx::propagate(user, request_id)]
pub async fn spn03_task_spawn_path() -> String {
    tokio::task::spawn(async { seen() }).await.unwrap()
}

#[ctx::propagate(user, request_id)]
pub async fn spn04_spawn_blocking() -> String {
    tokio::task::spawn_blocking(|| seen()).await.unwrap()
}

#[ctx::propagate(mut hits)]
pub async fn spn05_spawn_blocking_writes() -> u32 {
    tokio::task::spawn_blocking(|| bump(3)).await.unwrap();
    *hits
}

#[ctx::propagate(mut hits)]
pub async fn spn06_spawn_writes_seen_after_join() -> (u32, u32) {
    let handle = tokio::spawn(async { bump(5) });
    let before = *hits;
    handle.await.unwrap();
    (before, *hits)
}

#[ctx::propagate(user, request_id)]
pub async fn spn07_handle_spawn_method() -> String {
    let handle = tokio::runtime::Handle::current();
    handle.spawn(async move { seen() }).await.unwrap()
}

#[ctx::propagate(user, request_id)]
pub async fn spn08_join_set() -> Vec<String> {
    let mut set = ctx::JoinSet::new();
    set.spawn(async move { seen() });
    set.spawn_blocking(move || seen());
    let mut out = Vec::new();
    while let Some(r) = set.join_next().await {
        out.push(r.unwrap());
    }
    out.sort();
    out
}

#[ctx::propagate(user, mut audit)]
pub async fn spn09_join_set_appends() -> Vec<String> {
    let mut set = ctx::JoinSet::new();
    for i in 0..3 {
        set.spawn(async move { log(&format!("job{}", i)) });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    let mut v = audit.clone();
    v.sort();
    v
}

#[ctx::propagate(user, request_id)]
pub async fn spn10_nested_spawns() -> String {
    tokio::spawn(async move {
        tokio::task::spawn_blocking(move || std::thread::spawn(seen).join().unwrap())
            .await
            .unwrap()
    })
    .await
    .unwrap()
}

#[ctx::propagate(mut user, request_id)]
pub async fn spn11_child_sees_write_before_spawn() -> String {
    ctx::set!(user, "bob".to_string());
    tokio::spawn(async { seen() }).await.unwrap()
}

#[ctx::propagate(mut hits)]
pub async fn spn12_aborted_child_changes_nothing() -> (bool, u32) {
    let handle = tokio::spawn(async {
        bump(100);
        std::future::pending::<()>().await;
    });
    tokio::task::yield_now().await;
    handle.abort();
    let cancelled = handle.await.unwrap_err().is_cancelled();
    bump(1);
    (cancelled, *hits)
}

#[ctx::propagate(mut hits)]
pub async fn spn13_spawn_with_timeout_bind() -> u32 {
    tokio::time::timeout(Duration::from_secs(5), ctx::bind!(spawn_and_bump()))
        .await
        .unwrap();
    *hits
}

#[ctx::propagate(mut hits)]
async fn spawn_and_bump() {
    tokio::spawn(async { bump(7) }).await.unwrap();
}

#[ctx::propagate(user)]
pub async fn spn14_spawn_local() -> String {
    tokio::task::spawn_local(async move { seen_async().await })
        .await
        .unwrap()
}

#[ctx::propagate(user, request_id)]
pub fn spn15_thread_spawn() -> String {
    std::thread::spawn(move || seen()).join().unwrap()
}

#[ctx::propagate(user, request_id)]
pub fn spn16_thread_spawn_fn_item() -> String {
    std::thread::spawn(seen).join().unwrap()
}

#[ctx::propagate(mut hits)]
pub fn spn17_thread_writes_seen_after_join() -> u32 {
    std::thread::spawn(|| bump(4)).join().unwrap();
    *hits
}

#[ctx::propagate(user, request_id)]
pub fn spn18_thread_builder() -> String {
    std::thread::Builder::new()
        .name("shape".into())
        .spawn(move || format!("{}@{}", seen(), std::thread::current().name().unwrap()))
        .unwrap()
        .join()
        .unwrap()
}

#[ctx::propagate(user, request_id)]
pub fn spn19_thread_scope() -> Vec<String> {
    let local = String::from("borrowed");
    std::thread::scope(|s| {
        let a = s.spawn(|| seen());
        let b = s.spawn(|| format!("{} {}", local, seen()));
        vec![a.join().unwrap(), b.join().unwrap()]
    })
}

#[ctx::propagate(mut hits)]
pub fn spn20_thread_scope_writes() -> u32 {
    std::thread::scope(|s| {
        s.spawn(|| bump(2));
        s.spawn(|| bump(2));
    });
    *hits
}

#[ctx::propagate(user, mut audit)]
pub fn spn21_threads_append() -> Vec<String> {
    let a = std::thread::spawn(|| log("a"));
    let b = std::thread::spawn(|| log("b"));
    a.join().unwrap();
    b.join().unwrap();
    audit.clone()
}

#[ctx::propagate(user, request_id)]
pub async fn spn22_spawn_blocking_question() -> Result<String, String> {
    let s = tokio::task::spawn_blocking(|| seen())
        .await
        .map_err(|e| e.to_string())?;
    Ok(s.to_uppercase())
}

pub fn check() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(async {
        assert_eq!(ann().scope(spn01_tokio_spawn_async_block()).await, "ann#7");
        assert_eq!(
            ann().scope(spn02_tokio_spawn_propagated_future()).await,
            "async ann"
        );
        assert_eq!(ann().scope(spn03_task_spawn_path()).await, "ann#7");
        assert_eq!(ann().scope(spn04_spawn_blocking()).await, "ann#7");
        let (out, root) = ann().scope_returning(spn05_spawn_blocking_writes()).await;
        assert_eq!((out, root.hits), (3, 3));
        let (out, root) = ann()
            .scope_returning(spn06_spawn_writes_seen_after_join())
            .await;
        assert_eq!((out, root.hits), ((0, 5), 5));
        assert_eq!(ann().scope(spn07_handle_spawn_method()).await, "ann#7");
        assert_eq!(ann().scope(spn08_join_set()).await, ["ann#7", "ann#7"]);
        let (out, root) = ann().scope_returning(spn09_join_set_appends()).await;
        assert_eq!(out, ["job0:ann", "job1:ann", "job2:ann"]);
        assert_eq!(root.audit.len(), 3);
        assert_eq!(ann().scope(spn10_nested_spawns()).await, "ann#7");
        let (out, root) = ann()
            .scope_returning(spn11_child_sees_write_before_spawn())
            .await;
        assert_eq!((out.as_str(), root.user.as_str()), ("bob#7", "bob"));
        let (out, root) = ann()
            .scope_returning(spn12_aborted_child_changes_nothing())
            .await;
        assert_eq!((out, root.hits), ((true, 1), 1));
        let (out, root) = ann().scope_returning(spn13_spawn_with_timeout_bind()).await;
        assert_eq!((out, root.hits), (7, 7));
    });
    let local = tokio::task::LocalSet::new();
    assert_eq!(
        local.block_on(&rt, ann().scope(spn14_spawn_local())),
        "async ann"
    );
    assert_eq!(ctx::with!(ann(), { spn15_thread_spawn() }), "ann#7");
    assert_eq!(ctx::with!(ann(), { spn16_thread_spawn_fn_item() }), "ann#7");
    assert_eq!(
        ctx::with!(super::Req { hits: 1, ..ann() }, {
            (spn17_thread_writes_seen_after_join(), hits_now())
        }),
        (5, 5)
    );
    assert_eq!(ctx::with!(ann(), { spn18_thread_builder() }), "ann#7@shape");
    assert_eq!(
        ctx::with!(ann(), { spn19_thread_scope() }),
        ["ann#7", "borrowed ann#7"]
    );
    assert_eq!(
        ctx::with!(ann(), { (spn20_thread_scope_writes(), hits_now()) }),
        (2, 2),
        "each child adds 2 to its snapshot; `hits` merges by replacing"
    );
    let (mut logged, mut seen) = ctx::with!(ann(), { (spn21_threads_append(), audit_now()) });
    logged.sort();
    seen.sort();
    assert_eq!(logged, ["a:ann", "b:ann"]);
    assert_eq!(seen, logged);
    assert_eq!(
        rt.block_on(ann().scope(spn22_spawn_blocking_question())),
        Ok("ANN#7".to_string())
    );
}
