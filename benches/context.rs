//! Side-by-side benchmarks of `ctx` against its anchors (DESIGN.md §9).
//!
//! Every group measures, in one run: an explicit `&Ctx` parameter (the
//! limit), a raw `thread_local!`, `tokio::task_local!`,
//! `opentelemetry::Context`, `tracing::Span::current()` and `ctx`. Where an
//! anchor has no way to do what the group measures (a raw thread-local
//! cannot cross a spawn), the row is left out and BENCHMARKS.md says why.
//!
//! Groups:
//! - `read`: one non-inlined function that reads the context value.
//! - `read_hot`: reads in a loop inside one function (no call per read).
//! - `call`: a non-inlined call that carries the context.
//! - `poll`: the cost of one poll of a never-ready future, bare or wrapped
//!   (per-poll overhead of the context wrapper).
//! - `spawn`, `spawn_blocking`: spawn + await carrying 1, 4 and 16 keys.
//! - `snapshot`: the copy taken at a spawn, as the number of keys grows.
//! - `join`: back-propagation of writes at join, and `mut` calls.
//!
//! Run: `cargo bench --bench context` (all groups) or
//! `cargo bench --bench context -- read/` (one group). See BENCHMARKS.md.

#![allow(clippy::unit_arg)]

use std::cell::{Cell, RefCell};
use std::future::{Future, pending};
use std::hint::black_box;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskCx, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group};
use opentelemetry::Context as OtelCx;
use opentelemetry::context::FutureExt as _;
use tracing::Instrument as _;

// ---------------------------------------------------------------------------
// Keys, roots and the anchors' equivalents
// ---------------------------------------------------------------------------

ctx::keys! {
    pub user: String;
    pub request_id: u64;
    pub k1: u64;
    pub k2: u64;
    pub k3: u64;
    pub k4: u64;
    pub k5: u64;
    pub k6: u64;
    pub k7: u64;
    pub k8: u64;
    pub k9: u64;
    pub k10: u64;
    pub k11: u64;
    pub k12: u64;
    pub k13: u64;
    pub k14: u64;
    pub k15: u64;
    pub k16: u64;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: String,
    request_id: u64,
}

fn req() -> Req {
    Req {
        user: "alice".into(),
        request_id: 7,
    }
}

#[derive(ctx::ContextFields)]
struct R1 {
    k1: u64,
}

#[derive(ctx::ContextFields)]
struct R2 {
    k1: u64,
    k2: u64,
}

#[derive(ctx::ContextFields)]
struct R4 {
    k1: u64,
    k2: u64,
    k3: u64,
    k4: u64,
}

#[derive(ctx::ContextFields)]
struct R8 {
    k1: u64,
    k2: u64,
    k3: u64,
    k4: u64,
    k5: u64,
    k6: u64,
    k7: u64,
    k8: u64,
}

#[derive(ctx::ContextFields)]
struct R16 {
    k1: u64,
    k2: u64,
    k3: u64,
    k4: u64,
    k5: u64,
    k6: u64,
    k7: u64,
    k8: u64,
    k9: u64,
    k10: u64,
    k11: u64,
    k12: u64,
    k13: u64,
    k14: u64,
    k15: u64,
    k16: u64,
}

fn r1() -> R1 {
    R1 { k1: 1 }
}
fn r2() -> R2 {
    R2 { k1: 1, k2: 2 }
}
fn r4() -> R4 {
    R4 {
        k1: 1,
        k2: 2,
        k3: 3,
        k4: 4,
    }
}
fn r8() -> R8 {
    R8 {
        k1: 1,
        k2: 2,
        k3: 3,
        k4: 4,
        k5: 5,
        k6: 6,
        k7: 7,
        k8: 8,
    }
}
fn r16() -> R16 {
    R16 {
        k1: 1,
        k2: 2,
        k3: 3,
        k4: 4,
        k5: 5,
        k6: 6,
        k7: 7,
        k8: 8,
        k9: 9,
        k10: 10,
        k11: 11,
        k12: 12,
        k13: 13,
        k14: 14,
        k15: 15,
        k16: 16,
    }
}

/// The explicit-parameter baseline: a plain struct passed as `&Ctx`.
struct Ctx {
    user: String,
    #[allow(dead_code)]
    request_id: u64,
}

