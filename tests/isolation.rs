//! §4.8 and §5 under attack: the mirror never dangles or leaks into work
//! that did not receive the context, a read never reinterprets a value, a
//! child's writes reach only its spawner, merges are atomic and
//! all-or-nothing, and cancelled or panicked children never write.
//! Scenarios 12–15.
#![cfg(feature = "tokio")]

mod common;
use common::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

// Scenario 12: a `with!` block whose only awaits sit inside `join!` and
// `select!`, interleaved with a thousand others on one thread.
#[test]
fn scenario12_hidden_awaits_in_with_blocks_never_leave_a_stale_mirror() {
    const TASKS: usize = 1_000;
    let mismatches = Arc::new(AtomicUsize::new(0));
    current_thread().block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let bad = Arc::clone(&mismatches);
                tokio::spawn(async move {
                    let me = format!("u{i}");
                    ctx::with!(req(&me, 0), {
                        tokio::join!(tokio::task::yield_now(), tokio::task::yield_now());
                        if ambient_user().as_deref() != Some(me.as_str()) {
                            bad.fetch_add(1, Ordering::Relaxed);
                        }
                        tokio::select! {
                            () = tokio::task::yield_now() => {}
                        }
                        if ambient_user().as_deref() != Some(me.as_str()) {
                            bad.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                    // Outside the block the task has no context.
                    if ambient_user().is_some() {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(ambient_user(), None, "nothing is left on the thread");
    assert_eq!(mismatches.load(Ordering::Relaxed), 0);
}

// The same `with!` block is a `Send` future: it can be spawned on a
// multi-thread runtime.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_blocks_with_hidden_awaits_are_send() {
    let h = tokio::spawn(async {
        ctx::with!(req("ann", 1), {
            tokio::join!(tokio::task::yield_now());
            ambient_user()
        })
    });
    assert_eq!(h.await.unwrap().as_deref(), Some("ann"));
}

// A nested `with!` is the block's only await.
#[test]
fn an_await_only_inside_a_nested_with_makes_the_outer_block_async() {
    let out = current_thread().block_on(async {
        ctx::with!(req("outer", 1), {
            let inner = ctx::with!(req("inner", 2), {
                tokio::task::yield_now().await;
                ambient_user()
            });
            (inner, ambient_user())
        })
    });
    assert_eq!(out, (Some("inner".into()), Some("outer".into())));
}

// A guard held across an await, or dropped out of order, through the
// runtime's own guard API: never a dangling mirror, a clear panic instead.
#[test]
fn guards_dropped_out_of_order_panic_and_leave_no_context() {
    let a = ctx::__private::RootStorage::new(req("a", 1));
    let b = ctx::__private::RootStorage::new(req("b", 2));
    let ga = ctx::__private::enter_cx(&a.cx());
    let gb = ctx::__private::enter_cx(&b.cx());
    assert_eq!(ambient_user().as_deref(), Some("b"));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(ga)));
    let msg = r.expect_err("out-of-order drop panics");
    let msg = msg
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| msg.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(msg.contains("out of order"), "{msg}");
    drop(b);
    assert_eq!(ambient_user(), None, "no stale or dangling context");
    // The guard that was left in force is out of order too now.
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(gb)));
    assert!(r.is_err());
    assert_eq!(ambient_user(), None);
    drop(a);
    // A forgotten guard keeps its context alive instead of dangling.
    let c = ctx::__private::RootStorage::new(req("c", 3));
    std::mem::forget(ctx::__private::enter_cx(&c.cx()));
    drop(c);
    assert_eq!(ambient_user().as_deref(), Some("c"));
}

// A hand-written `Key` that claims another key's identity cannot make a
// read reinterpret that key's value.
#[allow(non_camel_case_types)]
mod forged {
    pub enum victim {}
    impl ctx::Key for victim {
        type Value = String;
        fn info() -> &'static ctx::KeyInfo {
            static I: ctx::KeyInfo =
                ctx::KeyInfo::new::<victim>("victim", ctx::__private::merge_replace);
            &I
        }
    }
    pub enum forged {}
    impl ctx::Key for forged {
        type Value = (usize, usize);
        fn info() -> &'static ctx::KeyInfo {
            <victim as ctx::Key>::info()
        }
    }
    impl<W: ctx::check::Has<victim>> ctx::check::Need<W> for victim {}
    impl<W: ctx::check::Has<forged>> ctx::check::Need<W> for forged {}

    #[derive(ctx::ContextFields)]
    pub struct Root {
        pub victim: String,
        #[ctx(key = forged)]
        pub forged: (usize, usize),
    }

    #[ctx::propagate(victim, forged)]
    pub fn read() -> (String, (usize, usize)) {
        (victim.clone(), *forged)
    }
}

