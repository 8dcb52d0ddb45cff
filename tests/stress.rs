//! Stress: 10,000 concurrent requests on a 4-worker runtime, each mixing
//! `tokio::spawn`, `spawn_blocking`, `JoinSet`, rayon `par_iter` and
//! `join`, a nested root, a timeout and back-propagated writes under every
//! merge policy. Every read is checked against its own request, and every
//! request's final values against what its program wrote.
//!
//! One run in the test suite; `CTX_STRESS_RUNS=20 cargo test --release
//! --test stress` runs it 20 times in a row.
#![cfg(feature = "tokio")]

mod common;
use common::*;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

static READS: AtomicUsize = AtomicUsize::new(0);
static MISMATCHES: AtomicUsize = AtomicUsize::new(0);

#[derive(ctx::ContextFields)]
struct Nested {
    request_id: u64,
}

#[ctx::propagate(user, request_id)]
fn check(user_is: &str, id: u64) {
    READS.fetch_add(1, Ordering::Relaxed);
    let ok = *user == user_is
        && *request_id == id
        && ctx::current::<user>().is_some_and(|u| *u == user_is)
        && ctx::current::<request_id>().is_some_and(|r| *r == id);
    if !ok {
        MISMATCHES.fetch_add(1, Ordering::Relaxed);
    }
}

/// Inside a nested root: its own `request_id`, the request's user.
#[ctx::propagate(request_id)]
fn check_nested(user_is: &str, id: u64) {
    READS.fetch_add(1, Ordering::Relaxed);
    let ok = *request_id == id
        && ctx::current::<user>().is_some_and(|u| *u == user_is)
        && ctx::current::<request_id>().is_some_and(|r| *r == id);
    if !ok {
        MISMATCHES.fetch_add(1, Ordering::Relaxed);
    }
}

#[ctx::propagate(user, request_id, mut audit)]
fn note(what: &str) {
    let mut a = audit.clone();
    a.push(what.to_string());
    ctx::set!(audit, a);
}

#[ctx::propagate(mut user, request_id, mut audit, mut first_seen, mut total)]
async fn serve(id: u64) {
    let me = format!("user-{id}");
    check(&me, id);

    // Two children spawned before any join: each adds 1 to `total` (a
    // `with` merge summing), tries to change `first_seen` (`keep`) and
    // appends to `audit`.
    let me2 = me.clone();
    let task = tokio::spawn(async move {
        check(&me2, id);
        tokio::task::yield_now().await;
        ctx::set!(total, *total + 1);
        ctx::set!(first_seen, "task".to_string());
        note("task");
        check(&me2, id);
    });
    let me3 = me.clone();
    let blocking = tokio::task::spawn_blocking(move || {
        check(&me3, id);
        ctx::set!(total, *total + 1);
        note("blocking");
        (0..4u64).into_par_iter().for_each(|_| check(&me3, id));
    });
    task.await.unwrap();
    blocking.await.unwrap();

    // A JoinSet of two children: merged as join_next returns them, in
    // either order.
    let mut set = ctx::JoinSet::new();
    for k in 0..2 {
        let me = me.clone();
        set.spawn(async move {
            check(&me, id);
            note(&format!("set-{k}"));
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }

    // rayon::join: both closures write, merged in argument order.
    let me4 = me.clone();
    tokio::task::spawn_blocking(move || {
        rayon::join(
            || {
                check(&me4, id);
                note("left");
            },
            || {
                check(&me4, id);
                note("right");
            },
        );
    })
    .await
    .unwrap();

    // A nested root overrides `request_id` for its extent only.
    let nested = ctx::with!(
        Nested {
            request_id: id + 1_000_000
        },
        {
            tokio::task::yield_now().await;
            check_nested(&me, id + 1_000_000);
            *request_id
        }
    );
    if nested != id + 1_000_000 {
        MISMATCHES.fetch_add(1, Ordering::Relaxed);
    }
    check(&me, id);

    // A child that finishes within its timeout renames the user; one that
    // times out never writes.
    let v2 = format!("{me}-v2");
    let renamed = v2.clone();
    let quick = tokio::spawn(async move { ctx::set!(user, renamed) });
    tokio::time::timeout(Duration::from_secs(30), quick)
        .await
        .unwrap()
        .unwrap();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let slow = tokio::spawn(async move {
        let _ = released.await;
        ctx::set!(user, "phantom".to_string());
    });
    let timed_out = tokio::time::timeout(Duration::from_millis(1), slow).await;
    if timed_out.is_ok() {
        MISMATCHES.fetch_add(1, Ordering::Relaxed);
    }
    // The child now writes and finishes; its handle is gone.
    let _ = release.send(());
    tokio::time::sleep(Duration::from_millis(1)).await;
    check(&v2, id);
}

fn one_run(requests: u64) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_time()
        .build()
        .unwrap();
    READS.store(0, Ordering::Relaxed);
    MISMATCHES.store(0, Ordering::Relaxed);
    let wrong = rt.block_on(async {
        let handles: Vec<_> = (0..requests)
            .map(|id| tokio::spawn(req(&format!("user-{id}"), id).scope_returning(serve(id))))
            .collect();
        let mut wrong = Vec::new();
        for (id, h) in handles.into_iter().enumerate() {
            let ((), root) = h.await.unwrap();
            let mut audit = root.audit.clone();
            audit[2..4].sort();
            let ok = root.user == format!("user-{id}-v2")
                && root.request_id == id as u64
                && audit == ["task", "blocking", "set-0", "set-1", "left", "right"]
                && root.first_seen == "root"
                && root.total == 2;
            if !ok {
                wrong.push(root);
            }
        }
        wrong
    });
    // Every request does 15 checked reads (4 in the parallel iterator).
    let reads = READS.load(Ordering::Relaxed);
    assert_eq!(reads, usize::try_from(requests).unwrap() * 15);
    assert_eq!(
        MISMATCHES.load(Ordering::Relaxed),
        0,
        "reads that saw another request's values"
    );
    assert!(
        wrong.is_empty(),
        "{} requests ended with wrong values, e.g. {:?}",
        wrong.len(),
        wrong.first()
    );
}

#[test]
fn ten_thousand_mixed_requests_have_no_cross_talk_and_exact_final_values() {
    let runs: usize = std::env::var("CTX_STRESS_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    for _ in 0..runs {
        one_run(10_000);
    }
}