fn explicit() -> Ctx {
    Ctx {
        user: "alice".into(),
        request_id: 7,
    }
}

/// The explicit baseline with 16 values.
struct Ctx16 {
    k: [u64; 16],
}

/// What the anchors carry across a spawn: an owned, shared copy of the
/// values (`Arc` of N values), the idiomatic way to move a context.
type Payload = Arc<Vec<u64>>;

fn payload(n: usize) -> Payload {
    Arc::new((1..=n as u64).collect())
}

thread_local! {
    static TL_USER: RefCell<String> = const { RefCell::new(String::new()) };
    /// The ambient pointer of the hand-written "raw thread_local" scope:
    /// set around a call or a poll and restored afterwards (what any
    /// ambient mirror must do at minimum).
    static TL_PTR: Cell<*const Ctx> = const { Cell::new(std::ptr::null()) };
}

tokio::task_local! {
    static TK_USER: String;
    static TK_ID: u64;
    static TK_PAYLOAD: Payload;
    static TK_CELL: Arc<Mutex<u64>>;
}

#[derive(Clone)]
struct OtelUser(String);

#[derive(Clone)]
struct OtelPayload(Payload);

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g
}

fn current_thread_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn multi_thread_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime")
}

// ---------------------------------------------------------------------------
// read: a non-inlined function that reads the value
// ---------------------------------------------------------------------------

#[inline(never)]
fn read_explicit(c: &Ctx) -> usize {
    c.user.len()
}

#[inline(never)]
fn read_explicit16(c: &Ctx16) -> u64 {
    c.k[15]
}

#[inline(never)]
fn read_thread_local() -> usize {
    TL_USER.with_borrow(|u| u.len())
}

#[inline(never)]
fn read_task_local() -> usize {
    TK_USER.with(|u| u.len())
}

#[inline(never)]
fn read_otel() -> usize {
    OtelCx::current().get::<OtelUser>().map_or(0, |u| u.0.len())
}

#[inline(never)]
fn read_otel_map() -> usize {
    OtelCx::map_current(|c| c.get::<OtelUser>().map_or(0, |u| u.0.len()))
}

#[inline(never)]
fn read_tracing() -> u64 {
    tracing::Span::current().id().map_or(0, |id| id.into_u64())
}

#[ctx::propagate(user)]
#[inline(never)]
fn read_ctx() -> usize {
    user.len()
}

#[ctx::propagate(k1)]
#[inline(never)]
fn read_ctx_first_of_16() -> u64 {
    *k1
}

#[ctx::propagate(k16)]
#[inline(never)]
fn read_ctx_last_of_16() -> u64 {
    *k16
}

#[inline(never)]
fn read_ctx_current() -> usize {
    ctx::current::<user>().map_or(0, |u| u.len())
}

