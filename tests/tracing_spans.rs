//! With the `tracing` feature, spawned work runs in the `tracing` span
//! current at the spawn call: events from tasks, blocking closures,
//! threads and rayon closures are never orphans.
#![cfg(feature = "tracing")]

ctx::keys! {
    pub user: String;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: String,
}

#[path = "common/captured.rs"]
mod captured;
use captured::Captured;

#[ctx::propagate(user)]
fn log(place: &str) {
    tracing::info!("{place} for {}", *user);
}

#[ctx::propagate(user)]
async fn handler() {
    let task = tokio::spawn(async move { log("task") });
    let blocking = tokio::task::spawn_blocking(move || log("blocking"));
    let thread = std::thread::spawn(move || log("thread"));
    task.await.unwrap();
    blocking.await.unwrap();
    thread.join().unwrap();
    rayon::join(|| log("left"), || log("right"));
    std::thread::scope(|s| {
        s.spawn(|| log("scoped"));
    });
}

#[test]
fn spawned_work_runs_in_the_span_current_at_the_spawn() {
    let out = Captured::default();
    let subscriber = out.subscriber();
    // A global default: spawned threads and pool workers see the same
    // subscriber, as in a service.
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let span = tracing::info_span!("request", id = 7);
    rt.block_on(tracing::Instrument::instrument(
        Req { user: "ann".into() }.scope(handler()),
        span,
    ));
    let text = out.text();
    for place in ["task", "blocking", "thread", "left", "right", "scoped"] {
        assert!(
            text.contains(&format!("request{{id=7}}: tracing_spans: {place} for ann")),
            "{place} is not in the request's span:\n{text}"
        );
    }
}
