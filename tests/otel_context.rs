//! With the `opentelemetry` feature, spawned work runs in the
//! OpenTelemetry `Context` current at the spawn call: at every boundary
//! ctx rewrites, `Context::current()` in the child carries the caller's
//! values (here a request marker, as a trace's span context would be).
//! Many requests run at once on a multi-thread runtime, each with its own
//! marker, and every child must see its own request's.
#![cfg(all(feature = "opentelemetry", feature = "tokio", feature = "rayon"))]

use std::sync::{Arc, Mutex};

use opentelemetry::Context;

ctx::keys! {
    pub request_id: u64;
}

#[derive(ctx::ContextFields)]
struct Req {
    request_id: u64,
}

/// The request an OpenTelemetry context belongs to.
#[derive(Debug, PartialEq, Clone, Copy)]
struct Marker(u64);

type Seen = Arc<Mutex<Vec<(&'static str, u64, Option<u64>)>>>;

/// What a child sees: its context's request id, and the OpenTelemetry
/// marker current where it runs.
#[ctx::propagate(request_id)]
fn record(seen: &Seen, place: &'static str) {
    let marker = Context::current().get::<Marker>().map(|m| m.0);
    seen.lock().unwrap().push((place, *request_id, marker));
}

#[ctx::propagate(request_id)]
async fn handler(seen: Seen) {
    let (s1, s2, s3, s4) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
    tokio::spawn(async move {
        tokio::task::yield_now().await;
        record(&s1, "tokio::spawn");
    })
    .await
    .unwrap();
    tokio::task::spawn_blocking(move || record(&s2, "spawn_blocking"))
        .await
        .unwrap();
    std::thread::spawn(move || record(&s3, "std::thread::spawn"))
        .join()
        .unwrap();
    let mut set = ctx::JoinSet::new();
    set.spawn(async move { record(&s4, "JoinSet::spawn") });
    while set.join_next().await.is_some() {}
    std::thread::scope(|s| {
        s.spawn(|| record(&seen, "thread::scope"));
    });
    rayon::join(|| record(&seen, "rayon::join"), || ());
    rayon::scope(|s| s.spawn(|_| record(&seen, "rayon::scope")));
    let job = ctx::bind!(move || record(&seen, "bind! closure"));
    std::thread::spawn(job).join().unwrap();
}

const PLACES: usize = 8;

#[test]
fn spawned_work_runs_in_the_callers_opentelemetry_context() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let seen: Seen = Arc::default();
    rt.block_on(async {
        let tasks: Vec<_> = (0..32u64)
            .map(|i| {
                let seen = seen.clone();
                tokio::spawn(async move {
                    let otel = Context::current_with_value(Marker(i));
                    // Attached only while the request's future is polled.
                    let fut = Req { request_id: i }.scope(handler(seen));
                    opentelemetry::context::FutureExt::with_context(fut, otel).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 32 * PLACES, "{seen:?}");
    for &(place, id, marker) in seen.iter() {
        assert_eq!(
            marker,
            Some(id),
            "{place} of request {id} saw marker {marker:?}"
        );
    }
    // Outside any request, no marker.
    assert_eq!(Context::current().get::<Marker>(), None);
}
