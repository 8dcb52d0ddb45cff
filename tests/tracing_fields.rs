//! With the `tracing` feature, the values of keys declared `#[trace]` are
//! fields of a `ctx` span around every event emitted in a context, across
//! every boundary: each event below has the span current at its spawn call
//! as parent and its own request's values, never another's.
#![cfg(feature = "tracing")]

use std::sync::OnceLock;

ctx::keys! {
    #[trace] pub user: Option<String>;
    #[trace] pub request_id: u64;
    #[trace] pub step: u32;
    pub secret: String;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: Option<String>,
    request_id: u64,
    step: u32,
    secret: String,
}

fn req(i: u64) -> Req {
    Req {
        user: Some(format!("u{i}")),
        request_id: i,
        step: 0,
        secret: format!("hidden{i}"),
    }
}

#[path = "common/captured.rs"]
mod captured;
use captured::Captured;

/// One global subscriber for the file: threads and pool workers see it.
fn out() -> &'static Captured {
    static OUT: OnceLock<Captured> = OnceLock::new();
    OUT.get_or_init(|| {
        let out = Captured::default();
        tracing::subscriber::set_global_default(out.subscriber()).unwrap();
        out
    })
}

/// The span a boundary's spawn call runs in.
macro_rules! caller {
    ($at:expr) => {
        tracing::info_span!("caller", at = $at).entered()
    };
}

#[ctx::propagate(user, request_id)]
fn log(place: &str) {
    tracing::info!("{place} #{}", *request_id);
}

#[ctx::propagate(user, request_id)]
async fn tasks() {
    let task = {
        let _g = caller!("task");
        tokio::spawn(async move { log("task") })
    };
    let blocking = {
        let _g = caller!("blocking");
        tokio::task::spawn_blocking(move || log("blocking"))
    };
    let mut set = ctx::JoinSet::new();
    {
        let _g = caller!("joinset");
        set.spawn(async move { log("joinset") });
        set.spawn_blocking(move || log("joinset"));
    }
    task.await.unwrap();
    blocking.await.unwrap();
    while let Some(r) = set.join_next().await {
        r.unwrap();
    }
}

#[ctx::propagate(user, request_id)]
fn threads() {
    let _g = caller!("thread");
    std::thread::spawn(move || log("thread")).join().unwrap();
    drop(_g);
    let _g = caller!("builder");
    std::thread::Builder::new()
        .spawn(move || log("builder"))
        .unwrap()
        .join()
        .unwrap();
    drop(_g);
    let _g = caller!("scoped");
    std::thread::scope(|s| {
        s.spawn(|| log("scoped"));
    });
}

#[ctx::propagate(user, request_id)]
fn pools() {
    use rayon::prelude::*;
    let (tx, rx) = std::sync::mpsc::channel();
    {
        let _g = caller!("rayon_spawn");
        rayon::spawn(move || {
            log("rayon_spawn");
            tx.send(()).unwrap();
        });
    }
    rx.recv().unwrap();
    {
        let _g = caller!("join");
        rayon::join(|| log("join"), || log("join"));
    }
    {
        let _g = caller!("rayon_scope");
        rayon::scope(|s| s.spawn(|_| log("rayon_scope")));
    }
    {
        let _g = caller!("par_iter");
        (0..8).into_par_iter().for_each(|_| log("par_iter"));
    }
    // A lazy stage runs in the span of its call, wherever it is driven.
    let lazy = {
        let _g = caller!("par_map");
        (0..4).into_par_iter().map(|_| log("par_map"))
    };
    let _: Vec<()> = lazy.collect();
    let job = {
        let _g = caller!("bind");
        ctx::bind!(move || log("bind"))
    };
    run_elsewhere(job);
}

/// An executor ctx does not know.
fn run_elsewhere(job: impl FnOnce() + Send + 'static) {
    std::thread::spawn(job).join().unwrap();
}

