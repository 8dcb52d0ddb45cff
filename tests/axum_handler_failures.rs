//! A handler run by `RequestContext::run` that panics or is cancelled
//! changes nothing in the request's context; one that returns (an error
//! response included) brings its changes back.
#![cfg(all(feature = "axum", feature = "tokio"))]

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, request, response};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ctx::http::{ContextLayer, RequestContext, RequestRoot};
use tower_service::Service as _;

ctx::keys! {
    pub user: Option<String>;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: Option<String>,
}

impl RequestRoot for Req {
    fn from_request(_: &request::Parts) -> Self {
        Req {
            user: Some("anonymous".into()),
        }
    }
}

#[ctx::propagate(mut user)]
fn authenticate(name: &str) {
    ctx::set!(user, Some(name.to_string()));
}

/// Sets the user in `spawn_blocking`, then ends as `how` says.
#[ctx::propagate(mut user)]
async fn handler(how: &'static str) -> StatusCode {
    tokio::task::spawn_blocking(|| authenticate("mallory"))
        .await
        .unwrap();
    match how {
        "panic" => panic!("handler failed"),
        "hang" => std::future::pending().await,
        "error" => StatusCode::FORBIDDEN,
        _ => StatusCode::OK,
    }
}

/// Inside the layer: turns a panic into a 500 and a slow handler into a
/// 504 (dropping it), like catch-panic and timeout middleware do.
async fn guard(req: Request, next: Next) -> Response {
    let mut task = tokio::spawn(next.run(req));
    match tokio::time::timeout(Duration::from_millis(50), &mut task).await {
        Ok(Ok(res)) => res,
        Ok(Err(_panic)) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Err(_elapsed) => {
            task.abort();
            assert!(task.await.unwrap_err().is_cancelled());
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

fn hook(cx: &RequestContext<Req>, res: &mut response::Parts) {
    let u = cx.get::<user>().clone().unwrap_or_default();
    res.headers
        .insert("x-user", HeaderValue::from_str(&u).unwrap());
}

fn app() -> Router {
    let route = |how: &'static str| get(move |cx: RequestContext<Req>| cx.run(handler(how)));
    Router::new()
        .route("/ok", route("ok"))
        .route("/error", route("error"))
        .route("/panic", route("panic"))
        .route("/hang", route("hang"))
        .layer(middleware::from_fn(guard))
        .layer(ContextLayer::<Req>::new().on_response(hook))
}

async fn call(path: &str) -> (StatusCode, String) {
    let req = axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app().call(req).await.unwrap();
    let user = res.headers()["x-user"].to_str().unwrap().to_string();
    (res.status(), user)
}

#[tokio::test]
async fn changes_come_back_when_the_handler_returns() {
    assert_eq!(call("/ok").await, (StatusCode::OK, "mallory".into()));
    assert_eq!(
        call("/error").await,
        (StatusCode::FORBIDDEN, "mallory".into())
    );
}

#[tokio::test]
async fn a_panicking_handler_changes_nothing() {
    assert_eq!(
        call("/panic").await,
        (StatusCode::INTERNAL_SERVER_ERROR, "anonymous".into())
    );
}

#[tokio::test]
async fn a_cancelled_handler_changes_nothing() {
    assert_eq!(
        call("/hang").await,
        (StatusCode::GATEWAY_TIMEOUT, "anonymous".into())
    );
}
