//! With the `opentelemetry` feature, `traceparent` travels with the
//! baggage: service A's layer runs the request under the caller's remote
//! span, A's client layer sends it on, and B's handler runs under it too.
//! Invalid trace context headers are ignored.
#![cfg(all(feature = "opentelemetry", feature = "axum", feature = "tokio"))]

#[path = "common/loopback.rs"]
mod loopback;
use loopback::{HttpClient, client, serve};

use std::net::SocketAddr;

use axum::Router;
use axum::http::{HeaderMap, Request, request};
use axum::routing::get;
use ctx::http::{BaggageLayer, ContextLayer, RequestContext, RequestRoot, extract_traceparent};
use http_body_util::BodyExt as _;
use opentelemetry::trace::TraceContextExt as _;
use tower_layer::Layer as _;
use tower_service::Service as _;

ctx::keys! {
    #[baggage(accept, send)] pub tenant: String;
}

#[derive(ctx::ContextFields)]
struct Req {
    tenant: String,
}

impl RequestRoot for Req {
    fn from_request(_: &request::Parts) -> Self {
        Req {
            tenant: "none".into(),
        }
    }
}

/// The trace the OpenTelemetry context current here belongs to, and its
/// span, or `-`.
fn current_trace() -> String {
    let cx = opentelemetry::Context::current();
    let sc = cx.span().span_context().clone();
    if sc.is_valid() {
        format!("{}/{}", sc.trace_id(), sc.span_id())
    } else {
        "-".into()
    }
}

#[ctx::propagate(tenant)]
async fn b_handler() -> String {
    format!("{} {}", *tenant, current_trace())
}

#[ctx::propagate(tenant)]
async fn call_b(client: HttpClient, b: SocketAddr) -> String {
    let mut client = BaggageLayer::<(tenant,)>::new().layer(client);
    let req = Request::get(format!("http://{b}/"))
        .body(String::new())
        .unwrap();
    let res = client.call(req).await.unwrap();
    let from_b = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8_lossy(&from_b).into_owned()
}

/// Calls B from the handler and from a spawned task: the spawned call
/// runs in the handler's OpenTelemetry context, so it sends the same
/// trace.
#[ctx::propagate(tenant)]
async fn a_handler(client: HttpClient, b: SocketAddr) -> String {
    let here = call_b(client.clone(), b).await;
    let spawned = tokio::spawn(async move { call_b(client, b).await })
        .await
        .unwrap();
    assert_eq!(here, spawned, "a call from a spawned task left the trace");
    format!("{} | {here}", current_trace())
}

async fn fetch(addr: SocketAddr, headers: &[(&str, &str)]) -> String {
    loopback::get(addr, headers).await.1
}

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN: &str = "00f067aa0ba902b7";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callers_span_reaches_a_and_b() {
    let b = serve(
        Router::new()
            .route("/", get(|cx: RequestContext<Req>| cx.run(b_handler())))
            .layer(ContextLayer::<Req>::new().accept_baggage::<(tenant,)>()),
    )
    .await;
    let a = serve(
        Router::new()
            .route(
                "/",
                get(move |cx: RequestContext<Req>| cx.run(a_handler(client(), b))),
            )
            .layer(ContextLayer::<Req>::new().accept_baggage::<(tenant,)>()),
    )
    .await;
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..200u64 {
        calls.spawn(async move {
            let trace = format!("{TRACE:.24}{n:08x}");
            let parent = format!("00-{trace}-{SPAN}-01");
            let tenant = format!("tenant=t{n}");
            let body = fetch(a, &[("traceparent", &parent), ("baggage", &tenant)]).await;
            assert_eq!(body, format!("{trace}/{SPAN} | t{n} {trace}/{SPAN}"));
        });
    }
    while let Some(r) = calls.join_next().await {
        r.unwrap();
    }
    // Without a trace context, none is made up.
    assert_eq!(fetch(a, &[]).await, "- | none -");
    // An invalid one is ignored.
    let upper = format!("00-{}-{SPAN}-01", TRACE.to_uppercase());
    assert_eq!(fetch(a, &[("traceparent", &upper)]).await, "- | none -");
}

fn parsed(value: &str) -> Option<String> {
    let mut headers = HeaderMap::new();
    headers.insert("traceparent", value.parse().unwrap());
    extract_traceparent(&headers).map(|sc| {
        format!(
            "{}/{}/{}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

#[test]
fn traceparent_is_parsed_by_the_w3c_rules() {
    let ok = format!("{TRACE}/{SPAN}");
    assert_eq!(
        parsed(&format!("00-{TRACE}-{SPAN}-01")),
        Some(format!("{ok}/1"))
    );
    assert_eq!(
        parsed(&format!("00-{TRACE}-{SPAN}-00")),
        Some(format!("{ok}/0"))
    );
    // Unknown flags are not passed on.
    assert_eq!(
        parsed(&format!("00-{TRACE}-{SPAN}-ff")),
        Some(format!("{ok}/1"))
    );
    // A later version may append fields.
    assert_eq!(
        parsed(&format!("01-{TRACE}-{SPAN}-01-extra")),
        Some(format!("{ok}/1"))
    );
    let bad = [
        format!("00-{TRACE}-{SPAN}-01-extra"),
        format!("ff-{TRACE}-{SPAN}-01"),
        format!("0-{TRACE}-{SPAN}-01"),
        format!("00-{}-{SPAN}-01", TRACE.to_uppercase()),
        format!("00-{}-{SPAN}-01", "0".repeat(32)),
        format!("00-{TRACE}-{}-01", "0".repeat(16)),
        format!("00-{TRACE:.31}-{SPAN}-01"),
        format!("00-{TRACE}-{SPAN}-1"),
        format!("00-{TRACE}-{SPAN}"),
        format!("00-{TRACE}-+{SPAN:.15}-01"),
        String::new(),
        "garbage".into(),
    ];
    for b in bad {
        assert_eq!(parsed(&b), None, "{b}");
    }
    // Two headers: ignored.
    let mut headers = HeaderMap::new();
    let one = format!("00-{TRACE}-{SPAN}-01");
    headers.append("traceparent", one.parse().unwrap());
    headers.append("traceparent", one.parse().unwrap());
    assert!(extract_traceparent(&headers).is_none());
}
