//! With the `tracing` feature, spawned work runs in the `tracing` span
//! that was current at the spawn call: a child's events and spans are
//! never orphans. With the `opentelemetry` feature, it runs in the
//! OpenTelemetry `Context` that was current there (attached while a child
//! closure runs, and on every poll of a child future), so OpenTelemetry
//! instrumentation in spawned work stays in the caller's trace. Without
//! either, everything here is a no-op of size zero.

use std::future::Future;
use std::sync::atomic::AtomicU8;

use crate::storage::Storage;

/// The span current at a spawn call, carried by the child's context.
#[derive(Clone, Default)]
pub struct ChildSpan {
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
    #[cfg(feature = "opentelemetry")]
    otel: Option<opentelemetry::Context>,
}

/// The guard of a child closure's span: entered while the closure runs.
/// The OpenTelemetry context is attached after the span is entered and
/// detached before it is exited (fields drop in order).
pub struct SpanGuard {
    #[cfg(feature = "opentelemetry")]
    _attached: Option<opentelemetry::ContextGuard>,
    #[cfg(feature = "tracing")]
    _entered: Option<tracing::span::EnteredSpan>,
}

/// A child future in its spawn's span (`tracing`).
#[cfg(feature = "tracing")]
type InSpan<F> = tracing::instrument::Instrumented<F>;
#[cfg(not(feature = "tracing"))]
type InSpan<F> = F;

/// A child future, running in its spawn's span and OpenTelemetry context.
#[cfg(feature = "opentelemetry")]
pub type Spanned<F> = opentelemetry::context::WithContext<InSpan<F>>;
/// A child future, running in its spawn's span.
#[cfg(not(feature = "opentelemetry"))]
pub type Spanned<F> = InSpan<F>;

impl ChildSpan {
    /// The span current here, for the closures of a scoped call
    /// (`rayon::join`, `thread::scope`) that have no child context.
    #[inline]
    pub fn here() -> Self {
        Self::current()
    }

    /// Enters the span for as long as the guard lives.
    #[inline]
    pub fn __enter(&self) -> SpanGuard {
        self.enter()
    }

    /// [`ChildSpan::__enter`], taking the span (a closure that may
    /// outlive the call).
    #[inline]
    pub fn __enter_owned(self) -> SpanGuard {
        self.enter()
    }

    /// The span current here (at a spawn call).
    #[inline]
    pub(crate) fn current() -> Self {
        ChildSpan {
            #[cfg(feature = "tracing")]
            span: Some(tracing::Span::current()),
            #[cfg(feature = "opentelemetry")]
            otel: Some(opentelemetry::Context::current()),
        }
    }

    /// Enters the span for as long as the guard lives (a child closure).
    #[inline]
    pub(crate) fn enter(&self) -> SpanGuard {
        #[cfg(feature = "tracing")]
        let entered = self.span.clone().map(tracing::Span::entered);
        SpanGuard {
            #[cfg(feature = "opentelemetry")]
            _attached: self.otel.clone().map(opentelemetry::Context::attach),
            #[cfg(feature = "tracing")]
            _entered: entered,
        }
    }

    /// `fut`, entering the span on every poll (a child future).
    #[inline]
    pub(crate) fn instrument<F: Future>(&self, fut: F) -> Spanned<F> {
        #[cfg(feature = "tracing")]
        let fut = tracing::Instrument::instrument(
            fut,
            self.span.clone().unwrap_or_else(tracing::Span::none),
        );
        #[cfg(feature = "opentelemetry")]
        let fut = opentelemetry::context::FutureExt::with_context(
            fut,
            self.otel.clone().unwrap_or_default(),
        );
        fut
    }
}

/// The call site of a parallel iterator's stage (`.map(f)`), by address.
/// Not zero-sized, so that no two sites share an address.
pub struct StageSite(#[allow(dead_code, reason = "gives the site an address")] AtomicU8);

impl StageSite {
    #[allow(clippy::new_without_default, reason = "only for statics")]
    pub const fn new() -> Self {
        StageSite(AtomicU8::new(0))
    }

    #[cfg(feature = "tracing")]
    fn id(&'static self) -> usize {
        std::ptr::from_ref(self) as usize
    }
}

/// At a parallel iterator stage's call: the span current here is the one
/// its closures run in. Kept by the context, which outlives the stage
/// (the stage is lazy and may be driven after this statement).
#[inline]
pub fn stage_here(
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))] st: &Storage,
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))] site: &'static StageSite,
) {
    #[cfg(feature = "tracing")]
    st.set_stage_span(site.id(), tracing::Span::current());
}

/// In a parallel iterator stage's closure: enters the span current at the
/// stage's call, for one call of the closure.
#[inline]
pub fn enter_stage(
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))] st: &Storage,
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))] site: &'static StageSite,
) -> SpanGuard {
    SpanGuard {
        #[cfg(feature = "opentelemetry")]
        _attached: None,
        #[cfg(feature = "tracing")]
        _entered: st.stage_span(site.id()).map(tracing::Span::entered),
    }
}
