//! The server side: a tower layer that runs each request in a context built
//! from it.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ::http::{Request, Response, response};
use tower_layer::Layer;
use tower_service::Service;

use crate::ambient::mirrored;
use crate::future::Bound;
use crate::root::storage_with;

use super::baggage::{BaggageError, Limits};
use super::opt_in::AcceptKeys;
use super::request::{RequestContext, RequestRoot};

/// What [`ContextLayer`] does when a response is ready: called in the
/// request's context (so [`current`](crate::current) sees it too), after
/// the handler's changes came back. Implemented by closures
/// `Fn(&RequestContext<R>, &mut http::response::Parts)`.
///
/// See [`ContextLayer::on_response`] for an example.
pub trait OnResponse<R>: Send + Sync + 'static {
    /// Called with the request's context and the response's head.
    fn on_response(&self, cx: &RequestContext<R>, response: &mut response::Parts);
}

impl<R, F> OnResponse<R> for F
where
    F: Fn(&RequestContext<R>, &mut response::Parts) + Send + Sync + 'static,
{
    fn on_response(&self, cx: &RequestContext<R>, response: &mut response::Parts) {
        self(cx, response);
    }
}

/// The [`OnResponse`] of a layer without a hook: does nothing.
///
/// ```
/// use ctx::http::{ContextLayer, NoHook};
///
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Req { user: String }
///
/// let _layer: ContextLayer<Req, NoHook> = ContextLayer::new();
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoHook;

impl<R> OnResponse<R> for NoHook {
    fn on_response(&self, _: &RequestContext<R>, _: &mut response::Parts) {}
}

/// A tower layer that runs each request in a context built from it by
/// [`RequestRoot::from_request`]: the rest of the stack (middleware,
/// routing, handlers) runs with the context mirrored, the request carries
/// its [`RequestContext`] in its extensions, and so does the response.
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
///     fn from_request(_: &http::request::Parts) -> Self {
///         Req { user: None }
///     }
/// }
///
/// #[ctx::propagate(mut user)]
/// fn authenticate(token: &str) {
///     ctx::set!(user, token.strip_prefix("token-").map(String::from));
/// }
///
/// #[ctx::propagate(mut user)]
/// async fn login() -> &'static str {
///     tokio::task::spawn_blocking(|| authenticate("token-ann")).await.unwrap();
///     "welcome"
/// }
///
/// let mut app = Router::new()
///     .route("/", get(|cx: RequestContext<Req>| cx.run(login())))
///     .layer(ContextLayer::<Req>::new().on_response(
///         |cx: &RequestContext<Req>, res: &mut http::response::Parts| {
///             // The user set in the blocking closure, after the handler.
///             let user = cx.get::<user>().clone().unwrap_or_default();
///             res.headers.insert("x-user", user.parse().unwrap());
///         },
///     ));
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let req = http::Request::get("/").body(axum::body::Body::empty()).unwrap();
/// let res = app.call(req).await.unwrap();
/// assert_eq!(res.headers()["x-user"], "ann");
/// # });
/// ```
pub struct ContextLayer<R, H = NoHook, A = ()> {
    hook: Arc<H>,
    limits: Limits,
    _r: PhantomData<fn() -> (R, A)>,
}

impl<R> ContextLayer<R> {
    /// A layer building roots of type `R`, without a hook, reading no
    /// baggage.
    pub fn new() -> Self {
        ContextLayer {
            hook: Arc::new(NoHook),
            limits: Limits::default(),
            _r: PhantomData,
        }
    }
}

impl<R> Default for ContextLayer<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R, H, A> ContextLayer<R, H, A> {
    /// Runs `hook` when a response is ready, in the request's context,
    /// with the handler's changes: to log the request with the user a
    /// handler authenticated, or to copy values into response headers.
    ///
    /// See [`ContextLayer`] for an example.
    pub fn on_response<H2: OnResponse<R>>(self, hook: H2) -> ContextLayer<R, H2, A> {
        ContextLayer {
            hook: Arc::new(hook),
            limits: self.limits,
            _r: PhantomData,
        }
    }

    /// Reads the keys `A2` (a tuple of keys of `R` declared
    /// `#[baggage(accept)]`) from the request's `baggage` header: a key the
    /// header carries with a valid value overrides the root's value. Any
    /// other key is never read from a request. A header that breaks the
    /// W3C grammar or the [`Limits`] is ignored whole, and its
    /// [`BaggageError`] is put in the request's extensions; a value that
    /// does not parse, or is longer than the limit, is ignored.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use ctx::http::{ContextLayer, RequestContext, RequestRoot};
    /// use tower_service::Service;
    ///
    /// ctx::keys! {
    ///     #[baggage(accept)] pub tenant: String;
    ///     pub user: Option<String>; // never read from a request
    /// }
    /// #[derive(ctx::ContextFields)]
    /// struct Req { tenant: String, user: Option<String> }
    /// impl RequestRoot for Req {
    ///     fn from_request(_: &http::request::Parts) -> Self {
    ///         Req { tenant: "default".into(), user: None }
    ///     }
    /// }
    ///
    /// #[ctx::propagate(tenant, user)]
    /// async fn show() -> String { format!("{} {:?}", *tenant, *user) }
    ///
    /// let mut app = Router::new()
    ///     .route("/", get(|cx: RequestContext<Req>| cx.run(show())))
    ///     .layer(ContextLayer::<Req>::new().accept_baggage::<(tenant,)>());
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let req = http::Request::get("/").header("baggage", "tenant=acme,user=root");
    /// let res = app.call(req.body(axum::body::Body::empty()).unwrap()).await.unwrap();
    /// let cx = res.extensions().get::<RequestContext<Req>>().unwrap();
    /// assert_eq!(*cx.get::<tenant>(), "acme");
    /// assert_eq!(*cx.get::<user>(), None);
    /// # });
    /// ```
    pub fn accept_baggage<A2: AcceptKeys<R>>(self) -> ContextLayer<R, H, A2> {
        ContextLayer {
            hook: self.hook,
            limits: self.limits,
            _r: PhantomData,
        }
    }

