//! What `ctx` costs where it meets the ecosystem, side by side with the
//! hand-written equivalent in one run (see BENCHMARKS.md).
//!
//! Groups:
//! - `span_follow`: a `tokio::spawn` + await on a current-thread runtime,
//!   inside a `tracing` span: a propagated async fn (which ctx runs in the
//!   span current at the spawn), the same child body with
//!   `.instrument(Span::current())` written by hand (with and without an
//!   `Arc` carrying the value the propagated fn reads), and a bare spawn.
//! - `axum_layer`: one request through an axum `Router` called as a tower
//!   `Service` (no network): no middleware, an empty
//!   `axum::middleware::from_fn`, `ctx::http::ContextLayer`, and the layer
//!   with a handler running a propagated async fn through
//!   `RequestContext::run`.
//!
//! Run: `cargo bench --bench ecosystem --features tokio,tracing,axum`.
//! Instruction counts: `CTX_PROFILE=<group>/<row> CTX_PROFILE_ITERS=<n>`
//! under `valgrind --tool=callgrind` (see `profile` below).

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use ctx::http::{ContextLayer, RequestContext, RequestRoot};
use tower_service::Service as _;
use tracing::Instrument as _;

ctx::keys! {
    pub user: String;
    pub request_id: u64;
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

fn current_thread_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime")
}

fn group<'a>(
    c: &'a mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(30)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g
}

// ---------------------------------------------------------------------------
// span_follow: spawn + await inside a span
// ---------------------------------------------------------------------------

/// The id of the span the code runs in (0 outside any span): the body of
/// every spawned child, so that the rows differ only by the hand-off.
fn span_id() -> u64 {
    tracing::Span::current()
        .id()
        .map_or(0, |id| black_box(id.into_u64()))
}

async fn spawn_bare(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(tokio::spawn(async { span_id() }).await.unwrap());
    }
    t.elapsed()
}

