//! Two services on loopback ports: A's handlers call B through hyper-util's
//! client wrapped in `BaggageLayer`, which sends the keys opted in with
//! `#[baggage(send)]`; B's `ContextLayer` accepts only the keys it lists
//! (declared `#[baggage(accept)]`). `user` is sent by A but never accepted
//! by B, whatever a client puts in the header.
#![cfg(all(feature = "axum", feature = "tokio"))]

#[path = "common/loopback.rs"]
mod loopback;
use loopback::{HttpClient, client, serve};

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::http::{Extensions, HeaderMap, Request, request};
use axum::routing::get;
use ctx::http::{BaggageError, BaggageLayer, ContextLayer, RequestContext, RequestRoot};
use http_body_util::BodyExt as _;
use tower_layer::Layer as _;
use tower_service::Service as _;

ctx::keys! {
    #[baggage(accept, send)] pub tenant: String;
    /// The authenticated user: sent downstream, never taken from a request.
    #[baggage(send)] pub user: Option<String>;
    #[baggage(accept, send)] pub request_id: u64;
}

// ------------------------------------------------------------- service B

#[derive(ctx::ContextFields)]
struct ReqB {
    tenant: String,
    user: Option<String>,
    request_id: u64,
}

impl RequestRoot for ReqB {
    fn from_request(_: &request::Parts) -> Self {
        ReqB {
            tenant: "none".into(),
            user: None,
            request_id: 0,
        }
    }
}

/// B reports its values, the baggage header it received and the error of
/// a rejected header.
#[ctx::propagate(tenant, user, request_id)]
async fn b_report(headers: HeaderMap, error: Option<String>) -> String {
    let raw = headers
        .get("baggage")
        .map_or("", |v| v.to_str().unwrap_or("?"));
    format!(
        "tenant={} user={} id={} | {raw} | {}",
        *tenant,
        user.as_deref().unwrap_or("-"),
        *request_id,
        error.as_deref().unwrap_or("-")
    )
}

fn service_b() -> Router {
    Router::new()
        .route(
            "/",
            get(|cx: RequestContext<ReqB>, h: HeaderMap, ext: Extensions| {
                cx.run(b_report(
                    h,
                    ext.get::<BaggageError>().map(ToString::to_string),
                ))
            }),
        )
        .layer(ContextLayer::<ReqB>::new().accept_baggage::<(tenant, request_id)>())
}

// ------------------------------------------------------------- service A

#[derive(ctx::ContextFields)]
struct ReqA {
    tenant: String,
    user: Option<String>,
    request_id: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl RequestRoot for ReqA {
    fn from_request(parts: &request::Parts) -> Self {
        let header = |n| parts.headers.get(n).and_then(|v| v.to_str().ok());
        ReqA {
            tenant: header("x-tenant").unwrap_or("none").into(),
            user: header("x-user").map(String::from),
            request_id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

async fn get_body(client: HttpClient, req: Request<String>) -> String {
    let mut client = BaggageLayer::<(tenant, user, request_id)>::new().layer(client);
    std::future::poll_fn(|cx| client.poll_ready(cx))
        .await
        .unwrap();
    let res = client.call(req).await.unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

/// A calls B from the handler and from a spawned task.
#[ctx::propagate(tenant, user, request_id)]
async fn a_handler(client: HttpClient, b: SocketAddr) -> String {
    let url = format!("http://{b}/");
    let req = Request::get(&url).body(String::new()).unwrap();
    let here = get_body(client.clone(), req).await;
    let spawned = tokio::spawn(async move {
        let req = Request::get(url).body(String::new()).unwrap();
        get_body(client, req).await
    });
    let spawned = spawned.await.unwrap();
    format!("{}#{}\n{here}\n{spawned}", *tenant, *request_id)
}

fn service_a(client: HttpClient, b: SocketAddr) -> Router {
    Router::new()
        .route(
            "/",
            get(move |cx: RequestContext<ReqA>| cx.run(a_handler(client, b))),
        )
        .layer(ContextLayer::<ReqA>::new())
}

/// `GET /` on `addr`, which must answer 200: the body.
async fn plain_get(addr: SocketAddr, headers: &[(&str, &str)]) -> String {
    let (status, body) = loopback::get(addr, headers).await;
    assert_eq!(status, 200);
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn accepted_keys_travel_from_a_to_b_and_user_does_not() {
    let b = serve(service_b()).await;
    let a = serve(service_a(client(), b)).await;
    const REQUESTS: usize = 200;
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..REQUESTS {
        calls.spawn(async move {
            let (t, u) = (format!("tenant {n}, a;b=100%"), format!("user-{n}"));
            let body = plain_get(a, &[("x-tenant", &t), ("x-user", &u)]).await;
            (t, u, body)
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(r) = calls.join_next().await {
        let (t, u, body) = r.unwrap();
        let mut lines = body.lines();
        let (t_a, id) = lines.next().unwrap().rsplit_once('#').unwrap();
        assert_eq!(t_a, t);
        assert!(ids.insert(id.to_string()), "id {id} twice");
        for from_b in lines {
            // B took A's tenant (percent-decoded) and request id, and not
            // the user A sent.
            let (values, rest) = from_b.split_once(" | ").unwrap();
            assert_eq!(values, format!("tenant={t} user=- id={id}"), "{body}");
            let (raw, error) = rest.split_once(" | ").unwrap();
            assert!(raw.contains(&format!("user={u}")), "A sent no user: {raw}");
            assert_eq!(error, "-");
        }
    }
    assert_eq!(ids.len(), REQUESTS);
}

#[tokio::test]
async fn a_client_cannot_set_a_key_not_accepted() {
    let b = serve(service_b()).await;
    let body = plain_get(b, &[("baggage", "user=admin,tenant=t1,request_id=9")]).await;
    assert!(body.starts_with("tenant=t1 user=- id=9 |"), "{body}");
}

#[tokio::test]
async fn malformed_oversized_and_invalid_baggage_is_ignored() {
    let b = serve(service_b()).await;
    // Malformed: ignored whole, and the error reaches the handler.
    let body = plain_get(b, &[("baggage", "tenant=t1,request_id")]).await;
    assert!(body.starts_with("tenant=none user=- id=0 |"), "{body}");
    assert!(
        body.ends_with("| malformed baggage header: member 1: no `=` between name and value"),
        "{body}"
    );
    // A value over the limit, or one that does not parse as the key's
    // type, is dropped; the rest is used.
    let long = format!("tenant={},request_id=5", "x".repeat(300));
    let body = plain_get(b, &[("baggage", &long)]).await;
    assert!(body.starts_with("tenant=none user=- id=5 |"), "{body}");
    let body = plain_get(b, &[("baggage", "tenant=t2,request_id=-1")]).await;
    assert!(body.starts_with("tenant=t2 user=- id=0 |"), "{body}");
    // Too many members: ignored whole.
    let many: Vec<String> = (0..65).map(|i| format!("k{i}=1")).collect();
    let header = format!("tenant=t3,{}", many.join(","));
    let body = plain_get(b, &[("baggage", &header)]).await;
    assert!(body.starts_with("tenant=none user=- id=0 |"), "{body}");
    assert!(
        body.ends_with("| baggage header with more than 64 members"),
        "{body}"
    );
}

#[tokio::test]
async fn outside_any_context_nothing_is_sent() {
    let b = serve(service_b()).await;
    let req = Request::get(format!("http://{b}/"))
        .body(String::new())
        .unwrap();
    let body = get_body(client(), req).await;
    assert!(body.starts_with("tenant=none user=- id=0 |  |"), "{body}");
}