#[test]
fn a_forged_key_cannot_reinterpret_another_keys_value() {
    let root = forged::Root {
        victim: "a string".into(),
        forged: (usize::MAX, 7),
    };
    let r = std::panic::catch_unwind(|| ctx::with!(root, { forged::read() }));
    let msg = r.expect_err("a forged key is rejected");
    let msg = msg.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("declare keys with `ctx::keys!`"), "{msg}");
    // The key it imitates still works on its own.
    #[derive(ctx::ContextFields)]
    struct Honest {
        #[ctx(key = forged::victim)]
        v: String,
    }
    #[ctx::propagate(forged::victim)]
    fn read_victim() -> String {
        victim.clone()
    }
    assert_eq!(
        ctx::with!(Honest { v: "ok".into() }, { read_victim() }),
        "ok"
    );
}

// Scenario 13: request 1 hands its child's handle to request 2, which
// awaits it. Request 2's values never change; request 1 gets the write.
#[ctx::propagate(mut user)]
async fn request_one(
    tx: tokio::sync::oneshot::Sender<ctx::JoinHandle<()>>,
    joined: tokio::sync::oneshot::Receiver<()>,
) -> String {
    let h = tokio::spawn(async move {
        ctx::set!(user, "alice-admin".to_string());
    });
    assert!(tx.send(h).is_ok());
    // Wait until request 2 has joined the handle, however slow the machine.
    joined.await.unwrap();
    user.clone()
}

#[ctx::propagate(mut user)]
async fn request_two(
    rx: tokio::sync::oneshot::Receiver<ctx::JoinHandle<()>>,
    joined: tokio::sync::oneshot::Sender<()>,
) -> String {
    rx.await.unwrap().await.unwrap();
    joined.send(()).unwrap();
    user.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario13_a_handle_sent_to_another_request_writes_only_its_spawner() {
    for _ in 0..20 {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let (joined_tx, joined_rx) = tokio::sync::oneshot::channel();
        let one = tokio::spawn(req("alice", 1).scope_returning(request_one(tx, joined_rx)));
        let two = tokio::spawn(req("bob", 2).scope_returning(request_two(rx, joined_tx)));
        let (two_saw, two_root) = two.await.unwrap();
        assert_eq!(two_saw, "bob");
        assert_eq!(two_root.user, "bob");
        let (_, one_root) = one.await.unwrap();
        assert_eq!(
            one_root.user, "alice-admin",
            "the write reaches its spawner"
        );
    }
}

// The same with threads: a `ThreadJoinHandle` joined by another request.
#[ctx::propagate(mut user)]
fn spawn_writer() -> ctx::ThreadJoinHandle<()> {
    std::thread::spawn(move || ctx::set!(user, "alice-admin".to_string()))
}

#[ctx::propagate(user)]
fn join_elsewhere(h: ctx::ThreadJoinHandle<()>) -> String {
    h.join().unwrap();
    user.clone()
}

#[test]
fn a_thread_handle_joined_by_another_request_does_not_change_it() {
    let h = ctx::with!(req("alice", 1), { spawn_writer() });
    let seen = ctx::with!(req("bob", 2), { join_elsewhere(h) });
    assert_eq!(seen, "bob");
}

// Scenario 14: a request's closure waits inside `rayon::join` while its
// thread runs an unrelated plain job; the job sees no context.
fn plain_job_on_this_pool(tx: mpsc::Sender<Option<String>>) {
    rayon::spawn(move || tx.send(ambient_user()).unwrap());
}

#[ctx::propagate(user)]
fn request_that_waits_in_rayon(tx: mpsc::Sender<Option<String>>) -> String {
    let (a, b) = rayon::join(
        || {
            plain_job_on_this_pool(tx);
            ambient_user()
        },
        || {
            std::thread::sleep(Duration::from_millis(5));
            ambient_user()
        },
    );
    format!("{}/{}/{}", a.unwrap(), b.unwrap(), *user)
}

#[test]
fn scenario14_a_stolen_plain_job_sees_no_context() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    for _ in 0..20 {
        let (tx, rx) = mpsc::channel();
        let out = pool.install(|| ctx::with!(req("alice", 1), { request_that_waits_in_rayon(tx) }));
        assert_eq!(out, "alice/alice/alice");
        assert_eq!(
            rx.recv().unwrap(),
            None,
            "the plain job ran without context"
        );
    }
}

