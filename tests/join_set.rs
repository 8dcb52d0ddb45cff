//! `ctx::JoinSet`: a child's changes reach its spawner when the set joins
//! it, never when it merely completes — so a set aborted or dropped after
//! its children finished, or a blocking child that runs on after its
//! abort, changes nothing.
#![cfg(feature = "tokio")]

mod common;
use common::*;
use std::sync::mpsc;
use std::time::Duration;

#[ctx::propagate(mut audit)]
async fn note(entry: String) {
    push(entry);
}

// Joined children: every change arrives, none lost, whatever the order.
#[ctx::propagate(mut audit)]
async fn join_many(n: usize) -> usize {
    let mut set = ctx::JoinSet::new();
    for i in 0..n {
        set.spawn(note(format!("a{i}")));
        set.spawn_blocking(move || push(format!("b{i}")));
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    audit.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn joined_children_bring_every_change_back() {
    let n = req("u", 1).scope(join_many(500)).await;
    assert_eq!(n, 1_000);
}

// Finished children of a set that is then aborted, or dropped, change
// nothing: their changes were never joined.
#[ctx::propagate(mut audit)]
async fn finish_then_abort_or_drop() -> Vec<String> {
    let mut aborted = ctx::JoinSet::new();
    let mut dropped = ctx::JoinSet::new();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..10 {
        let tx1 = tx.clone();
        aborted.spawn(async move {
            note(format!("aborted{i}")).await;
            tx1.send(()).unwrap();
        });
        let tx2 = tx.clone();
        dropped.spawn_blocking(move || {
            push(format!("dropped{i}"));
            tx2.send(()).unwrap();
        });
    }
    drop(tx);
    let mut rx = rx;
    for _ in 0..20 {
        rx.recv().await.unwrap();
    }
    // Every child has written (and, almost always, returned: either way
    // none of them may change the context now).
    tokio::time::sleep(Duration::from_millis(20)).await;
    aborted.abort_all();
    while aborted.join_next().await.is_some() {}
    drop(dropped);
    tokio::time::sleep(Duration::from_millis(20)).await;
    audit_now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_children_of_an_aborted_or_dropped_set_change_nothing() {
    let audit = req("u", 1).scope(finish_then_abort_or_drop()).await;
    assert_eq!(audit, Vec::<String>::new());
}

// One child aborted by its own handle after it finished; a blocking child
// still running when the set is aborted, finishing afterwards.
#[ctx::propagate(mut audit)]
async fn abort_one_and_a_running_blocking_child() -> Vec<String> {
    let mut set = ctx::JoinSet::new();
    let first = set.spawn(note("aborted-after-finishing".into()));
    set.spawn(note("kept".into()));
    tokio::time::sleep(Duration::from_millis(20)).await;
    first.abort();
    while set.join_next().await.is_some() {}

    let (started_tx, started) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let (done_tx, done) = tokio::sync::oneshot::channel();
    let mut blocking = ctx::JoinSet::new();
    blocking.spawn_blocking(move || {
        started_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        push("after-abort".to_string());
        done_tx.send(()).unwrap();
    });
    started.recv().unwrap();
    blocking.abort_all();
    release.send(()).unwrap();
    done.await.unwrap();
    // The closure wrote and returned; the set still holds its output.
    while let Some(r) = blocking.join_next().await {
        let _ = r;
    }
    audit_now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_children_change_nothing_even_when_they_finish() {
    let audit = req("u", 1)
        .scope(abort_one_and_a_running_blocking_child())
        .await;
    assert_eq!(audit, ["kept"]);
}

// A set handed to another request and joined there: the changes go to the
// request that spawned the children, which is still running.
type Handoff = tokio::sync::oneshot::Sender<ctx::JoinSet<()>>;

#[ctx::propagate(mut audit)]
async fn request_one(tx: Handoff, joined: tokio::sync::oneshot::Receiver<()>) -> Vec<String> {
    let mut set = ctx::JoinSet::new();
    set.spawn(note("from-one".into()));
    assert!(tx.send(set).is_ok());
    joined.await.unwrap();
    audit_now()
}

#[ctx::propagate(mut audit)]
async fn request_two(
    rx: tokio::sync::oneshot::Receiver<ctx::JoinSet<()>>,
    joined: tokio::sync::oneshot::Sender<()>,
) -> Vec<String> {
    let mut set = rx.await.unwrap();
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    joined.send(()).unwrap();
    audit_now()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_joined_by_another_request_changes_only_the_spawner() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let (joined_tx, joined_rx) = tokio::sync::oneshot::channel();
    let one = tokio::spawn(req("one", 1).scope(request_one(tx, joined_rx)));
    let two = req("two", 2).scope(request_two(rx, joined_tx)).await;
    assert_eq!(two, Vec::<String>::new());
    assert_eq!(one.await.unwrap(), ["from-one"]);
}
