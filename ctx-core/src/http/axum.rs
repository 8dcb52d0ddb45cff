//! With the `axum` feature, [`RequestContext`] is an axum extractor.

use ::http::StatusCode;
use ::http::request::Parts;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};

use super::RequestContext;

/// The rejection of the [`RequestContext`] extractor: the request did not
/// go through a [`ContextLayer`](super::ContextLayer) for this root type.
/// Answers `500 Internal Server Error`, naming the missing layer.
///
/// ```
/// use axum::{Router, routing::get};
/// use ctx::http::RequestContext;
/// use tower_service::Service;
///
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Req { user: String }
///
/// #[ctx::propagate(user)]
/// async fn whoami() -> String { user.clone() }
///
/// // No `ContextLayer::<Req>` here.
/// let mut app = Router::new().route("/", get(|cx: RequestContext<Req>| cx.run(whoami())));
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let req = http::Request::get("/").body(axum::body::Body::empty()).unwrap();
/// let res = app.call(req).await.unwrap();
/// assert_eq!(res.status(), http::StatusCode::INTERNAL_SERVER_ERROR);
/// # });
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MissingContextLayer {
    root: &'static str,
}

impl std::fmt::Display for MissingContextLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "no request context of type `{}`: add `ctx::http::ContextLayer::<{0}>` around this route",
            self.root
        )
    }
}

impl std::error::Error for MissingContextLayer {}

impl IntoResponse for MissingContextLayer {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, self.to_string()).into_response()
    }
}

impl<R: 'static, S: Send + Sync> FromRequestParts<S> for RequestContext<R> {
    type Rejection = MissingContextLayer;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext<R>>()
            .cloned()
            .ok_or(MissingContextLayer {
                root: std::any::type_name::<R>(),
            })
    }
}
