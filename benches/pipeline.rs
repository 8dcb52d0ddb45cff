//! End to end: a request pipeline written with ctx next to the same code
//! passing an explicit `Arc<Ctx>`, on a multi-thread runtime.
//!
//! Each request goes through three layers (parse, authorize, fetch), a
//! `spawn_blocking` (the authorization check), a `tokio::spawn` (the
//! fetch) and one `tracing::info!` event carrying the request id and the
//! user, formatted by a `tracing_subscriber::fmt` subscriber into
//! `io::sink`. Four versions do the same work:
//! - `explicit`: an `Arc<Ctx>` passed by hand, the fields on the event;
//! - `explicit_span`: the same, the fields on an `info_span!` around the
//!   request that spawned work enters by hand (what ctx's `#[trace]` keys
//!   give);
//! - `ctx`: `#[ctx::propagate]` fns, the fields from `#[trace]` keys;
//! - `ctx_untraced`: the same with keys that are not `#[trace]`, the
//!   fields passed to the event (as in `explicit`).
//!
//! A round runs 10,000 requests, 256 in flight, on a 2-worker runtime.
//! Rounds of the versions alternate (the order rotates) and the medians
//! are reported: requests per second, and the CPU time per request of all
//! the process's threads (steadier than wall time on a shared machine).
//! Then one round of each runs with a counting allocator
//! switched on: the peak of the live heap above its level before the
//! round, and the allocations per request.
//!
//! Run: `cargo bench --bench pipeline --features tokio,tracing`.
//! Knobs: `PIPELINE_ROUNDS` (default 11), `PIPELINE_REQUESTS` (10000),
//! `PIPELINE_IN_FLIGHT` (256). Instruction counts:
//! `CTX_PROFILE=pipeline/<version> CTX_PROFILE_ITERS=<requests>` under
//! `valgrind --tool=callgrind --max-threads=1000` (the blocking pool
//! starts hundreds of threads) runs a warm-up round and one round of that
//! many requests, and exits.

use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::Instrument as _;

#[path = "common/peak.rs"]
mod peak;

#[global_allocator]
static ALLOC: peak::Peak = peak::Peak;

ctx::keys! {
    #[trace] pub request_id: u64;
    #[trace] pub user: String;
    pub tenant: u64;
}

#[derive(ctx::ContextFields)]
struct Request {
    request_id: u64,
    user: String,
    tenant: u64,
}

/// The explicit version's context.
struct Ctx {
    request_id: u64,
    user: String,
    tenant: u64,
}