async fn spawn_instrument(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let child = async { span_id() };
        black_box(
            tokio::spawn(child.instrument(tracing::Span::current()))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

/// What ctx replaces in full: the value moved into the task by hand, and
/// the span.
async fn spawn_arc_instrument(user: Arc<String>, iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        let user = Arc::clone(&user);
        let child = async move {
            black_box(user.len());
            span_id()
        };
        black_box(
            tokio::spawn(child.instrument(tracing::Span::current()))
                .await
                .unwrap(),
        );
    }
    t.elapsed()
}

#[ctx::propagate(user)]
async fn child() -> u64 {
    black_box(user.len());
    span_id()
}

#[ctx::propagate(user)]
async fn spawn_ctx(iters: u64) -> Duration {
    let t = Instant::now();
    for _ in 0..iters {
        black_box(tokio::spawn(child()).await.unwrap());
    }
    t.elapsed()
}

#[ctx::propagate(user)]
async fn spawn_one() -> u64 {
    tokio::spawn(child()).await.unwrap()
}

/// Every row runs inside the same kind of span, entered around the loop.
fn in_span<F: Future>(fut: F) -> tracing::instrument::Instrumented<F> {
    fut.instrument(tracing::info_span!("request", id = 7))
}

/// The rows' children see the span they should: the hand-written and the
/// ctx spawn run in the spawner's span, the bare spawn in none.
fn check_span_follow(rt: &tokio::runtime::Runtime) {
    let span = tracing::info_span!("check");
    let id = span.id().expect("spans are enabled").into_u64();
    let got = rt.block_on(req().scope(spawn_one()).instrument(span.clone()));
    assert_eq!(got, id, "the ctx child runs in the span of its spawn");
    let by_hand = async {
        let child = async { span_id() }.instrument(tracing::Span::current());
        tokio::spawn(child).await.unwrap()
    };
    assert_eq!(rt.block_on(by_hand.instrument(span.clone())), id);
    let bare = async { tokio::spawn(async { span_id() }).await.unwrap() };
    assert_eq!(
        rt.block_on(bare.instrument(span)),
        0,
        "a bare spawn loses the span"
    );
}

fn bench_span_follow(c: &mut Criterion) {
    let rt = current_thread_rt();
    check_span_follow(&rt);
    let mut g = group(c, "span_follow");
    g.bench_function("bare", |b| {
        b.iter_custom(|i| rt.block_on(in_span(spawn_bare(i))))
    });
    g.bench_function("instrument", |b| {
        b.iter_custom(|i| rt.block_on(in_span(spawn_instrument(i))))
    });
    g.bench_function("arc_instrument", |b| {
        let user = Arc::new(String::from("alice"));
        b.iter_custom(|i| rt.block_on(in_span(spawn_arc_instrument(Arc::clone(&user), i))))
    });
    g.bench_function("ctx", |b| {
        b.iter_custom(|i| rt.block_on(in_span(req().scope(spawn_ctx(i)))))
    });
    g.bench_function("bare_again", |b| {
        b.iter_custom(|i| rt.block_on(in_span(spawn_bare(i))))
    });
    g.finish();
}

// ---------------------------------------------------------------------------
// axum_layer: one request through a Router called as a Service
// ---------------------------------------------------------------------------

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl RequestRoot for Req {
    fn from_request(_: &request::Parts) -> Self {
        Req {
            user: "anonymous".into(),
            request_id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

async fn handler() -> &'static str {
    "ok"
}

#[ctx::propagate(user, request_id)]
async fn propagated_handler() -> &'static str {
    black_box(*request_id);
    "ok"
}

async fn noop(req: Request, next: Next) -> Response {
    next.run(req).await
}

fn app(row: &str) -> Router {
    let plain = Router::new().route("/", get(handler));
    match row {
        "none" => plain,
        "from_fn" => plain.layer(middleware::from_fn(noop)),
        "context_layer" => plain.layer(ContextLayer::<Req>::new()),
        "context_layer_handler" => Router::new()
            .route(
                "/",
                get(|cx: RequestContext<Req>| cx.run(propagated_handler())),
            )
            .layer(ContextLayer::<Req>::new()),
        _ => panic!("unknown axum_layer row {row}"),
    }
}

const AXUM_ROWS: [&str; 4] = ["none", "from_fn", "context_layer", "context_layer_handler"];

async fn requests(mut app: Router, iters: u64) -> Result<Duration, Infallible> {
    let t = Instant::now();
    for _ in 0..iters {
        let req = Request::get("/").body(Body::empty()).unwrap();
        let res = app.call(req).await?;
        black_box(res.status());
        drop(black_box(res));
    }
    Ok(t.elapsed())
}

fn bench_axum_layer(c: &mut Criterion) {
    let rt = current_thread_rt();
    for row in AXUM_ROWS {
        let res = rt.block_on(async {
            let req = Request::get("/").body(Body::empty()).unwrap();
            app(row).call(req).await.unwrap()
        });
        assert!(res.status().is_success(), "{row}: {}", res.status());
    }
    let mut g = group(c, "axum_layer");
    for row in AXUM_ROWS {
        g.bench_function(row, |b| {
            let app = app(row);
            b.iter_custom(|i| rt.block_on(requests(app.clone(), i)).unwrap())
        });
    }
    g.bench_function("none_again", |b| {
        let app = app("none");
        b.iter_custom(|i| rt.block_on(requests(app.clone(), i)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_span_follow, bench_axum_layer);

/// Instruction-count mode, for `valgrind --tool=callgrind`:
/// `CTX_PROFILE=<case> CTX_PROFILE_ITERS=<n> target/release/deps/ecosystem-*`
/// runs `n` iterations of one case and exits. Cases: `span_follow/bare`,
/// `span_follow/instrument`, `span_follow/arc_instrument`,
/// `span_follow/ctx`, and `axum_layer/<row>` for every row of the group.
fn profile(case: &str, n: u64) {
    let rt = current_thread_rt();
    let elapsed = match case.split_once('/') {
        Some(("span_follow", "bare")) => rt.block_on(in_span(spawn_bare(n))),
        Some(("span_follow", "instrument")) => rt.block_on(in_span(spawn_instrument(n))),
        Some(("span_follow", "arc_instrument")) => {
            let user = Arc::new(String::from("alice"));
            rt.block_on(in_span(spawn_arc_instrument(user, n)))
        }
        Some(("span_follow", "ctx")) => rt.block_on(in_span(req().scope(spawn_ctx(n)))),
        Some(("axum_layer", row)) => rt.block_on(requests(app(row), n)).unwrap(),
        _ => panic!("unknown CTX_PROFILE case {case}"),
    };
    black_box(elapsed);
}

fn main() {
    // A real subscriber, so that spans are enabled and `Span::current()`
    // and `Instrument` do their full work.
    tracing::subscriber::set_global_default(tracing_subscriber::registry())
        .expect("set the tracing subscriber");
    if let Ok(case) = std::env::var("CTX_PROFILE") {
        let n = std::env::var("CTX_PROFILE_ITERS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        profile(&case, n);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