// A nested `block_on` inside a sync `with!` runs other tasks: they see
// no context, the blocked-on future sees the block's.
#[test]
fn a_task_run_by_a_nested_block_on_sees_no_context() {
    let rt = current_thread();
    let (tx, rx) = mpsc::channel();
    rt.spawn(async move { tx.send(ambient_user()).unwrap() });
    let inside = ctx::with!(req("alice", 1), {
        rt.block_on(async {
            tokio::task::yield_now().await;
            ambient_user()
        })
    });
    assert_eq!(inside.as_deref(), Some("alice"));
    assert_eq!(rx.recv().unwrap(), None);
}

// Scenario 15: children writing an `append` key finish together.
#[ctx::propagate(mut audit)]
async fn many_blocking_appenders(n: usize) -> usize {
    let mut set = ctx::JoinSet::new();
    for i in 0..n {
        set.spawn_blocking(move || {
            let mut v = audit.clone();
            v.push(format!("e{i}"));
            ctx::set!(audit, v);
        });
    }
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
    audit.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scenario15_racing_joins_lose_no_append() {
    for _ in 0..5 {
        let n = req("u", 1).scope(many_blocking_appenders(2_000)).await;
        assert_eq!(n, 2_000);
    }
}

#[ctx::propagate(mut audit)]
fn threads_joined_in_rayon(n: usize) -> usize {
    let spawn = |i: usize| {
        std::thread::spawn(move || {
            let mut v = audit.clone();
            v.push(format!("t{i}"));
            ctx::set!(audit, v);
        })
    };
    let handles: Vec<_> = (0..n).map(spawn).collect();
    let (left, right): (Vec<_>, Vec<_>) = handles
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i % 2 == 0);
    rayon::join(
        move || left.into_iter().for_each(|(_, h)| h.join().unwrap()),
        move || right.into_iter().for_each(|(_, h)| h.join().unwrap()),
    );
    audit.len()
}

#[test]
fn thread_handles_joined_at_once_lose_no_append() {
    for _ in 0..5 {
        let n = ctx::with!(req("u", 1), { threads_joined_in_rayon(200) });
        assert_eq!(n, 200);
    }
}

// A merge function that panics changes nothing: the child's other keys
// are not applied either.
ctx::keys! {
    #[merge(with = crate::picky)] pub picky_total: u64;
}

fn picky(parent: &mut u64, child: u64) {
    assert!(child < 100, "picky merge refuses {child}");
    *parent = child;
}

#[derive(ctx::ContextFields)]
struct Picky {
    user: String,
    picky_total: u64,
}

