//! Request context for HTTP services built on `tower` (axum, hyper,
//! tonic): each request runs in a context built from it, and handlers are
//! `#[propagate]` async fns.
//!
//! - [`RequestRoot`]: how a root type is built from a request's head.
//! - [`ContextLayer`]: the server layer. It builds the root, runs the rest
//!   of the stack in its context, and after the response is ready it runs
//!   its [`on_response`](ContextLayer::on_response) hook in that context,
//!   where the handler's changes to `mut` keys are visible, and puts the
//!   [`RequestContext`] in the response's extensions for the middleware
//!   outside it.
//! - [`RequestContext`]: the request's context, found in the request's
//!   extensions (an axum extractor with the `axum` feature). Its
//!   [`run`](RequestContext::run) runs a propagated handler, checked at
//!   compile time against the root type, and brings the handler's changes
//!   back to the request's context when it returns normally.
//!
//! Across services, keys travel as W3C Baggage, opted in per direction
//! in `ctx::keys!`: `#[baggage(accept)]` keys may be read from inbound
//! requests (by a layer that lists them in
//! [`accept_baggage`](ContextLayer::accept_baggage)); `#[baggage(send)]`
//! keys may be written to outbound ones (by [`BaggageLayer`] or
//! [`inject`]). A key not opted in for inbound is never read from a
//! request, so an identity key cannot be set by a client.
//!
//! With the `opentelemetry` feature, the W3C trace context (`traceparent`,
//! `tracestate`) travels too: the server layer runs each request with its
//! remote span as the parent in the OpenTelemetry context, and the client
//! side writes the span of the OpenTelemetry context current where the
//! request is made.
//!
//! Enabled by the `http` feature; the `axum` feature adds the extractor.

#[cfg(feature = "axum")]
mod axum;
mod baggage;
mod client;
mod opt_in;
mod request;
mod server;
#[cfg(feature = "opentelemetry")]
mod trace;

#[cfg(feature = "axum")]
pub use axum::MissingContextLayer;

pub use request::{RequestContext, RequestRoot};
pub use server::{ContextLayer, ContextService, OnResponse};
pub use server::{NoHook, ResponseFuture};

pub use baggage::{Baggage, BaggageError, Limits};
pub use client::{BaggageLayer, BaggageService, inject};
#[cfg(feature = "opentelemetry")]
pub use trace::{TRACEPARENT, TRACESTATE, extract_traceparent, inject_traceparent};

pub use opt_in::{AcceptBaggage, AcceptKeys, BaggageValue, SendBaggage, SendKeys};