    /// Reads baggage within `limits` instead of the defaults.
    ///
    /// ```
    /// ctx::keys! { pub user: String; }
    /// #[derive(ctx::ContextFields)]
    /// struct Req { user: String }
    /// let layer = ctx::http::ContextLayer::<Req>::new()
    ///     .baggage_limits(ctx::http::Limits { max_value_len: 64, ..Default::default() });
    /// # let _ = layer;
    /// ```
    pub fn baggage_limits(self, limits: Limits) -> Self {
        ContextLayer { limits, ..self }
    }
}

impl<R, H, A> Clone for ContextLayer<R, H, A> {
    fn clone(&self) -> Self {
        ContextLayer {
            hook: Arc::clone(&self.hook),
            limits: self.limits,
            _r: PhantomData,
        }
    }
}

impl<R, H, A> fmt::Debug for ContextLayer<R, H, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextLayer")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<S, R, H, A> Layer<S> for ContextLayer<R, H, A> {
    type Service = ContextService<S, R, H, A>;
    fn layer(&self, inner: S) -> Self::Service {
        ContextService {
            inner,
            hook: Arc::clone(&self.hook),
            limits: self.limits,
            _r: PhantomData,
        }
    }
}

/// The service of [`ContextLayer`].
///
/// See [`ContextLayer`] for an example.
pub struct ContextService<S, R, H = NoHook, A = ()> {
    inner: S,
    hook: Arc<H>,
    limits: Limits,
    _r: PhantomData<fn() -> (R, A)>,
}

impl<S: Clone, R, H, A> Clone for ContextService<S, R, H, A> {
    fn clone(&self) -> Self {
        ContextService {
            inner: self.inner.clone(),
            hook: Arc::clone(&self.hook),
            limits: self.limits,
            _r: PhantomData,
        }
    }
}

impl<S: fmt::Debug, R, H, A> fmt::Debug for ContextService<S, R, H, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, R, H, A, B, ResB> Service<Request<B>> for ContextService<S, R, H, A>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    R: RequestRoot,
    H: OnResponse<R>,
    A: AcceptKeys<R>,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, R, H>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let (mut parts, body) = req.into_parts();
        let root = R::from_request(&parts);
        let mut accepted = Vec::new();
        if let Err(e) = A::__accept(&parts.headers, &self.limits, &mut accepted) {
            accepted.clear();
            parts.extensions.insert::<BaggageError>(e);
        }
        let st = storage_with(root, accepted);
        let cx = RequestContext::<R>::new(Arc::clone(&st));
        parts.extensions.insert(cx.clone());
        #[cfg(feature = "opentelemetry")]
        let otel = super::trace::request_context(&parts.headers);
        let req = Request::from_parts(parts, body);
        #[cfg(not(feature = "opentelemetry"))]
        let fut = mirrored(&st, || self.inner.call(req));
        #[cfg(feature = "opentelemetry")]
        let fut = {
            use opentelemetry::context::FutureExt as _;
            let _otel = otel.clone().attach();
            mirrored(&st, || self.inner.call(req)).with_context(otel)
        };
        ResponseFuture {
            fut: Box::pin(Bound::new(st, fut)),
            done: Some((cx, Arc::clone(&self.hook))),
        }
    }
}

/// The inner service's future, in the request's OpenTelemetry context
/// with the `opentelemetry` feature.
#[cfg(feature = "opentelemetry")]
type Traced<F> = opentelemetry::context::WithContext<F>;
#[cfg(not(feature = "opentelemetry"))]
type Traced<F> = F;

/// The future of [`ContextService`]: the inner service's, polled in the
/// request's context.
pub struct ResponseFuture<F, R, H> {
    fut: Pin<Box<Bound<Traced<F>>>>,
    done: Option<(RequestContext<R>, Arc<H>)>,
}

impl<F, R, H> fmt::Debug for ResponseFuture<F, R, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}

impl<F, E, ResB, R: 'static, H> Future for ResponseFuture<F, R, H>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    H: OnResponse<R>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.get_mut();
        let res = match this.fut.as_mut().poll(cx) {
            Poll::Ready(Ok(res)) => res,
            other => return other,
        };
        let (rcx, hook) = this
            .done
            .take()
            .expect("ctx: a response future is not polled after it completed");
        let (mut parts, body) = res.into_parts();
        mirrored(&rcx.st, || hook.on_response(&rcx, &mut parts));
        parts.extensions.insert(rcx);
        Poll::Ready(Ok(Response::from_parts(parts, body)))
    }
}