#[ctx::propagate(user, request_id)]
async fn every_boundary() {
    tasks().await;
    tokio::task::spawn_blocking(move || {
        threads();
        pools();
    })
    .await
    .unwrap();
}

/// The captured lines of request `i`'s events at `place`.
fn lines_at(text: &str, place: &str, i: u64) -> Vec<String> {
    let end = format!(" tracing_fields: {place} #{i}");
    text.lines()
        .filter(|l| l.ends_with(&end))
        .map(str::to_owned)
        .collect()
}

/// Every event of request `i` at `place`: `count` of them, in the caller's
/// span, inside `ctx` spans that all carry request `i`'s values only.
fn check(text: &str, place: &str, i: u64, count: usize) {
    let lines = lines_at(text, place, i);
    assert_eq!(lines.len(), count, "{place} #{i}:\n{text}");
    let own = format!("ctx{{request_id={i} step=0 user=Some(\"u{i}\")}}");
    let parent = format!("caller{{at=\"{place}\"}}: tracing_fields:");
    for line in lines {
        assert!(line.contains(&own), "{place} #{i} lacks its fields: {line}");
        assert_eq!(
            line.matches("ctx{").count(),
            line.matches(&own).count(),
            "{line}"
        );
        assert!(
            line.contains(&parent),
            "{place} #{i} is not in its caller: {line}"
        );
        assert!(!line.contains("hidden"), "an untraced key is shown: {line}");
    }
}

#[test]
fn events_at_every_boundary_carry_their_requests_fields() {
    let out = out();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ids = 100..108u64;
    rt.block_on(async {
        let all: Vec<_> = ids
            .clone()
            .map(|i| tokio::spawn(req(i).scope(every_boundary())))
            .collect();
        for h in all {
            h.await.unwrap();
        }
    });
    let text = out.text();
    for i in ids {
        for (place, count) in [
            ("task", 1),
            ("blocking", 1),
            ("joinset", 2),
            ("thread", 1),
            ("builder", 1),
            ("scoped", 1),
            ("rayon_spawn", 1),
            ("join", 2),
            ("rayon_scope", 1),
            ("par_iter", 8),
            ("par_map", 4),
            ("bind", 1),
        ] {
            check(&text, place, i, count);
        }
    }
}

#[ctx::propagate(user, request_id)]
async fn local() {
    let h = {
        let _g = caller!("local");
        tokio::task::spawn_local(async move { log("local") })
    };
    tokio::task::yield_now().await;
    h.await.unwrap();
}

#[test]
fn spawn_local_interleaved_on_one_thread() {
    let out = out();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let set = tokio::task::LocalSet::new();
    set.block_on(&rt, async {
        let all: Vec<_> = (200..204u64)
            .map(|i| tokio::task::spawn_local(req(i).scope(local())))
            .collect();
        for h in all {
            h.await.unwrap();
        }
    });
    let text = out.text();
    for i in 200..204 {
        check(&text, "local", i, 1);
    }
}

#[ctx::propagate(request_id)]
fn note(what: &str) {
    tracing::info!("{what} #{}", *request_id);
}

#[ctx::propagate(request_id, mut step)]
async fn stepping() {
    note("before");
    ctx::set!(step, 1);
    note("after set");
    tokio::spawn(async move { note("child after set") })
        .await
        .unwrap();
    tokio::spawn(async move {
        ctx::set!(step, 2);
        note("child wrote");
    })
    .await
    .unwrap();
    // The child's write is merged at the join.
    note("after join");
}

