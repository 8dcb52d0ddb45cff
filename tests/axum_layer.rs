//! `ctx::http::ContextLayer` under an axum server on a loopback port:
//! hundreds of concurrent requests from hyper-util's client, each with its
//! own user. Every request's spawned and blocking work sees its own user
//! and request id, and the user a handler sets in `spawn_blocking` is seen
//! by the middleware and by the layer after the handler returns.
#![cfg(all(feature = "axum", feature = "tokio"))]

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, request, response};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use ctx::http::{ContextLayer, RequestContext, RequestRoot};
use http_body_util::BodyExt as _;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower_service::Service as _;

#[path = "common/captured.rs"]
mod captured;
use captured::Captured;

ctx::keys! {
    pub user: Option<String>;
    pub request_id: u64;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: Option<String>,
    request_id: u64,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl RequestRoot for Req {
    fn from_request(_: &request::Parts) -> Self {
        Req {
            user: None,
            request_id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// A sync dependency that authenticates the bearer token.
#[ctx::propagate(mut user, request_id)]
fn authenticate(token: &str, delay_ms: u64) {
    std::thread::sleep(Duration::from_millis(delay_ms));
    ctx::set!(user, token.strip_prefix("token-").map(String::from));
}

#[ctx::propagate(user, request_id)]
fn seen(place: &str) -> String {
    let u = user.as_deref().unwrap_or("-");
    tracing::info!(request_id = *request_id, user = %u, "{place}");
    format!("{u}#{}", *request_id)
}

#[ctx::propagate(mut user, request_id)]
async fn whoami(headers: HeaderMap) -> String {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    // Different delays, so that requests finish out of order.
    let delay = *request_id % 7;
    tokio::task::spawn_blocking(move || authenticate(&token, delay))
        .await
        .unwrap();
    let task = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(delay)).await;
        seen("task")
    });
    let blocking = tokio::task::spawn_blocking(|| seen("blocking"));
    let (task, blocking) = (task.await.unwrap(), blocking.await.unwrap());
    format!("{task} {blocking}")
}

/// A logging middleware inside the layer: after the handler returned, it
/// reads the user through the ambient mirror.
async fn logging(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let u = ctx::current::<user>().and_then(|u| u.clone());
    let id = ctx::current::<request_id>().map_or(0, |id| *id);
    tracing::info!(request_id = id, user = %u.as_deref().unwrap_or("-"), "middleware");
    if let Some(v) = u.and_then(|u| HeaderValue::from_str(&u).ok()) {
        res.headers_mut().insert("x-middleware-user", v);
    }
    res
}

/// The layer's hook: logs and returns the request id and the user.
fn hook(cx: &RequestContext<Req>, res: &mut response::Parts) {
    let id = *cx.get::<request_id>();
    let u = cx.get::<user>().clone().unwrap_or_else(|| "-".into());
    tracing::info!(request_id = id, user = %u, "layer");
    res.headers.insert("x-request-id", HeaderValue::from(id));
    res.headers
        .insert("x-layer-user", HeaderValue::from_str(&u).unwrap());
}

fn app() -> Router {
    Router::new()
        .route(
            "/whoami",
            get(|cx: RequestContext<Req>, h: HeaderMap| cx.run(whoami(h))),
        )
        .layer(middleware::from_fn(logging))
        .layer(ContextLayer::<Req>::new().on_response(hook))
}

/// The log lines of request `id`, as (message, user).
fn lines_of(log: &str, id: u64) -> Vec<(String, String)> {
    let tag = format!("request_id={id}");
    log.lines()
        .filter(|l| l.split_whitespace().any(|w| w == tag))
        .map(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            let at = words
                .iter()
                .position(|w| w.starts_with("request_id="))
                .unwrap();
            let user = words
                .iter()
                .find_map(|w| w.strip_prefix("user="))
                .unwrap_or("?");
            (words[at - 1].to_string(), user.to_string())
        })
        .collect()
}

const REQUESTS: usize = 256;

#[test]
fn concurrent_requests_over_loopback_each_see_their_own_user() {
    let out = Captured::default();
    tracing::subscriber::set_global_default(out.subscriber()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app()).await.unwrap() });

        let client = Client::builder(TokioExecutor::new()).build_http::<String>();
        let mut calls = tokio::task::JoinSet::new();
        for n in 0..REQUESTS {
            let client = client.clone();
            calls.spawn(async move {
                let user = format!("user-{n}");
                let req = axum::http::Request::get(format!("http://{addr}/whoami"))
                    .header("authorization", format!("Bearer token-{user}"))
                    .body(String::new())
                    .unwrap();
                let res = client.request(req).await.unwrap();
                assert_eq!(res.status(), 200);
                let header = |name| res.headers()[name].to_str().unwrap().to_string();
                let id: u64 = header("x-request-id").parse().unwrap();
                let (layer, mw) = (header("x-layer-user"), header("x-middleware-user"));
                let body = res.into_body().collect().await.unwrap().to_bytes();
                (
                    user,
                    id,
                    layer,
                    mw,
                    String::from_utf8(body.to_vec()).unwrap(),
                )
            });
        }
        let mut ids = HashSet::new();
        let mut replies = Vec::new();
        while let Some(r) = calls.join_next().await {
            replies.push(r.unwrap());
        }
        assert_eq!(replies.len(), REQUESTS);

        let log = out.text();
        for (user, id, layer, mw, body) in &replies {
            assert!(ids.insert(*id), "request id {id} given twice");
            // The spawned task and the blocking closure saw the user set
            // by the authentication and their own request id.
            assert_eq!(body, &format!("{user}#{id} {user}#{id}"));
            // The user set in `spawn_blocking`, after the handler
            // returned: seen by the middleware and by the layer.
            assert_eq!(mw, user);
            assert_eq!(layer, user);
            // The same from the captured log: each of the request's lines
            // names its user, and every expected line is there.
            let lines = lines_of(&log, *id);
            let mut places: Vec<&str> = lines.iter().map(|(m, _)| m.as_str()).collect();
            places.sort_unstable();
            assert_eq!(
                places,
                ["blocking", "layer", "middleware", "task"],
                "{lines:?}"
            );
            assert!(lines.iter().all(|(_, u)| u == user), "{id}: {lines:?}");
        }
    });
}

/// The same app called as a service on one thread: the requests'
/// handlers interleave at every await, each keeps its values.
#[test]
fn requests_interleaved_on_one_thread_keep_their_own_user() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut calls = tokio::task::JoinSet::new();
        for n in 0..200 {
            let mut svc = app();
            calls.spawn(async move {
                let req = axum::http::Request::get("/whoami")
                    .header("authorization", format!("Bearer token-u{n}"))
                    .body(axum::body::Body::empty())
                    .unwrap();
                let res = svc.call(req).await.unwrap();
                let cx = res
                    .extensions()
                    .get::<RequestContext<Req>>()
                    .unwrap()
                    .clone();
                let id = *cx.get::<request_id>();
                let body = res.into_body().collect().await.unwrap().to_bytes();
                let expected = format!("u{n}#{id} u{n}#{id}");
                assert_eq!(String::from_utf8(body.to_vec()).unwrap(), expected);
                assert_eq!(cx.get::<user>().as_deref(), Some(format!("u{n}").as_str()));
            });
        }
        let mut done = 0;
        while let Some(r) = calls.join_next().await {
            r.unwrap();
            done += 1;
        }
        assert_eq!(done, 200);
    });
}
