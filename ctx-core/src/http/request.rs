//! The request's side: the root built from a request, and the request's
//! context as handlers and middleware see it.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use ::http::request::Parts;

use crate::ambient::Current;
use crate::check::{Covered, Has};
use crate::cx::Owned;
use crate::future::{AsyncBody, Requires};
use crate::key::Key;
use crate::root::Root;
use crate::storage::Storage;

#[cfg(doc)]
use super::ContextLayer;

/// A root built from a request's head: the values each request starts
/// with (a user from a header, a generated request id).
///
/// ```
/// use ctx::http::RequestRoot;
///
/// ctx::keys! { pub user: Option<String>; pub request_id: u64; }
///
/// #[derive(ctx::ContextFields)]
/// struct Req { user: Option<String>, request_id: u64 }
///
/// impl RequestRoot for Req {
///     fn from_request(parts: &http::request::Parts) -> Self {
///         let user = parts.headers.get("x-user").and_then(|v| v.to_str().ok());
///         Req { user: user.map(String::from), request_id: 1 }
///     }
/// }
///
/// let (parts, ()) = http::Request::get("/").header("x-user", "ann").body(()).unwrap().into_parts();
/// assert_eq!(Req::from_request(&parts).user.as_deref(), Some("ann"));
/// ```
pub trait RequestRoot: Root + Send + 'static {
    /// The root of the request whose head is `parts`.
    fn from_request(parts: &Parts) -> Self;
}

/// The context of one request, built by [`ContextLayer`]: in the request's
/// extensions for handlers, and in the response's for the middleware
/// outside the layer.
///
/// With the `axum` feature it is an extractor, so a handler is one line
/// around a `#[propagate]` async fn (below, `|cx: RequestContext<Req>|
/// cx.run(whoami())`); without it, take it with axum's
/// `Extension<RequestContext<R>>`.
///
/// ```
/// use axum::{Router, routing::get};
/// use ctx::http::{ContextLayer, RequestContext, RequestRoot};
/// use tower_service::Service;
///
/// ctx::keys! { pub user: Option<String>; }
///
/// #[derive(ctx::ContextFields)]
/// struct Req { user: Option<String> }
///
/// impl RequestRoot for Req {
///     fn from_request(parts: &http::request::Parts) -> Self {
///         let user = parts.headers.get("x-user").and_then(|v| v.to_str().ok());
///         Req { user: user.map(String::from) }
///     }
/// }
///
/// #[ctx::propagate(mut user)]
/// async fn whoami() -> String {
///     let name = user.clone().unwrap_or_default();
///     ctx::set!(user, Some(format!("{name} (seen)")));
///     name
/// }
///
/// let mut app = Router::new()
///     .route("/", get(|cx: RequestContext<Req>| cx.run(whoami())))
///     .layer(ContextLayer::<Req>::new());
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let req = http::Request::get("/").header("x-user", "ann").body(axum::body::Body::empty());
/// let res = app.call(req.unwrap()).await.unwrap();
/// // The handler's change, read by the middleware outside the layer.
/// let cx = res.extensions().get::<RequestContext<Req>>().unwrap();
/// assert_eq!(cx.get::<user>().as_deref(), Some("ann (seen)"));
/// # });
/// ```
pub struct RequestContext<R> {
    pub(super) st: Arc<Storage>,
    _r: PhantomData<fn() -> R>,
}

impl<R> Clone for RequestContext<R> {
    fn clone(&self) -> Self {
        RequestContext {
            st: Arc::clone(&self.st),
            _r: PhantomData,
        }
    }
}

impl<R> fmt::Debug for RequestContext<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RequestContext").field(&self.st).finish()
    }
}

impl<R> RequestContext<R> {
    /// The context of the request whose storage is `st`.
    pub(super) fn new(st: Arc<Storage>) -> Self {
        RequestContext {
            st,
            _r: PhantomData,
        }
    }
}

impl<R: Root> RequestContext<R> {
    /// Runs a propagated async fn in this request's context, as a child
    /// of it: the handler starts from the request's current values, and
    /// its changes (those of the work it joined included) are merged into
    /// the request's context, by each key's merge policy, when it returns
    /// normally — before the response reaches the middleware. A handler
    /// that panics or is cancelled changes nothing.
    ///
    /// The keys the fn needs are checked against the root type `R`: a key
    /// `R` does not carry is a compile error naming the key.
    ///
    /// ```compile_fail,E0277
    /// use ctx::http::RequestContext;
    ///
    /// ctx::keys! { pub user: String; pub tenant: String; }
    ///
    /// #[derive(ctx::ContextFields)]
    /// struct Req { user: String }
    ///
    /// #[ctx::propagate(user, tenant)]
    /// async fn handler() -> String { format!("{}@{}", *user, *tenant) }
    ///
    /// // error: context value `tenant` is not propagated here
    /// fn route(cx: RequestContext<Req>) -> impl Future<Output = String> {
    ///     cx.run(handler())
    /// }
    /// ```
    ///
    /// See [`RequestContext`] for a handler that compiles.
    pub fn run<N, B>(
        self,
        handler: Requires<N, B>,
    ) -> impl Future<Output = <B::Fut as Future>::Output> + use<R, N, B>
    where
        N: Covered<R>,
        B: AsyncBody<N>,
    {
        let child = self.st.fork();
        let fut = handler.start(Owned::child(Arc::clone(&child)));
        async move {
            let out = fut.await;
            // Not reached on panic or cancellation: their changes are
            // dropped, as a spawned child's are.
            child.merge_into_spawner();
            out
        }
    }

    /// The request's current value of `K`, a key of the root type: after
    /// the handler returned, with its changes.
    ///
    /// See [`RequestContext`] for an example.
    pub fn get<K: Key>(&self) -> Current<K>
    where
        R: Has<K>,
    {
        Current::read(&self.st).expect("ctx: a root's keys stay in its request's context")
    }
}