#[test]
fn a_write_shows_on_later_events_and_children() {
    let out = out();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let ids = 300..306u64;
    rt.block_on(async {
        let all: Vec<_> = ids
            .clone()
            .map(|i| tokio::spawn(req(i).scope(stepping())))
            .collect();
        for h in all {
            h.await.unwrap();
        }
    });
    let text = out.text();
    for i in ids {
        for (what, step) in [
            ("before", 0),
            ("after set", 1),
            ("child after set", 1),
            ("child wrote", 2),
            ("after join", 2),
        ] {
            let lines = lines_at(&text, what, i);
            assert_eq!(lines.len(), 1, "{what} #{i}:\n{text}");
            let line = &lines[0];
            // The innermost `ctx` span holds the current values.
            let innermost = line.rsplit("ctx{").next().unwrap();
            let want = format!("request_id={i} step={step} user=Some(\"u{i}\")}}");
            assert!(innermost.starts_with(&want), "{what} #{i}: {line}");
            assert_eq!(
                line.matches("ctx{").count(),
                line.matches(&format!("request_id={i} ")).count(),
                "{line}"
            );
        }
    }
}

#[test]
fn events_outside_any_context_carry_no_fields() {
    let out = out();
    ctx::with!(req(400), { tracing::info!("inside #400") });
    tracing::info!("outside #400");
    std::thread::spawn(|| tracing::info!("thread outside #400"))
        .join()
        .unwrap();
    let text = out.text();
    let inside = lines_at(&text, "inside", 400);
    assert_eq!(inside.len(), 1, "{text}");
    assert!(inside[0].contains("ctx{request_id=400 "), "{}", inside[0]);
    for place in ["outside", "thread outside"] {
        let lines = lines_at(&text, place, 400);
        assert_eq!(lines.len(), 1, "{text}");
        assert_eq!(lines[0], format!(" INFO tracing_fields: {place} #400"));
    }
}

#[ctx::propagate(request_id, mut step)]
async fn json_steps() {
    tracing::info!(kind = "first", "json #{}", *request_id);
    ctx::set!(step, 3);
    tokio::spawn(async move { tracing::info!(kind = "child", "json #{}", *request_id) })
        .await
        .unwrap();
}

/// With fmt's JSON formatter, the `ctx` span is in `span` (the innermost
/// span) and in `spans`, with typed fields.
#[test]
fn the_json_formatter_shows_the_fields() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    // This thread only: the runtime below runs everything on it.
    let _default = tracing::subscriber::set_default(subscriber);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let a = tokio::spawn(req(500).scope(json_steps()));
        let b = tokio::spawn(req(501).scope(json_steps()));
        a.await.unwrap();
        b.await.unwrap();
    });
    let text = out.text();
    let mut seen = 0;
    for line in text.lines() {
        for i in [500u64, 501] {
            if !line.contains(&format!("\"message\":\"json #{i}\"")) {
                continue;
            }
            seen += 1;
            let step = if line.contains("\"kind\":\"first\"") {
                0
            } else {
                3
            };
            let ctx = format!(
                "{{\"request_id\":{i},\"step\":{step},\"user\":\"Some(\\\"u{i}\\\")\",\"name\":\"ctx\"}}"
            );
            assert!(line.contains(&format!("\"span\":{ctx}")), "{line}");
            assert!(line.contains("\"spans\":[{"), "{line}");
            assert!(
                !line.contains(&format!("\"request_id\":{}", 1001 - i)),
                "{line}"
            );
        }
    }
    assert_eq!(seen, 4, "{text}");
}

/// A panic inside a context exits its `ctx` span on unwind: what the
/// thread logs next is outside it.
#[test]
fn a_panic_leaves_no_ctx_span_behind() {
    let out = out();
    let caught = std::panic::catch_unwind(|| {
        ctx::with!(req(600), {
            tracing::info!("before panic #600");
            panic!("boom");
        })
    });
    assert!(caught.is_err());
    tracing::info!("after panic #600");
    let text = out.text();
    let before = lines_at(&text, "before panic", 600);
    assert_eq!(before.len(), 1, "{text}");
    assert!(before[0].contains("ctx{request_id=600 "), "{}", before[0]);
    let after = lines_at(&text, "after panic", 600);
    assert_eq!(after, [" INFO tracing_fields: after panic #600"], "{text}");
}
