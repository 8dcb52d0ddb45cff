//! Cancellation at every await: a propagated future is dropped after each
//! possible number of polls. Its own writes are made in place (kept up to
//! the cancellation point), a spawned child's writes arrive only at a join
//! that completed, and the mirror is the caller's afterwards. Run under
//! valgrind by `.ci/valgrind`.
#![cfg(feature = "tokio")]

mod common;
use common::*;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

#[ctx::propagate(mut audit)]
async fn child_push(entry: String) {
    tokio::task::yield_now().await;
    push(entry);
}

/// Writes in place, awaits, spawns a writing child and joins it, in turn.
#[ctx::propagate(mut audit, user)]
async fn steps(n: usize) {
    for i in 0..n {
        push(format!("s{i}"));
        tokio::task::yield_now().await;
        let h = tokio::spawn(child_push(format!("c{i}")));
        h.await.unwrap();
        let blocking = tokio::task::spawn_blocking(move || push(format!("b{i}")));
        blocking.await.unwrap();
    }
}

/// Polls `fut` at most `polls` times; whether it finished.
async fn poll_at_most(mut fut: Pin<&mut impl Future<Output = ()>>, polls: usize) -> bool {
    for _ in 0..polls {
        let ready = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_ready())).await;
        if ready {
            return true;
        }
        // Real time between polls, so that spawned and blocking children
        // progress even on a slow machine (valgrind) and the future
        // finishes within the poll budget.
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    false
}

#[ctx::propagate(mut audit, user)]
async fn cancel_after(polls: usize) -> (bool, Vec<String>, Option<String>) {
    let finished = {
        let fut = ctx::bind!(steps(3));
        let fut = std::pin::pin!(fut);
        poll_at_most(fut, polls).await
    };
    let at_cancel = audit_now();
    // Let every detached child run to its end: none may write any more.
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    assert_eq!(
        audit_now(),
        at_cancel,
        "a write arrived after the cancellation"
    );
    (finished, at_cancel, ambient_user())
}

#[test]
fn cancelling_at_every_await_keeps_a_prefix_of_the_writes() {
    let full: Vec<String> = (0..3)
        .flat_map(|i| [format!("s{i}"), format!("c{i}"), format!("b{i}")])
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let mut lengths = Vec::new();
    for polls in 0..200 {
        let (finished, audit, mirror) = rt.block_on(req("ann", 1).scope(cancel_after(polls)));
        assert_eq!(
            audit[..],
            full[..audit.len()],
            "cancelled after {polls} polls"
        );
        assert_eq!(mirror.as_deref(), Some("ann"));
        lengths.push(audit.len());
        if finished {
            assert_eq!(audit, full);
            break;
        }
    }
    // Cancelled before the first poll: nothing; polled to the end: all.
    assert_eq!(lengths.first(), Some(&0));
    assert_eq!(lengths.last(), Some(&full.len()));
    // One poll always stops at the first await, after the first write.
    // (Where later polls cut depends on when the spawned children run.)
    assert_eq!(lengths.get(1), Some(&1), "cut points: {lengths:?}");
    assert_eq!(ambient_user(), None);
}
