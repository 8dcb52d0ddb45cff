//! Bounded memory: what a context holds is O(number of keys), whatever the
//! number of writes made in it and of writing children joined into it.
//! Measured with a counting global allocator: the live heap after the
//! work minus the live heap before.
//!
//! One test function, so no other test of this binary allocates while a
//! figure is taken.
#![cfg(feature = "tokio")]

#[path = "common/counting.rs"]
mod counting;
use counting::live;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

const MIB: isize = 1 << 20;

ctx::keys! {
    pub count: u64;
    pub label: String;
}

#[derive(ctx::ContextFields)]
struct Root {
    count: u64,
    label: String,
}

fn root() -> Root {
    Root {
        count: 0,
        label: "conn".into(),
    }
}

/// `n` writes of a counter in one context; the growth of the live heap.
#[ctx::propagate(mut count, mut label)]
fn write_many(n: u64) -> isize {
    ctx::set!(count, *count + 1);
    let before = live();
    for i in 0..n {
        ctx::set!(count, *count + 1);
        if i % 1000 == 0 {
            ctx::set!(label, format!("conn-{i}"));
        }
    }
    live() - before
}

#[ctx::propagate(mut count)]
fn bump() {
    ctx::set!(count, *count + 1);
}

/// `n` calls of a writing callee; the growth of the live heap.
#[ctx::propagate(mut count)]
fn call_writer_many(n: u64) -> isize {
    bump();
    let before = live();
    for _ in 0..n {
        bump();
    }
    live() - before
}

#[ctx::propagate(mut count)]
async fn child() {
    ctx::set!(count, *count + 1);
}

/// A connection loop: one spawned, writing child joined per message.
#[ctx::propagate(mut count)]
async fn join_children(n: u64) -> isize {
    tokio::spawn(child()).await.unwrap();
    let before = live();
    for _ in 0..n {
        tokio::spawn(child()).await.unwrap();
    }
    live() - before
}

/// `rayon::join` closures that write: each gets a child context merged
/// back after the join.
#[ctx::propagate(mut count)]
fn join_scoped_children(n: u64) -> isize {
    rayon::join(|| bump(), || ());
    let before = live();
    for _ in 0..n {
        rayon::join(|| bump(), || ());
    }
    live() - before
}

#[ctx::propagate(count)]
fn count_now() -> u64 {
    *count
}

/// Prints and checks one figure.
fn check(what: &str, grown: isize) {
    println!("{what}: {grown} bytes");
    assert!(grown < MIB, "{what} grew the heap by {grown} bytes");
}

#[test]
fn a_context_holds_memory_independent_of_writes_and_joins() {
    let (grown, count) = ctx::with!(root(), { (write_many(1_000_000), count_now()) });
    assert_eq!(count, 1_000_001);
    check("1,000,000 writes in one context", grown);

    let (grown, count) = ctx::with!(root(), { (call_writer_many(1_000_000), count_now()) });
    assert_eq!(count, 1_000_001);
    check("1,000,000 writes by a callee", grown);

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (grown, count) = rt.block_on(async {
        ctx::with!(root(), {
            let grown = join_children(100_000).await;
            (grown, count_now())
        })
    });
    assert_eq!(count, 100_001);
    check("100,000 joined writing tokio children", grown);

    let (grown, count) = ctx::with!(root(), { (join_scoped_children(100_000), count_now()) });
    assert_eq!(count, 100_001);
    check("100,000 joined rayon::join children", grown);
}
