//! Scenario 11: thousands of concurrent requests on a multi-thread runtime,
//! each with its own user and request id, spawning tasks, blocking closures
//! and rayon work; every read is checked against its own request.
#![cfg(feature = "tokio")]

mod common;
use common::*;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

static MISMATCHES: AtomicUsize = AtomicUsize::new(0);
static READS: AtomicUsize = AtomicUsize::new(0);

#[ctx::propagate(user, request_id)]
fn check(expected_id: u64) {
    READS.fetch_add(1, Ordering::Relaxed);
    let ok = *request_id == expected_id
        && *user == format!("user-{expected_id}")
        && ctx::current::<request_id>().is_some_and(|r| *r == expected_id);
    if !ok {
        MISMATCHES.fetch_add(1, Ordering::Relaxed);
    }
}

#[ctx::propagate(user, request_id)]
async fn serve(id: u64) {
    check(id);
    tokio::task::yield_now().await;
    tokio::spawn(async move {
        check(id);
        tokio::task::yield_now().await;
        check(id);
    })
    .await
    .unwrap();
    tokio::task::spawn_blocking(move || {
        check(id);
        (0..8u64).into_par_iter().for_each(|_| check(id));
    })
    .await
    .unwrap();
    check(id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scenario11_no_cross_talk_between_concurrent_requests() {
    const REQUESTS: u64 = 2_000;
    let handles: Vec<_> = (0..REQUESTS)
        .map(|id| tokio::spawn(req(&format!("user-{id}"), id).scope(serve(id))))
        .collect();
    for h in handles {
        h.await.unwrap();
    }
    let reads = READS.load(Ordering::Relaxed);
    assert_eq!(reads, usize::try_from(REQUESTS).unwrap() * 13);
    assert_eq!(
        MISMATCHES.load(Ordering::Relaxed),
        0,
        "reads that saw another request's values"
    );
}