fn bench_read(c: &mut Criterion) {
    let mut g = group(c, "read");
    g.bench_function("explicit_param", |b| {
        let cx = explicit();
        b.iter(|| read_explicit(black_box(&cx)))
    });
    g.bench_function("thread_local", |b| {
        TL_USER.set("alice".into());
        b.iter(read_thread_local);
    });
    g.bench_function("task_local", |b| {
        TK_USER.sync_scope("alice".into(), || b.iter(read_task_local))
    });
    g.bench_function("otel_current_get", |b| {
        let _g = OtelCx::current_with_value(OtelUser("alice".into())).attach();
        b.iter(read_otel)
    });
    g.bench_function("otel_map_current", |b| {
        let _g = OtelCx::current_with_value(OtelUser("alice".into())).attach();
        b.iter(read_otel_map)
    });
    g.bench_function("tracing_span_current", |b| {
        let span = tracing::info_span!("req", user = "alice");
        let _e = span.enter();
        b.iter(read_tracing)
    });
    g.bench_function("ctx", |b| ctx::with!(req(), { b.iter(|| read_ctx()) }));
    g.bench_function("explicit_param_16", |b| {
        let cx = Ctx16 {
            k: std::array::from_fn(|i| i as u64 + 1),
        };
        b.iter(|| read_explicit16(black_box(&cx)))
    });
    g.bench_function("ctx_16keys_first", |b| {
        ctx::with!(r16(), { b.iter(|| read_ctx_first_of_16()) })
    });
    g.bench_function("ctx_16keys_last", |b| {
        ctx::with!(r16(), { b.iter(|| read_ctx_last_of_16()) })
    });
    g.bench_function("ctx_current", |b| {
        ctx::with!(req(), { b.iter(|| read_ctx_current()) })
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// read_hot: reads in a loop inside one function body
// ---------------------------------------------------------------------------

#[inline(never)]
fn hot_explicit(c: &Ctx, n: u64) -> usize {
    let mut s = 0usize;
    for _ in 0..n {
        s = s.wrapping_add(black_box(c).user.len());
    }
    s
}

#[inline(never)]
fn hot_thread_local(n: u64) -> usize {
    let mut s = 0usize;
    for _ in 0..n {
        s = s.wrapping_add(TL_USER.with_borrow(|u| black_box(u).len()));
    }
    s
}

#[inline(never)]
fn hot_task_local(n: u64) -> usize {
    let mut s = 0usize;
    for _ in 0..n {
        s = s.wrapping_add(TK_USER.with(|u| black_box(u).len()));
    }
    s
}

#[ctx::propagate(user)]
#[inline(never)]
fn hot_ctx(n: u64) -> usize {
    let mut s = 0usize;
    for _ in 0..n {
        s = s.wrapping_add(black_box(&user).len());
    }
    s
}

fn timed(f: impl FnOnce() -> usize) -> Duration {
    let t = Instant::now();
    black_box(f());
    t.elapsed()
}

fn bench_read_hot(c: &mut Criterion) {
    let mut g = group(c, "read_hot");
    g.bench_function("explicit_param", |b| {
        let cx = explicit();
        b.iter_custom(|n| timed(|| hot_explicit(&cx, n)))
    });
    g.bench_function("thread_local", |b| {
        TL_USER.set("alice".into());
        b.iter_custom(|n| timed(|| hot_thread_local(n)))
    });
    g.bench_function("task_local", |b| {
        TK_USER.sync_scope("alice".into(), || {
            b.iter_custom(|n| timed(|| hot_task_local(n)))
        })
    });
    g.bench_function("ctx", |b| {
        ctx::with!(req(), {
            b.iter_custom(|n| {
                let t = Instant::now();
                black_box(hot_ctx(n));
                t.elapsed()
            })
        })
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// call: a non-inlined call that carries the context
// ---------------------------------------------------------------------------

#[inline(never)]
fn call_plain(x: u64) -> u64 {
    x ^ 0x5555
}

#[inline(never)]
fn call_explicit(c: &Ctx, x: u64) -> u64 {
    black_box(c);
    x ^ 0x5555
}

/// The minimum any ambient scope pays per call: install a thread-local
/// pointer, call, restore it.
#[inline(never)]
fn call_thread_local_scoped(c: &Ctx, x: u64) -> u64 {
    let prev = TL_PTR.replace(c);
    let r = call_plain(x);
    TL_PTR.set(prev);
    r
}

#[ctx::propagate(user)]
#[inline(never)]
fn call_ctx(x: u64) -> u64 {
    x ^ 0x5555
}

#[ctx::propagate(user)]
#[inline(never)]
fn call_ctx_outer(x: u64) -> u64 {
    call_ctx(x)
}

#[inline(never)]
fn call_plain_outer(x: u64) -> u64 {
    call_plain(x)
}

fn bench_call(c: &mut Criterion) {
    let mut g = group(c, "call");
    g.bench_function("plain", |b| b.iter(|| call_plain(black_box(3))));
    g.bench_function("explicit_param", |b| {
        let cx = explicit();
        b.iter(|| call_explicit(black_box(&cx), black_box(3)))
    });
    g.bench_function("thread_local_scoped", |b| {
        let cx = explicit();
        b.iter(|| call_thread_local_scoped(black_box(&cx), black_box(3)))
    });
    g.bench_function("task_local_sync_scope", |b| {
        b.iter(|| TK_ID.sync_scope(7, || call_plain(black_box(3))))
    });
    g.bench_function("otel_attach", |b| {
        let ocx = OtelCx::current_with_value(OtelUser("alice".into()));
        b.iter(|| {
            let _g = ocx.clone().attach();
            call_plain(black_box(3))
        })
    });
    g.bench_function("tracing_in_scope", |b| {
        let span = tracing::info_span!("req", user = "alice");
        b.iter(|| span.in_scope(|| call_plain(black_box(3))))
    });
    g.bench_function("ctx", |b| {
        ctx::with!(req(), { b.iter(|| call_ctx(black_box(3))) })
    });
    g.bench_function("plain_depth2", |b| {
        b.iter(|| call_plain_outer(black_box(3)))
    });
    g.bench_function("ctx_depth2", |b| {
        ctx::with!(req(), { b.iter(|| call_ctx_outer(black_box(3))) })
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// poll: one poll of a never-ready future, bare or wrapped
// ---------------------------------------------------------------------------

async fn poll_bare() {
    pending::<()>().await
}

async fn poll_bare_d2() {
    poll_bare().await
}

async fn poll_bare_d3() {
    poll_bare_d2().await
}

async fn poll_explicit(c: Arc<Ctx>) {
    let _c = c;
    pending::<()>().await
}

async fn poll_instrument_d2() {
    poll_bare().instrument(tracing::info_span!("d1")).await
}

async fn poll_instrument_d3() {
    poll_instrument_d2()
        .instrument(tracing::info_span!("d2"))
        .await
}

#[ctx::propagate(user)]
async fn poll_ctx() {
    pending::<()>().await
}

#[ctx::propagate(user)]
async fn poll_ctx_d2() {
    poll_ctx().await
}

#[ctx::propagate(user)]
async fn poll_ctx_d3() {
    poll_ctx_d2().await
}

/// A hand-written raw `thread_local!` scope: the pointer is installed for
/// each poll and restored after it.
struct TlScoped<F> {
    cx: Arc<Ctx>,
    fut: F,
}

impl<F: Future> Future for TlScoped<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, tcx: &mut TaskCx<'_>) -> Poll<F::Output> {
        // SAFETY: `fut` is structurally pinned and never moved.
        let this = unsafe { self.get_unchecked_mut() };
        let prev = TL_PTR.replace(Arc::as_ptr(&this.cx));
        let out = unsafe { Pin::new_unchecked(&mut this.fut) }.poll(tcx);
        TL_PTR.set(prev);
        out
    }
}

fn bench_one_poll<F: Future>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, fut: F) {
    let mut fut = pin!(fut);
    let mut tcx = TaskCx::from_waker(Waker::noop());
    g.bench_function(name, |b| {
        b.iter(|| fut.as_mut().poll(&mut tcx).is_pending())
    });
}

fn bench_poll(c: &mut Criterion) {
    let mut g = group(c, "poll");
    bench_one_poll(&mut g, "bare", poll_bare());
    bench_one_poll(
        &mut g,
        "explicit_param",
        poll_explicit(Arc::new(explicit())),
    );
    bench_one_poll(
        &mut g,
        "thread_local_scoped",
        TlScoped {
            cx: Arc::new(explicit()),
            fut: poll_bare(),
        },
    );
    bench_one_poll(
        &mut g,
        "task_local_scope",
        TK_USER.scope("alice".into(), poll_bare()),
    );
    bench_one_poll(
        &mut g,
        "otel_with_context",
        poll_bare().with_context(OtelCx::current_with_value(OtelUser("alice".into()))),
    );
    bench_one_poll(
        &mut g,
        "tracing_instrument",
        poll_bare().instrument(tracing::info_span!("req", user = "alice")),
    );
    bench_one_poll(&mut g, "ctx", req().scope(poll_ctx()));
    bench_one_poll(&mut g, "bare_depth3", poll_bare_d3());
    bench_one_poll(
        &mut g,
        "tracing_instrument_depth3",
        poll_instrument_d3().instrument(tracing::info_span!("req", user = "alice")),
    );
    bench_one_poll(&mut g, "ctx_depth3", req().scope(poll_ctx_d3()));
    g.finish();
}

// ---------------------------------------------------------------------------
// spawn / spawn_blocking: spawn + await carrying 1, 4, 16 keys
// ---------------------------------------------------------------------------

async fn spawn_bare(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(tokio::spawn(async { black_box(1u64) }).await.unwrap());
    }
    t.elapsed()
}

async fn spawn_explicit(p: Payload, iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let p = Arc::clone(&p);
        black_box(tokio::spawn(async move { black_box(p[0]) }).await.unwrap());
    }
    t.elapsed()
}

async fn spawn_task_local(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let p = TK_PAYLOAD.get();
        let h = tokio::spawn(TK_PAYLOAD.scope(p, async { TK_PAYLOAD.with(|p| black_box(p[0])) }));
        black_box(h.await.unwrap());
    }
    t.elapsed()
}

async fn spawn_otel(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let child = async {
            OtelCx::map_current(|c| c.get::<OtelPayload>().map_or(0, |p| black_box(p.0[0])))
        };
        black_box(
            tokio::spawn(child.with_context(OtelCx::current()))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

async fn spawn_tracing(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let child = async {
            tracing::Span::current()
                .id()
                .map_or(0, |id| black_box(id.into_u64()))
        };
        black_box(
            tokio::spawn(child.instrument(tracing::Span::current()))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

#[ctx::propagate(k1)]
async fn spawn_ctx1(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(tokio::spawn(async move { black_box(*k1) }).await.unwrap());
    }
    t.elapsed()
}

#[ctx::propagate(k1, k2, k3, k4)]
async fn spawn_ctx4(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(tokio::spawn(async move { black_box(*k1) }).await.unwrap());
    }
    t.elapsed()
}

#[ctx::propagate(k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16)]
async fn spawn_ctx16(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(tokio::spawn(async move { black_box(*k1) }).await.unwrap());
    }
    t.elapsed()
}

async fn blocking_bare(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(
            tokio::task::spawn_blocking(|| black_box(1u64))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

async fn blocking_explicit(p: Payload, iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let p = Arc::clone(&p);
        black_box(
            tokio::task::spawn_blocking(move || black_box(p[0]))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

async fn blocking_task_local(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let p = TK_PAYLOAD.get();
        let h = tokio::task::spawn_blocking(move || {
            TK_PAYLOAD.sync_scope(p, || TK_PAYLOAD.with(|p| black_box(p[0])))
        });
        black_box(h.await.unwrap());
    }
    t.elapsed()
}

async fn blocking_otel(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let ocx = OtelCx::current();
        let h = tokio::task::spawn_blocking(move || {
            let _g = ocx.attach();
            OtelCx::map_current(|c| c.get::<OtelPayload>().map_or(0, |p| black_box(p.0[0])))
        });
        black_box(h.await.unwrap());
    }
    t.elapsed()
}

async fn blocking_tracing(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let span = tracing::Span::current();
        let h = tokio::task::spawn_blocking(move || {
            span.in_scope(|| {
                tracing::Span::current()
                    .id()
                    .map_or(0, |id| black_box(id.into_u64()))
            })
        });
        black_box(h.await.unwrap());
    }
    t.elapsed()
}

#[ctx::propagate(k1)]
async fn blocking_ctx1(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(
            tokio::task::spawn_blocking(move || black_box(*k1))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

#[ctx::propagate(k1, k2, k3, k4)]
async fn blocking_ctx4(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(
            tokio::task::spawn_blocking(move || black_box(*k1))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

#[ctx::propagate(k1, k2, k3, k4, k5, k6, k7, k8, k9, k10, k11, k12, k13, k14, k15, k16)]
async fn blocking_ctx16(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(
            tokio::task::spawn_blocking(move || black_box(*k1))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

/// The anchors carry one shared payload of `n` values; their cost does not
/// depend on `n` by construction, so they are measured at n = 4 (the §9
/// target) only.
fn bench_spawn_kind(c: &mut Criterion, name: &str, rt: &tokio::runtime::Runtime, blocking: bool) {
    // Warm the runtime (worker and blocking threads, allocator caches) so
    // that the first row is not charged for it.
    rt.block_on(async {
        if blocking {
            blocking_bare(2_000).await
        } else {
            spawn_bare(20_000).await
        }
    });
    let mut g = group(c, name);
    let n = 4;
    macro_rules! row {
        ($id:expr, $fut:expr) => {
            g.bench_function($id, |b| b.iter_custom(|iters| rt.block_on($fut(iters))));
        };
    }
    if blocking {
        row!("bare", blocking_bare);
        row!(BenchmarkId::new("explicit_arc", n), |i| blocking_explicit(
            payload(n),
            i
        ));
        row!(BenchmarkId::new("task_local", n), |i| TK_PAYLOAD
            .scope(payload(n), blocking_task_local(i)));
        row!(BenchmarkId::new("otel", n), |i| blocking_otel(i)
            .with_context(OtelCx::current_with_value(OtelPayload(
                payload(n)
            ))));
        row!(BenchmarkId::new("tracing", n), |i| blocking_tracing(i)
            .instrument(tracing::info_span!("req", n)));
        row!(BenchmarkId::new("ctx", 1), |i| r1().scope(blocking_ctx1(i)));
        row!(BenchmarkId::new("ctx", 4), |i| r4().scope(blocking_ctx4(i)));
        row!(BenchmarkId::new("ctx", 16), |i| r16()
            .scope(blocking_ctx16(i)));
        // The same as the first row, measured last: the drift of the run.
        row!("bare_again", blocking_bare);
    } else {
        row!("bare", spawn_bare);
        row!(BenchmarkId::new("explicit_arc", n), |i| spawn_explicit(
            payload(n),
            i
        ));
        row!(BenchmarkId::new("task_local", n), |i| TK_PAYLOAD
            .scope(payload(n), spawn_task_local(i)));
        row!(BenchmarkId::new("otel", n), |i| spawn_otel(i).with_context(
            OtelCx::current_with_value(OtelPayload(payload(n)))
        ));
        row!(BenchmarkId::new("tracing", n), |i| spawn_tracing(i)
            .instrument(tracing::info_span!("req", n)));
        row!(BenchmarkId::new("ctx", 1), |i| r1().scope(spawn_ctx1(i)));
        row!(BenchmarkId::new("ctx", 4), |i| r4().scope(spawn_ctx4(i)));
        row!(BenchmarkId::new("ctx", 16), |i| r16().scope(spawn_ctx16(i)));
        row!("bare_again", spawn_bare);
    }
    g.finish();
}

fn bench_spawn(c: &mut Criterion) {
    let rt = current_thread_rt();
    bench_spawn_kind(c, "spawn", &rt, false);
    let mt = multi_thread_rt();
    bench_spawn_kind(c, "spawn_mt", &mt, false);
}

fn bench_spawn_blocking(c: &mut Criterion) {
    let rt = current_thread_rt();
    bench_spawn_kind(c, "spawn_blocking", &rt, true);
}

// ---------------------------------------------------------------------------
// snapshot: the copy taken at a spawn, as the number of keys grows
// ---------------------------------------------------------------------------

fn snapshot_ctx<R: ctx::Root>(g: &mut BenchmarkGroup<'_, WallTime>, n: usize, root: R) {
    // The spawn rewrite calls `fork` on the spawner's context; benchmark it
    // directly (the rest of a spawn does not depend on the number of keys).
    let rs = ctx::__private::RootStorage::new(root);
    let cx = rs.cx();
    g.bench_function(BenchmarkId::new("ctx", n), |b| {
        b.iter(|| black_box(ctx::__private::fork(black_box(&cx))))
    });
}

fn bench_snapshot(c: &mut Criterion) {
    let mut g = group(c, "snapshot");
    for n in [1usize, 4, 16] {
        g.bench_function(BenchmarkId::new("explicit_arc_clone", n), |b| {
            let p = payload(n);
            b.iter(|| black_box(Arc::clone(black_box(&p))))
        });
        g.bench_function(BenchmarkId::new("explicit_struct_clone", n), |b| {
            let v: Vec<String> = (0..n).map(|i| format!("value-{i}")).collect();
            b.iter(|| black_box(black_box(&v).clone()))
        });
    }
    g.bench_function("task_local_get", |b| {
        TK_PAYLOAD.sync_scope(payload(4), || b.iter(|| black_box(TK_PAYLOAD.get())))
    });
    g.bench_function("otel_current", |b| {
        let _g = OtelCx::current_with_value(OtelPayload(payload(4))).attach();
        b.iter(|| black_box(OtelCx::current()))
    });
    g.bench_function("tracing_span_current", |b| {
        let span = tracing::info_span!("req", user = "alice");
        let _e = span.enter();
        b.iter(|| black_box(tracing::Span::current()))
    });
    snapshot_ctx(&mut g, 1, r1());
    snapshot_ctx(&mut g, 2, r2());
    snapshot_ctx(&mut g, 4, r4());
    snapshot_ctx(&mut g, 8, r8());
    snapshot_ctx(&mut g, 16, r16());
    g.finish();
}

// ---------------------------------------------------------------------------
// join: back-propagation of writes
// ---------------------------------------------------------------------------

async fn join_explicit(iters: u64) -> Duration {
    let mut c = [1u64; 4];
    let t = Instant::now();
    for i in 0..iters {
        // The explicit way: the child returns the new value, the parent
        // stores it.
        c[0] = tokio::spawn(async move { black_box(i) }).await.unwrap();
    }
    let d = t.elapsed();
    black_box(c);
    d
}

async fn join_task_local(iters: u64) -> Duration {
    let t = Instant::now();
    for i in 0..iters {
        let cell = TK_CELL.get();
        let h = tokio::spawn(TK_CELL.scope(cell, async move {
            TK_CELL.with(|c| *c.lock().unwrap() = black_box(i))
        }));
        h.await.unwrap();
        black_box(TK_CELL.with(|c| *c.lock().unwrap()));
    }
    t.elapsed()
}

async fn join_tracing(iters: u64) -> Duration {
    let t = Instant::now();
    for i in 0..iters {
        let span = tracing::Span::current();
        tokio::spawn(async move {
            span.record("k1", black_box(i));
        })
        .await
        .unwrap();
    }
    t.elapsed()
}

#[ctx::propagate(mut k1)]
async fn join_ctx_no_write(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(tokio::spawn(async move { black_box(*k1) }).await.unwrap());
    }
    t.elapsed()
}

#[ctx::propagate(mut k1)]
async fn join_ctx_write1(iters: u64) -> Duration {
    let t = Instant::now();
    for i in 0..iters {
        tokio::spawn(async move { ctx::set!(k1, black_box(i)) })
            .await
            .unwrap();
        black_box(*k1);
    }
    t.elapsed()
}

#[ctx::propagate(mut k1, mut k2, mut k3, mut k4)]
async fn join_ctx_write4(iters: u64) -> Duration {
    let t = Instant::now();
    for i in 0..iters {
        tokio::spawn(async move {
            ctx::set!(k1, black_box(i));
            ctx::set!(k2, i);
            ctx::set!(k3, i);
            ctx::set!(k4, i);
        })
        .await
        .unwrap();
        black_box(*k4);
    }
    t.elapsed()
}

#[ctx::propagate(mut k1)]
async fn join_ctx_blocking_write1(iters: u64) -> Duration {
    let t = Instant::now();
    for i in 0..iters {
        tokio::task::spawn_blocking(move || ctx::set!(k1, black_box(i)))
            .await
            .unwrap();
        black_box(*k1);
    }
    t.elapsed()
}

async fn join_blocking_explicit(iters: u64) -> Duration {
    let mut c = [1u64; 4];
    let t = Instant::now();
    for i in 0..iters {
        c[0] = tokio::task::spawn_blocking(move || black_box(i))
            .await
            .unwrap();
    }
    let d = t.elapsed();
    black_box(c);
    d
}

#[inline(never)]
fn set_explicit(c: &mut [u64; 4], v: u64) {
    c[0] = v;
}

#[ctx::propagate(mut k1)]
#[inline(never)]
fn set_ctx(v: u64) {
    ctx::set!(k1, v);
}

#[ctx::propagate(mut k1)]
#[inline(never)]
fn set_ctx_loop(n: u64) -> u64 {
    for i in 0..n {
        set_ctx(black_box(i));
    }
    *k1
}

fn bench_join(c: &mut Criterion) {
    let rt = current_thread_rt();
    rt.block_on(async {
        spawn_bare(20_000).await;
        blocking_bare(2_000).await
    });
    let mut g = group(c, "join");
    macro_rules! row {
        ($id:expr, $fut:expr) => {
            g.bench_function($id, |b| b.iter_custom(|iters| rt.block_on($fut(iters))));
        };
    }
    row!("spawn_bare", spawn_bare);
    row!("spawn_explicit_return", join_explicit);
    row!("spawn_task_local_mutex", |i| TK_CELL
        .scope(Arc::new(Mutex::new(0)), join_task_local(i)));
    row!("spawn_tracing_record", |i| join_tracing(i).instrument(
        tracing::info_span!("req", k1 = tracing::field::Empty)
    ));
    row!("spawn_ctx_no_write", |i| r4().scope(join_ctx_no_write(i)));
    row!("spawn_ctx_write1", |i| r4().scope(join_ctx_write1(i)));
    row!("spawn_ctx_write4", |i| r4().scope(join_ctx_write4(i)));
    row!("blocking_bare", blocking_bare);
    row!("blocking_explicit_return", join_blocking_explicit);
    row!("blocking_ctx_write1", |i| r4()
        .scope(join_ctx_blocking_write1(i)));
    g.bench_function("sync_explicit_mut_param", |b| {
        let mut cx = [1u64; 4];
        b.iter(|| set_explicit(black_box(&mut cx), black_box(3)))
    });
    g.bench_function("sync_ctx_mut_call", |b| {
        // Each `set!` publishes a new frame that the storage keeps until it
        // is dropped, so every sample gets a fresh root.
        b.iter_custom(|n| {
            ctx::with!(r4(), {
                let t = Instant::now();
                black_box(set_ctx_loop(n));
                t.elapsed()
            })
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_read,
    bench_read_hot,
    bench_call,
    bench_poll,
    bench_spawn,
    bench_spawn_blocking,
    bench_snapshot,
    bench_join
);

/// Instruction-count mode, for `valgrind --tool=callgrind`:
/// `CTX_PROFILE=<case> CTX_PROFILE_ITERS=<n> target/release/deps/context-*`
/// runs `n` iterations of one case and exits. Run it with two values of
/// `n`: the difference of the instruction counts divided by the difference
/// of `n` is the cost of one iteration, without setup (see BENCHMARKS.md).
fn profile(case: &str, n: u64) {
    let rt = current_thread_rt();
    match case {
        "read/explicit_param" => {
            let cx = explicit();
            for _ in 0..n {
                black_box(read_explicit(black_box(&cx)));
            }
        }
        "read/ctx" => ctx::with!(req(), {
            for _ in 0..n {
                black_box(read_ctx());
            }
        }),
        "read/ctx_16keys_last" => ctx::with!(r16(), {
            for _ in 0..n {
                black_box(read_ctx_last_of_16());
            }
        }),
        "call/plain" => {
            for _ in 0..n {
                black_box(call_plain(black_box(3)));
            }
        }
        "call/ctx" => ctx::with!(req(), {
            for _ in 0..n {
                black_box(call_ctx(black_box(3)));
            }
        }),
        "spawn/bare" => {
            rt.block_on(spawn_bare(n));
        }
        "spawn/explicit_arc/4" => {
            rt.block_on(spawn_explicit(payload(4), n));
        }
        "spawn/task_local/4" => {
            rt.block_on(TK_PAYLOAD.scope(payload(4), spawn_task_local(n)));
        }
        "spawn/ctx/1" => {
            rt.block_on(r1().scope(spawn_ctx1(n)));
        }
        "spawn/ctx/4" => {
            rt.block_on(r4().scope(spawn_ctx4(n)));
        }
        "spawn/ctx/16" => {
            rt.block_on(r16().scope(spawn_ctx16(n)));
        }
        "join/spawn_ctx_write1" => {
            rt.block_on(r4().scope(join_ctx_write1(n)));
        }
        "join/sync_ctx_mut_call" => {
            ctx::with!(r4(), { black_box(set_ctx_loop(n)) });
        }
        _ => panic!("unknown CTX_PROFILE case {case}"),
    }
}

fn main() {
    // A real subscriber, so that spans are enabled and `Span::current()`,
    // `Instrument` and `in_scope` do their full work.
    tracing::subscriber::set_global_default(tracing_subscriber::registry())
        .expect("set the tracing subscriber");
    if let Ok(case) = std::env::var("CTX_PROFILE") {
        let n = std::env::var("CTX_PROFILE_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(100_000);
        profile(&case, n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
