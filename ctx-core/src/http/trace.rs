//! With the `opentelemetry` feature, the W3C trace context travels with
//! the baggage: `traceparent` (and `tracestate`) is read by
//! [`ContextLayer`](super::ContextLayer), which runs the request with its
//! span as the remote parent of the OpenTelemetry context, and written by
//! [`BaggageLayer`](super::BaggageLayer) and [`inject`](super::inject)
//! from the OpenTelemetry context current where the request is made.

use std::str::FromStr;

use ::http::{HeaderMap, HeaderValue};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

/// The name of the trace context header.
pub const TRACEPARENT: &str = "traceparent";
/// The name of the vendor trace state header.
pub const TRACESTATE: &str = "tracestate";

/// The span context a request's `traceparent` (and `tracestate`) names,
/// marked remote; `None` if there is none, or it is not valid by the W3C
/// Trace Context rules (lowercase hex, non-zero ids, version `ff`
/// refused, one header). A `tracestate` that does not parse is dropped.
///
/// ```
/// use ctx::http::extract_traceparent;
///
/// let mut headers = http::HeaderMap::new();
/// headers.insert(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap(),
/// );
/// let sc = extract_traceparent(&headers).unwrap();
/// assert_eq!(sc.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(sc.is_sampled() && sc.is_remote());
///
/// headers.insert("traceparent", "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01".parse().unwrap());
/// assert!(extract_traceparent(&headers).is_none());
/// ```
pub fn extract_traceparent(headers: &HeaderMap) -> Option<SpanContext> {
    let mut all = headers.get_all(TRACEPARENT).iter();
    let (value, None) = (all.next()?, all.next()) else {
        return None;
    };
    let (trace_id, span_id, flags) = parse_traceparent(value.to_str().ok()?)?;
    let state = headers
        .get(TRACESTATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| TraceState::from_str(s).ok())
        .unwrap_or_default();
    Some(SpanContext::new(trace_id, span_id, flags, true, state))
}

fn parse_traceparent(s: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let is_hex = |f: &str, len: usize| {
        f.len() == len && f.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    let mut fields = s.split('-');
    let version = fields.next()?;
    let (trace_id, span_id, flags) = (fields.next()?, fields.next()?, fields.next()?);
    // Version 00 has exactly four fields; a later version may add fields
    // after them, which are ignored.
    if !is_hex(version, 2) || version == "ff" || (version == "00" && fields.next().is_some()) {
        return None;
    }
    if !is_hex(trace_id, 32) || !is_hex(span_id, 16) || !is_hex(flags, 2) {
        return None;
    }
    let trace_id = TraceId::from_hex(trace_id).ok()?;
    let span_id = SpanId::from_hex(span_id).ok()?;
    let flags = u8::from_str_radix(flags, 16).ok()?;
    (trace_id != TraceId::INVALID && span_id != SpanId::INVALID).then_some((
        trace_id,
        span_id,
        TraceFlags::new(flags & TraceFlags::SAMPLED.to_u8()),
    ))
}

/// Writes the span context of the OpenTelemetry context current here as
/// `traceparent` (and `tracestate` if any), replacing those headers; does
/// nothing when it has no valid span context.
///
/// ```
/// use ctx::http::inject_traceparent;
/// use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
///
/// let sc = SpanContext::new(
///     TraceId::from(0x4bf9_u128),
///     SpanId::from(0xf067_u64),
///     TraceFlags::SAMPLED,
///     true,
///     TraceState::default(),
/// );
/// let _in_span = opentelemetry::Context::current().with_remote_span_context(sc).attach();
/// let mut headers = http::HeaderMap::new();
/// inject_traceparent(&mut headers);
/// assert_eq!(
///     headers["traceparent"],
///     "00-00000000000000000000000000004bf9-000000000000f067-01"
/// );
/// ```
pub fn inject_traceparent(headers: &mut HeaderMap) {
    let cx = opentelemetry::Context::current();
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return;
    }
    let value = format!(
        "00-{}-{}-{:02x}",
        sc.trace_id(),
        sc.span_id(),
        sc.trace_flags().to_u8() & TraceFlags::SAMPLED.to_u8()
    );
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert(TRACEPARENT, v);
    }
    headers.remove(TRACESTATE);
    let state = sc.trace_state().header();
    if let Ok(v) = HeaderValue::from_str(&state)
        && !state.is_empty()
    {
        headers.insert(TRACESTATE, v);
    }
}

/// The OpenTelemetry context a request runs in: the current one, with the
/// request's `traceparent` span as the remote parent if it has a valid
/// one.
pub(crate) fn request_context(headers: &HeaderMap) -> opentelemetry::Context {
    let cx = opentelemetry::Context::current();
    match extract_traceparent(headers) {
        Some(sc) => cx.with_remote_span_context(sc),
        None => cx,
    }
}