/// A small CPU workload: `rounds` dependent multiply-xors.
fn mix(seed: u64, rounds: u64) -> u64 {
    let mut h = seed ^ 0xcbf2_9ce4_8422_2325;
    for i in 0..rounds {
        h = (h ^ black_box(i)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn parse(path: &str) -> u64 {
    let id: u64 = path.rsplit('/').next().unwrap().parse().unwrap();
    mix(id, 200)
}

// ------------------------------------------------------------------- ctx

#[ctx::propagate(request_id, user, tenant)]
async fn handle(path: String) -> u64 {
    let item = parse(&path);
    authorize(item).await
}

#[ctx::propagate(request_id, user, tenant)]
async fn authorize(item: u64) -> u64 {
    let grant = tokio::task::spawn_blocking(move || check(item))
        .await
        .unwrap();
    fetch(item, grant).await
}

#[ctx::propagate(user, tenant)]
fn check(item: u64) -> u64 {
    mix(item ^ user.len() as u64 ^ *tenant, 400)
}

#[ctx::propagate(request_id, user, tenant)]
async fn fetch(item: u64, grant: u64) -> u64 {
    let v = tokio::spawn(async move { load(item, grant) })
        .await
        .unwrap();
    tracing::info!(item, v, "fetched");
    v
}

#[ctx::propagate(tenant)]
fn load(item: u64, grant: u64) -> u64 {
    mix(item ^ grant ^ *tenant, 400)
}

fn request_ctx(i: u64) -> impl Future<Output = u64> + Send {
    let root = Request {
        request_id: i,
        user: format!("user-{}", i % 100),
        tenant: i % 7,
    };
    root.scope(handle(format!("/items/{i}")))
}

/// The same pipeline with ctx and keys that are not `#[trace]`: the
/// fields passed to the event, as in `explicit`.
mod untraced {
    use super::{mix, parse};

    ctx::keys! {
        pub request_id: u64;
        pub user: String;
        pub tenant: u64;
    }

    #[derive(ctx::ContextFields)]
    struct Request {
        request_id: u64,
        user: String,
        tenant: u64,
    }

    #[ctx::propagate(request_id, user, tenant)]
    async fn handle(path: String) -> u64 {
        let item = parse(&path);
        authorize(item).await
    }

    #[ctx::propagate(request_id, user, tenant)]
    async fn authorize(item: u64) -> u64 {
        let grant = tokio::task::spawn_blocking(move || check(item))
            .await
            .unwrap();
        fetch(item, grant).await
    }

    #[ctx::propagate(user, tenant)]
    fn check(item: u64) -> u64 {
        mix(item ^ user.len() as u64 ^ *tenant, 400)
    }

    #[ctx::propagate(request_id, user, tenant)]
    async fn fetch(item: u64, grant: u64) -> u64 {
        let v = tokio::spawn(async move { load(item, grant) })
            .await
            .unwrap();
        tracing::info!(request_id = *request_id, user = ?user, item, v, "fetched");
        v
    }

    #[ctx::propagate(tenant)]
    fn load(item: u64, grant: u64) -> u64 {
        mix(item ^ grant ^ *tenant, 400)
    }

    pub(super) fn request(i: u64) -> impl Future<Output = u64> + Send {
        let root = Request {
            request_id: i,
            user: format!("user-{}", i % 100),
            tenant: i % 7,
        };
        root.scope(handle(format!("/items/{i}")))
    }
}

// -------------------------------------------------------------- explicit

fn explicit_cx(i: u64) -> Arc<Ctx> {
    Arc::new(Ctx {
        request_id: i,
        user: format!("user-{}", i % 100),
        tenant: i % 7,
    })
}

async fn handle_explicit(cx: Arc<Ctx>, path: String, span: bool) -> u64 {
    let item = parse(&path);
    authorize_explicit(cx, item, span).await
}

async fn authorize_explicit(cx: Arc<Ctx>, item: u64, span: bool) -> u64 {
    let cx2 = Arc::clone(&cx);
    let grant = if span {
        let s = tracing::Span::current();
        tokio::task::spawn_blocking(move || s.in_scope(|| check_explicit(&cx2, item)))
            .await
            .unwrap()
    } else {
        tokio::task::spawn_blocking(move || check_explicit(&cx2, item))
            .await
            .unwrap()
    };
    fetch_explicit(cx, item, grant, span).await
}

fn check_explicit(cx: &Ctx, item: u64) -> u64 {
    mix(item ^ cx.user.len() as u64 ^ cx.tenant, 400)
}

async fn fetch_explicit(cx: Arc<Ctx>, item: u64, grant: u64, span: bool) -> u64 {
    let cx2 = Arc::clone(&cx);
    let task = async move { load_explicit(&cx2, item, grant) };
    let v = if span {
        tokio::spawn(task.instrument(tracing::Span::current()))
            .await
            .unwrap()
    } else {
        tokio::spawn(task).await.unwrap()
    };
    if span {
        tracing::info!(item, v, "fetched");
    } else {
        tracing::info!(request_id = cx.request_id, user = ?cx.user, item, v, "fetched");
    }
    v
}

fn load_explicit(cx: &Ctx, item: u64, grant: u64) -> u64 {
    mix(item ^ grant ^ cx.tenant, 400)
}

fn request_explicit(i: u64) -> impl Future<Output = u64> + Send {
    handle_explicit(explicit_cx(i), format!("/items/{i}"), false)
}

fn request_explicit_span(i: u64) -> impl Future<Output = u64> + Send {
    let cx = explicit_cx(i);
    let span = tracing::info_span!("req", request_id = cx.request_id, user = ?cx.user);
    handle_explicit(cx, format!("/items/{i}"), true).instrument(span)
}

// ---------------------------------------------------------------- driver

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Version {
    Explicit,
    ExplicitSpan,
    Ctx,
    CtxUntraced,
}

const VERSIONS: [Version; 4] = [
    Version::Explicit,
    Version::ExplicitSpan,
    Version::Ctx,
    Version::CtxUntraced,
];

impl Version {
    fn name(self) -> &'static str {
        match self {
            Version::Explicit => "explicit",
            Version::ExplicitSpan => "explicit_span",
            Version::Ctx => "ctx",
            Version::CtxUntraced => "ctx_untraced",
        }
    }
}

/// Runs requests `0..n` through `one`, `in_flight` at a time; returns the
/// xor of the results.
async fn drive<F, Fut>(n: u64, in_flight: u64, one: F) -> u64
where
    F: Fn(u64) -> Fut + Copy + Send + 'static,
    Fut: Future<Output = u64> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..in_flight {
        let next = Arc::clone(&next);
        set.spawn(async move {
            let mut acc = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return acc;
                }
                acc ^= one(i).await;
            }
        });
    }
    let mut acc = 0;
    while let Some(r) = set.join_next().await {
        acc ^= r.unwrap();
    }
    acc
}

fn run(rt: &tokio::runtime::Runtime, v: Version, n: u64, in_flight: u64) -> (Duration, u64) {
    let t = Instant::now();
    let sum = match v {
        Version::Explicit => rt.block_on(drive(n, in_flight, request_explicit)),
        Version::ExplicitSpan => rt.block_on(drive(n, in_flight, request_explicit_span)),
        Version::Ctx => rt.block_on(drive(n, in_flight, request_ctx)),
        Version::CtxUntraced => rt.block_on(drive(n, in_flight, untraced::request)),
    };
    (t.elapsed(), sum)
}

