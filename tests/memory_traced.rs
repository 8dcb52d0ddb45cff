//! Bounded memory with traced keys: a write to a `#[trace]` key opens a
//! new `ctx` span in place of the old one, so a million writes under a
//! subscriber leave one span, not a chain of a million (which overflowed
//! the stack when it was closed). Measured with a counting allocator.
#![cfg(feature = "tracing")]

#[path = "common/counting.rs"]
mod counting;
use counting::live;

#[global_allocator]
static ALLOC: counting::Counting = counting::Counting;

use std::io::Write;
use std::sync::{Arc, Mutex};

ctx::keys! {
    #[trace] pub count: u64;
    pub label: String;
}

#[derive(ctx::ContextFields)]
struct Root {
    count: u64,
    label: String,
}

/// The fmt output, kept in memory.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[ctx::propagate(mut count, label)]
fn write_many(n: u64) -> isize {
    let before = live();
    for i in 1..=n {
        ctx::set!(count, i);
    }
    live() - before
}

#[ctx::propagate(mut count, label)]
fn log_after_writes(n: u64) {
    for i in 1..=n {
        ctx::set!(count, i);
    }
    tracing::info!("after {n} writes");
}

#[test]
fn writes_to_a_traced_key_keep_one_span() {
    use tracing_subscriber::layer::SubscriberExt;
    let buf = Buf::default();
    let w = buf.clone();
    let fmt = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .without_time()
        .with_writer(move || w.clone());
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(fmt));
    let root = || Root {
        count: 0,
        label: "x".into(),
    };

    // Warm up (callsites, the registry's slab), then measure.
    ctx::with!(root(), { write_many(1_000) });
    let grown = ctx::with!(root(), { write_many(1_000_000) });
    eprintln!("1,000,000 writes of a traced key: live heap grew by {grown} B");
    assert!(
        grown < 64 * 1024,
        "1,000,000 writes of a traced key grew the live heap by {grown} B"
    );

    ctx::with!(root(), { log_after_writes(3) });
    let out = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let line = out.lines().last().unwrap();
    assert_eq!(
        line, " INFO ctx{count=3}: memory_traced: after 3 writes",
        "{out}"
    );
}