#[ctx::propagate(mut user, mut picky_total)]
fn child_writes_two_keys() -> (String, u64) {
    let h = std::thread::spawn(|| {
        ctx::set!(user, "changed".to_string());
        ctx::set!(picky_total, 1_000);
    });
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| h.join()));
    assert!(r.is_err(), "the merge function panicked in the joiner");
    (user.clone(), *picky_total)
}

#[test]
fn a_panicking_merge_function_changes_nothing() {
    let root = Picky {
        user: "ann".into(),
        picky_total: 1,
    };
    let out = ctx::with!(root, { child_writes_two_keys() });
    assert_eq!(out, ("ann".to_string(), 1));
}

// Phantom writes: aborted after completion, detached, timed out.
#[ctx::propagate(mut user)]
async fn abort_after_completion() -> String {
    let h = tokio::spawn(async move { ctx::set!(user, "phantom".to_string()) });
    while !h.is_finished() {
        tokio::task::yield_now().await;
    }
    h.abort();
    let _ = h.await;
    user.clone()
}

#[ctx::propagate(mut user)]
async fn detached_handle_spawn() -> String {
    let rt = tokio::runtime::Handle::current();
    let (done, finished) = tokio::sync::oneshot::channel();
    drop(rt.spawn(async move {
        ctx::set!(user, "phantom".to_string());
        done.send(()).unwrap();
    }));
    finished.await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    user.clone()
}

#[ctx::propagate(mut user)]
async fn timed_out_handle_spawn_blocking() -> String {
    let rt = tokio::runtime::Handle::current();
    let (release, released) = mpsc::channel::<()>();
    let (done, finished) = tokio::sync::oneshot::channel();
    let h = rt.spawn_blocking(move || {
        released.recv().unwrap();
        ctx::set!(user, "phantom".to_string());
        done.send(()).unwrap();
    });
    assert!(
        tokio::time::timeout(Duration::from_millis(1), h)
            .await
            .is_err()
    );
    release.send(()).unwrap();
    finished.await.unwrap();
    tokio::time::sleep(Duration::from_millis(5)).await;
    user.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aborted_detached_and_timed_out_children_never_write() {
    assert_eq!(req("ann", 1).scope(abort_after_completion()).await, "ann");
    assert_eq!(req("ann", 1).scope(detached_handle_spawn()).await, "ann");
    assert_eq!(
        req("ann", 1).scope(timed_out_handle_spawn_blocking()).await,
        "ann"
    );
}

// Scoped children that panic after writing discard their writes.
#[ctx::propagate(mut user)]
fn scoped_child_panics() -> String {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rayon::join(
            || {
                ctx::set!(user, "phantom".to_string());
                panic!("child fails");
            },
            || (),
        )
    }));
    assert!(r.is_err());
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        std::thread::scope(|s| {
            s.spawn(|| {
                ctx::set!(user, "phantom".to_string());
                panic!("child fails");
            });
        });
    }));
    assert!(r.is_err());
    user.clone()
}

#[test]
fn scoped_children_that_panic_discard_their_writes() {
    assert_eq!(ctx::with!(req("ann", 1), { scoped_child_panics() }), "ann");
}

// Drop code of a cancelled propagated future runs in its own context.
struct RecordOnDrop(Arc<Mutex<Option<Option<String>>>>);
impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(ambient_user());
    }
}

#[ctx::propagate(user)]
async fn holds_a_guard(seen: Arc<Mutex<Option<Option<String>>>>) {
    let _g = RecordOnDrop(seen);
    std::future::pending::<()>().await;
}

#[tokio::test]
async fn a_cancelled_future_is_dropped_in_its_own_context() {
    let seen = Arc::new(Mutex::new(None));
    let fut = req("bob", 1).scope(holds_a_guard(Arc::clone(&seen)));
    ctx::with!(req("alice", 2), {
        let r = tokio::time::timeout(Duration::from_millis(5), fut).await;
        assert!(r.is_err());
    });
    assert_eq!(*seen.lock().unwrap(), Some(Some("bob".to_string())));
}

