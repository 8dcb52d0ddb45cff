//! With the `tracing` feature, spawned work runs in the `tracing` span
//! that was current at the spawn call: a child's events and spans are
//! never orphans. Without it, everything here is a no-op of size zero.

use std::future::Future;

/// The span current at a spawn call, carried by the child's context.
#[derive(Clone, Default)]
pub struct ChildSpan {
    #[cfg(feature = "tracing")]
    span: Option<tracing::Span>,
}

/// The guard of a child closure's span: entered while the closure runs.
pub struct SpanGuard {
    #[cfg(feature = "tracing")]
    _entered: Option<tracing::span::EnteredSpan>,
}

/// A child future, running in its spawn's span.
#[cfg(feature = "tracing")]
pub type Spanned<F> = tracing::instrument::Instrumented<F>;
/// A child future, running in its spawn's span.
#[cfg(not(feature = "tracing"))]
pub type Spanned<F> = F;

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
        }
    }

    /// Enters the span for as long as the guard lives (a child closure).
    #[inline]
    pub(crate) fn enter(&self) -> SpanGuard {
        SpanGuard {
            #[cfg(feature = "tracing")]
            _entered: self.span.clone().map(tracing::Span::entered),
        }
    }

    /// `fut`, entering the span on every poll (a child future).
    #[inline]
    pub(crate) fn instrument<F: Future>(&self, fut: F) -> Spanned<F> {
        #[cfg(feature = "tracing")]
        {
            tracing::Instrument::instrument(
                fut,
                self.span.clone().unwrap_or_else(tracing::Span::none),
            )
        }
        #[cfg(not(feature = "tracing"))]
        {
            fut
        }
    }
}