/// The versions log the same fields: one request of each on a
/// current-thread runtime under a capturing subscriber.
fn check_events() {
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for v in VERSIONS {
        let buf = Buf::default();
        let w = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_ansi(false)
            .without_time()
            .finish();
        let got = tracing::subscriber::with_default(subscriber, || match v {
            Version::Explicit => rt.block_on(request_explicit(3)),
            Version::ExplicitSpan => rt.block_on(request_explicit_span(3)),
            Version::Ctx => rt.block_on(request_ctx(3)),
            Version::CtxUntraced => rt.block_on(untraced::request(3)),
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{v:?}: {text}");
        assert!(text.contains("request_id=3"), "{v:?}: {text}");
        assert!(text.contains(r#"user="user-3""#), "{v:?}: {text}");
        assert!(text.contains(&format!("v={got}")), "{v:?}: {text}");
        println!("{:>14}: {}", v.name(), text.trim_end());
    }
}

/// The CPU time of every thread of the process so far, in nanoseconds
/// (Linux: the first field of each thread's `schedstat`; 0 elsewhere).
/// Less sensitive than wall time to other processes on a shared machine.
fn cpu_ns() -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    check_events();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::sink)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("set the subscriber");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let in_flight = env("PIPELINE_IN_FLIGHT", 256);
    if let Ok(case) = std::env::var("CTX_PROFILE") {
        let n = env("CTX_PROFILE_ITERS", 10_000);
        let v = VERSIONS
            .into_iter()
            .find(|v| case == format!("pipeline/{}", v.name()))
            .unwrap_or_else(|| panic!("unknown CTX_PROFILE case {case}"));
        // A first round starts the blocking pool's threads, so that the
        // counts of two values of `n` differ by requests only.
        black_box(run(&rt, v, 4 * in_flight, in_flight));
        black_box(run(&rt, v, n, in_flight));
        return;
    }
    let n = env("PIPELINE_REQUESTS", 10_000);
    let rounds = env("PIPELINE_ROUNDS", 11) as usize;
    // Warm-up, and the same results from every version.
    let sums: Vec<u64> = VERSIONS.map(|v| run(&rt, v, n, in_flight).1).to_vec();
    assert!(
        sums.iter().all(|&s| s == sums[0]),
        "results differ: {sums:?}"
    );

    let mut rps = VERSIONS.map(|_| vec![]);
    let mut cpu = VERSIONS.map(|_| vec![]);
    for r in 0..rounds {
        for k in 0..VERSIONS.len() {
            let idx = (r + k) % VERSIONS.len();
            let before = cpu_ns();
            let (t, _) = run(&rt, VERSIONS[idx], n, in_flight);
            rps[idx].push(n as f64 / t.as_secs_f64());
            cpu[idx].push((cpu_ns() - before) as f64 / 1000.0 / n as f64);
        }
    }
    println!("\n{n} requests, {in_flight} in flight, 2 workers, {rounds} rounds of each");
    println!(
        "{:>14} {:>12} {:>9} {:>9} {:>13}",
        "version", "median rq/s", "min", "max", "CPU µs/req"
    );
    for (idx, v) in VERSIONS.iter().enumerate() {
        let xs = &rps[idx];
        let min = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let max = xs.iter().copied().fold(0.0, f64::max);
        let c = median(cpu[idx].clone());
        println!(
            "{:>14} {:>12.0} {min:>9.0} {max:>9.0} {c:>13.2}",
            v.name(),
            median(xs.clone()),
        );
    }
    // Requests per second: ratio of the medians, and the median of the
    // ratios of rounds run next to each other. CPU time: the inverse ratio
    // of the medians (so that, like requests per second, below 1 is slower).
    let ratio = |a: usize, b: usize| {
        let per_round = rps[a].iter().zip(&rps[b]).map(|(x, y)| x / y).collect();
        let m = |xs: &[Vec<f64>], i: usize| median(xs[i].clone());
        (
            m(&rps, a) / m(&rps, b),
            median(per_round),
            m(&cpu, b) / m(&cpu, a),
        )
    };
    for (a, b) in [(2, 0), (2, 1), (3, 0)] {
        let (m, r, c) = ratio(a, b);
        println!(
            "{:>23}: rq/s {m:.3} (per round {r:.3}), CPU time {c:.3}",
            format!("{} / {}", VERSIONS[a].name(), VERSIONS[b].name())
        );
    }

    println!("\nmemory (counting allocator on; median of 3 rounds of each)");
    println!(
        "{:>14} {:>14} {:>14}",
        "version", "peak live KiB", "allocs/request"
    );
    let mut mem = VERSIONS.map(|_| vec![]);
    for _ in 0..3 {
        for (idx, v) in VERSIONS.into_iter().enumerate() {
            peak::start();
            black_box(run(&rt, v, n, in_flight));
            mem[idx].push(peak::stop());
        }
    }
    for (v, ms) in VERSIONS.iter().zip(mem) {
        let peak = median(ms.iter().map(|m| m.peak_bytes as f64).collect());
        let allocs = median(ms.iter().map(|m| m.allocs as f64).collect());
        println!(
            "{:>14} {:>14.0} {:>14.1}",
            v.name(),
            peak / 1024.0,
            allocs / n as f64
        );
    }
}