// Spawn arguments are evaluated at the spawn call, in the parent.
#[ctx::propagate(user)]
async fn takes(n: usize) -> usize {
    n
}

#[ctx::propagate(user)]
async fn spawn_evaluates_arguments_now(counter: Arc<AtomicUsize>) -> (usize, usize) {
    let h = tokio::spawn(takes(counter.fetch_add(1, Ordering::SeqCst)));
    let at_spawn = counter.load(Ordering::SeqCst);
    (at_spawn, h.await.unwrap())
}

#[tokio::test]
async fn spawn_arguments_are_evaluated_in_the_parent() {
    let c = Arc::new(AtomicUsize::new(0));
    let (at_spawn, child) = req("u", 1).scope(spawn_evaluates_arguments_now(c)).await;
    assert_eq!((at_spawn, child), (1, 0));
}

// Item 10: a handle awaited inside a nested root of the same request.
#[ctx::propagate(mut user)]
async fn join_inside_nested_root() -> String {
    let h = tokio::spawn(async move { ctx::set!(user, "written".to_string()) });
    ctx::with!(
        Picky {
            user: "nested".into(),
            picky_total: 0
        },
        {
            h.await.unwrap();
        }
    );
    user.clone()
}

#[tokio::test]
async fn a_handle_awaited_in_a_nested_root_still_writes_its_spawner() {
    assert_eq!(
        req("ann", 1).scope(join_inside_nested_root()).await,
        "written"
    );
}

// Item 10: two `rayon::join` closures may both use and change the context:
// each has its own child context, merged after the join in argument order.
#[ctx::propagate(mut user, mut audit)]
fn two_writers_in_rayon_join() -> (String, Vec<String>) {
    rayon::join(
        || {
            ctx::set!(user, "left".to_string());
            let mut a = audit.clone();
            a.push("left".into());
            ctx::set!(audit, a);
        },
        || {
            std::thread::sleep(Duration::from_millis(2));
            ctx::set!(user, "right".to_string());
            let mut a = audit.clone();
            a.push("right".into());
            ctx::set!(audit, a);
        },
    );
    (user.clone(), audit.clone())
}

#[test]
fn rayon_join_closures_write_in_argument_order() {
    for _ in 0..10 {
        let (u, a) = ctx::with!(req("ann", 1), { two_writers_in_rayon_join() });
        assert_eq!(u, "right");
        assert_eq!(a, ["left", "right"]);
    }
    // In a `with!` block, both closures call path functions.
    let (x, y) = ctx::with!(req("ann", 1), {
        rayon::join(
            || {
                std::thread::yield_now();
                ambient_user()
            },
            || {
                std::thread::yield_now();
                ambient_user()
            },
        )
    });
    assert_eq!((x.as_deref(), y.as_deref()), (Some("ann"), Some("ann")));
}

#[ctx::propagate(user)]
async fn holds_a_read_across_an_await() -> String {
    let u: &String = user;
    let mut yielded = false;
    std::future::poll_fn(|_| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            std::task::Poll::Pending
        }
    })
    .await;
    u.clone()
}

/// A bound future polled once, suspended while it holds a `&V`, then
/// overwritten by many top-level writes of its caller before it resumes:
/// its read still sees the value it borrowed (valgrind checks the memory).
#[ctx::propagate(mut user)]
async fn writes_while_a_bound_reader_is_suspended() -> String {
    use std::future::Future;
    let f = ctx::bind!(holds_a_read_across_an_await());
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(f.as_mut().poll(&mut cx).is_pending());
    for i in 0..100 {
        ctx::set!(user, format!("overwritten-{i}-{}", "x".repeat(64)));
    }
    f.await
}

#[tokio::test]
async fn a_suspended_bound_reader_outlives_its_callers_writes() {
    let out = req("original-user", 1)
        .scope(writes_while_a_bound_reader_is_suspended())
        .await;
    assert_eq!(out, "original-user");
}
