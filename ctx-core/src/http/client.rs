//! The client side: outbound requests carry the current context's keys
//! opted in with `#[baggage(send)]` in their `baggage` header.

use std::fmt;
use std::marker::PhantomData;
use std::task::{Context, Poll};

use ::http::{HeaderMap, HeaderValue, Request};
use tower_layer::Layer;
use tower_service::Service;

use super::baggage::{Baggage, HEADER, Limits};
use super::opt_in::SendKeys;

/// Writes the keys `K` of the current context (see
/// [`current`](crate::current)) to `headers`' `baggage`, keeping the
/// members already there under other names. Keys the context does not
/// have, or whose value gives no string, are not sent; nor are values over
/// `limits`. For clients that are not tower services, such as reqwest:
/// `ctx::http::inject::<(tenant,)>(request.headers_mut(), &Limits::default())`.
///
/// With the `opentelemetry` feature it also writes `traceparent` and
/// `tracestate`, as `inject_traceparent` does.
///
/// ```
/// use ctx::http::{Limits, inject};
///
/// ctx::keys! { #[baggage(send)] pub tenant: String; }
/// #[derive(ctx::ContextFields)]
/// struct Req { tenant: String }
///
/// #[ctx::propagate(tenant)]
/// fn outbound() -> http::HeaderMap {
///     let mut headers = http::HeaderMap::new();
///     headers.insert("baggage", "other=1".parse().unwrap());
///     inject::<(tenant,)>(&mut headers, &Limits::default());
///     headers
/// }
///
/// let headers = ctx::with!(Req { tenant: "acme corp".into() }, { outbound() });
/// assert_eq!(headers["baggage"], "other=1,tenant=acme%20corp");
/// ```
pub fn inject<K: SendKeys>(headers: &mut HeaderMap, limits: &Limits) {
    #[cfg(feature = "opentelemetry")]
    super::trace::inject_traceparent(headers);
    // Members already set by the caller stay, unless malformed.
    let mut bag = Baggage::from_headers(headers, limits).unwrap_or_default();
    K::__send(&mut bag);
    headers.remove(HEADER);
    if bag.is_empty() {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&bag.to_header(limits)) {
        headers.insert(HEADER, v);
    }
}

/// A tower layer for HTTP clients (hyper-util's `Client`, or any
/// `Service<http::Request<B>>`): each request carries the keys `K` of the
/// context the request is made in, as [`inject`] writes them.
///
/// ```
/// use ctx::http::BaggageLayer;
/// use tower_layer::Layer;
/// use tower_service::Service;
///
/// ctx::keys! { #[baggage(send)] pub tenant: String; }
/// #[derive(ctx::ContextFields)]
/// struct Req { tenant: String }
///
/// // A client that answers with the baggage it was sent.
/// #[derive(Clone)]
/// struct Echo;
/// impl Service<http::Request<()>> for Echo {
///     type Response = String;
///     type Error = std::convert::Infallible;
///     type Future = std::future::Ready<Result<String, Self::Error>>;
///     fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Self::Error>> {
///         std::task::Poll::Ready(Ok(()))
///     }
///     fn call(&mut self, req: http::Request<()>) -> Self::Future {
///         std::future::ready(Ok(req.headers()["baggage"].to_str().unwrap().into()))
///     }
/// }
///
/// #[ctx::propagate(tenant)]
/// async fn call_other_service() -> String {
///     let mut client = BaggageLayer::<(tenant,)>::new().layer(Echo);
///     client.call(http::Request::new(())).await.unwrap()
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let sent = Req { tenant: "acme".into() }.scope(call_other_service()).await;
/// assert_eq!(sent, "tenant=acme");
/// # });
/// ```
pub struct BaggageLayer<K> {
    limits: Limits,
    _k: PhantomData<fn() -> K>,
}

impl<K: SendKeys> BaggageLayer<K> {
    /// A layer sending the keys `K`, within the default [`Limits`].
    pub fn new() -> Self {
        BaggageLayer {
            limits: Limits::default(),
            _k: PhantomData,
        }
    }
}

impl<K: SendKeys> Default for BaggageLayer<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> BaggageLayer<K> {
    /// Sends within `limits` instead of the defaults.
    ///
    /// ```
    /// ctx::keys! { #[baggage(send)] pub tenant: String; }
    /// let layer = ctx::http::BaggageLayer::<(tenant,)>::new()
    ///     .limits(ctx::http::Limits { max_value_len: 64, ..Default::default() });
    /// # let _ = layer;
    /// ```
    pub fn limits(self, limits: Limits) -> Self {
        BaggageLayer { limits, ..self }
    }
}

impl<K> Clone for BaggageLayer<K> {
    fn clone(&self) -> Self {
        BaggageLayer {
            limits: self.limits,
            _k: PhantomData,
        }
    }
}

impl<K> fmt::Debug for BaggageLayer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaggageLayer")
            .field("limits", &self.limits)
            .finish()
    }
}

impl<S, K> Layer<S> for BaggageLayer<K> {
    type Service = BaggageService<S, K>;
    fn layer(&self, inner: S) -> Self::Service {
        BaggageService {
            inner,
            limits: self.limits,
            _k: PhantomData,
        }
    }
}

/// The service of [`BaggageLayer`].
///
/// See [`BaggageLayer`] for an example.
pub struct BaggageService<S, K> {
    inner: S,
    limits: Limits,
    _k: PhantomData<fn() -> K>,
}

impl<S: Clone, K> Clone for BaggageService<S, K> {
    fn clone(&self) -> Self {
        BaggageService {
            inner: self.inner.clone(),
            limits: self.limits,
            _k: PhantomData,
        }
    }
}

impl<S: fmt::Debug, K> fmt::Debug for BaggageService<S, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaggageService")
            .field("inner", &self.inner)
            .field("limits", &self.limits)
            .finish()
    }
}

impl<S, K, B> Service<Request<B>> for BaggageService<S, K>
where
    S: Service<Request<B>>,
    K: SendKeys,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> S::Future {
        inject::<K>(req.headers_mut(), &self.limits);
        self.inner.call(req)
    }
}
