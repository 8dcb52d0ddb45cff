//! Async propagated functions: `Requires` (not a future until bound to a
//! context) and `Bound` (installs the ambient mirror on every poll).

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::mem::ManuallyDrop;

use crate::ambient::mirrored;
use crate::cx::Owned;
use crate::span::Spanned;
use crate::storage::Storage;

/// What an async `#[propagate]` function returns: the body, waiting for a
/// context with the keys `N`.
///
/// It is deliberately not a usable [`Future`]: `.await` it inside a
/// propagated function (which passes the context), or enter it from plain
/// code with the root's `scope`. Awaiting or spawning it anywhere else does
/// not compile.
///
/// ```
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// #[ctx::propagate(user)]
/// async fn whoami() -> String { user.clone() }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let me = Root { user: "ann".into() }.scope(whoami()).await;
/// assert_eq!(me, "ann");
/// # });
/// ```
#[must_use = "a propagated future does nothing until awaited in a context"]
pub struct Requires<N, F> {
    f: F,
    _n: PhantomData<fn() -> N>,
}

impl<N, F> Requires<N, F> {
    #[doc(hidden)]
    #[inline]
    pub fn new<Fut>(f: F) -> Self
    where
        F: FnOnce(Owned<N>) -> Fut,
        Fut: Future,
    {
        Requires { f, _n: PhantomData }
    }

    #[inline]
    pub(crate) fn start(self, own: Owned<N>) -> Bound<F::Fut>
    where
        F: AsyncBody<N>,
    {
        let st = Arc::clone(&own.st);
        Bound::new(st, self.f.__call(own))
    }
}

/// The body of an async propagated function: given the context, a future.
pub trait AsyncBody<N> {
    /// The body's future.
    type Fut: Future;
    #[doc(hidden)]
    fn __call(self, own: Owned<N>) -> Self::Fut;
}

impl<N, F, Fut> AsyncBody<N> for F
where
    F: FnOnce(Owned<N>) -> Fut,
    Fut: Future,
{
    type Fut = Fut;
    #[inline]
    fn __call(self, own: Owned<N>) -> Fut {
        self(own)
    }
}

// Never usable: no key set is both covered by plain code and non-empty.
// The bounds make awaiting or spawning it from plain code an error that
// names the first key the future needs.
impl<N, F> Future for Requires<N, F>
where
    N: crate::check::Covered<crate::check::NoContext> + crate::check::NeedsContext,
    F: AsyncBody<N>,
{
    type Output = <F::Fut as Future>::Output;
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        unreachable!("no key set is both empty and non-empty")
    }
}

/// A future running in a context: the storage is the ambient one while the
/// inner future is polled, and while it is dropped (so the drop code of a
/// cancelled future runs in its own context).
#[must_use = "futures do nothing unless polled"]
pub struct Bound<Fut> {
    st: Arc<Storage>,
    fut: ManuallyDrop<Fut>,
}

impl<Fut> Bound<Fut> {
    pub(crate) fn new(st: Arc<Storage>, fut: Fut) -> Self {
        Bound {
            st,
            fut: ManuallyDrop::new(fut),
        }
    }
}

impl<Fut: Future> Future for Bound<Fut> {
    type Output = Fut::Output;
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        // SAFETY: `fut` is structurally pinned: it is never moved out of
        // `Bound`; `Drop` drops it in place.
        let this = unsafe { self.get_unchecked_mut() };
        let fut = unsafe { Pin::new_unchecked(&mut *this.fut) };
        mirrored(&this.st, || fut.poll(cx))
    }
}

impl<Fut> Drop for Bound<Fut> {
    fn drop(&mut self) {
        let fut = &mut self.fut;
        // SAFETY: `fut` is dropped exactly once, here, in place (it may be
        // pinned), and never used afterwards.
        mirrored(&self.st, || unsafe { ManuallyDrop::drop(fut) });
    }
}

/// Runs `fut` with `own`'s storage as the ambient one.
#[inline]
pub fn instrument<N, Fut: Future>(own: &Owned<N>, fut: Fut) -> Bound<Spanned<Fut>> {
    Bound::new(Arc::clone(&own.st), own.span.instrument(fut))
}
