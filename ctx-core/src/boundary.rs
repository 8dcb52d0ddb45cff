//! Spawn boundaries: the child's storage is a snapshot taken at the spawn
//! call; its writes go back to the context that spawned it — never to
//! whoever happens to join it — when the spawner's side observes a normal
//! completion (a join), and are dropped on panic, cancellation or abort.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
#[cfg(feature = "tokio")]
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use crate::cx::{Cx, Owned};
use crate::future::Bound;
use crate::probe::Once;
use crate::storage::Storage;

/// The child storage of a spawn: a snapshot of the spawner's values, whose
/// writes go back to the spawner.
#[inline]
pub fn fork<W>(cx: &Cx<'_, W>) -> Owned<W> {
    Owned::child(cx.__storage().fork())
}

/// [`fork`] in a body with `mut` keys, where the spawn takes the context
/// mutably: at the top level, what merges from other threads replaced is
/// released.
#[inline]
pub fn fork_mut<W>(cx: &mut Cx<'_, W>) -> Owned<W> {
    if cx.top() {
        // SAFETY: a top-level `Cx` taken mutably (see `Cx`).
        unsafe { cx.__storage().release_retired() };
    }
    fork(cx)
}

/// Merges the forks of scoped closures (`rayon::join`) into their spawner,
/// in argument order, after the call returned normally.
#[inline]
pub fn join_forks<W, const N: usize>(cx: &mut Cx<'_, W>, forks: [Owned<W>; N]) {
    if !cx.top() {
        return join_forks_nested(forks);
    }
    for f in forks {
        // SAFETY: a top-level `Cx` of the spawner taken mutably.
        unsafe { f.st.merge_into_spawner_releasing() };
    }
}

/// [`join_forks`] inside a closure or an `async` block: the merges keep
/// what they replace until the next top-level write.
#[inline]
pub fn join_forks_nested<W, const N: usize>(forks: [Owned<W>; N]) {
    forks.into_iter().for_each(merge_on_return);
}

/// Merges the fork of a closure spawned in a scope when it returns
/// normally, while its spawner may be running.
#[inline]
pub fn merge_on_return<W>(fork: Owned<W>) {
    fork.st.merge_into_spawner();
}

/// A future handed to code that expects a plain future (`block_on`): a
/// propagated one is bound to the context, and either way it runs with the
/// context mirrored.
#[inline]
pub fn bind_here<Fut: Future>(st: &Storage, fut: Fut) -> Bound<Fut> {
    Bound::new(Storage::share(st), fut)
}

impl<W> Owned<W> {
    #[doc(hidden)]
    pub fn __join_thread<T>(self, inner: std::thread::JoinHandle<T>) -> ThreadJoinHandle<T> {
        ThreadJoinHandle {
            inner,
            child: self.st,
        }
    }

    #[doc(hidden)]
    pub fn __join_thread_io<T>(
        self,
        inner: std::io::Result<std::thread::JoinHandle<T>>,
    ) -> std::io::Result<ThreadJoinHandle<T>> {
        inner.map(|h| self.__join_thread(h))
    }

    /// Wraps a closure for a spawn whose handle may not be ours (a
    /// `JoinSet`, a runtime `Handle`): its normal return is recorded, and
    /// [`Adopt`] decides after the spawn call whether a handle merges at its
    /// join or the return merges.
    #[doc(hidden)]
    pub fn __merge_on_return<T, F: FnOnce() -> T>(
        &self,
        f: F,
    ) -> impl FnOnce() -> T + use<W, T, F> {
        self.st.deliver_undecided();
        let child = Arc::clone(&self.st);
        move || {
            let out = f();
            child.finished();
            out
        }
    }

    /// [`Owned::__merge_on_return`] for a future.
    #[doc(hidden)]
    pub fn __merge_on_done<Fut: Future>(&self, fut: Fut) -> MergeOnDone<Fut> {
        self.st.deliver_undecided();
        MergeOnDone {
            fut,
            child: Arc::clone(&self.st),
        }
    }
}

/// See [`Owned::__merge_on_done`].
#[doc(hidden)]
pub struct MergeOnDone<Fut> {
    fut: Fut,
    child: Arc<Storage>,
}

impl<Fut: Future> Future for MergeOnDone<Fut> {
    type Output = Fut::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        // SAFETY: `fut` is structurally pinned and never moved.
        let this = unsafe { self.get_unchecked_mut() };
        let out = unsafe { Pin::new_unchecked(&mut this.fut) }.poll(cx);
        if out.is_ready() {
            this.child.finished();
        }
        out
    }
}

/// What a method spawn returned, with the child's storage: a tokio
/// `JoinHandle` becomes a [`JoinHandle`] that merges at its join; a child
/// of a [`crate::JoinSet`] merges at `join_next`; tokio's own `JoinSet` is
/// refused; anything else (a spawn ctx does not know) is returned as it is
/// and the child's normal completion merges.
#[doc(hidden)]
pub struct Adopt<W, T>(Once<(Owned<W>, T)>);

impl<W, T> Adopt<W, T> {
    #[inline]
    pub fn new(child: Owned<W>, spawned: T) -> Self {
        Adopt(Once::new((child, spawned)))
    }

    pub(crate) fn take(&self) -> (Owned<W>, T) {
        self.0.take()
    }
}

/// Level 1 of [`Adopt`]: no handle to wrap.
#[doc(hidden)]
pub trait AdoptPlain<T> {
    fn adopt(self) -> T;
}

impl<W, T> AdoptPlain<T> for &Adopt<W, T> {
    #[inline]
    fn adopt(self) -> T {
        let (child, t) = self.take();
        child.st.decide(false);
        t
    }
}

/// The handle of a `std::thread` spawned in a propagated body: like
/// [`std::thread::JoinHandle`], and `join` brings the thread's context
/// changes back to the context that spawned it — whoever calls `join`.
///
/// ```
/// ctx::keys! { pub step: u32; }
/// #[derive(ctx::ContextFields)]
/// struct Root { step: u32 }
///
/// #[ctx::propagate(mut step)]
/// fn run() -> u32 {
///     let h = std::thread::spawn(move || ctx::set!(step, *step + 1));
///     h.join().unwrap();
///     *step
/// }
/// assert_eq!(ctx::with!(Root { step: 1 }, { run() }), 2);
/// ```
pub struct ThreadJoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    child: Arc<Storage>,
}

impl<T> ThreadJoinHandle<T> {
    /// Waits for the thread; if it returned normally, applies its context
    /// changes to the context that spawned it. A panic discards them.
    ///
    /// # Errors
    /// The thread's panic payload, as [`std::thread::JoinHandle::join`].
    pub fn join(self) -> std::thread::Result<T> {
        let out = self.inner.join();
        if out.is_ok() {
            self.child.merge_into_spawner();
        }
        out
    }

    /// The thread.
    pub fn thread(&self) -> &std::thread::Thread {
        self.inner.thread()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }

    /// The underlying handle; joining it brings no changes back.
    pub fn into_inner(self) -> std::thread::JoinHandle<T> {
        self.inner
    }
}

impl<T> fmt::Debug for ThreadJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadJoinHandle")
            .field("thread", self.inner.thread())
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "tokio")]
pub use self::tokio_handle::{AdoptHandle, JoinHandle};

#[cfg(not(feature = "tokio"))]
impl<W> Owned<W> {
    /// A tokio spawn in a propagated body, without the `tokio` feature:
    /// an error that says to enable it.
    #[doc(hidden)]
    pub fn __join_tokio<H: crate::check::TokioFeature>(self, inner: H) -> H {
        inner
    }
}

#[cfg(feature = "tokio")]
mod tokio_handle {
    use super::{
        Adopt, Arc, AtomicBool, Context, Future, Ordering, Owned, Pin, Poll, Storage, fmt,
    };

    /// The handle of a task or blocking closure spawned in a propagated
    /// body: like [`tokio::task::JoinHandle`], and awaiting it brings the
    /// child's context changes back to the context that spawned it —
    /// whoever awaits the handle, so a handle sent to another request never
    /// changes that request.
    ///
    /// Changes are applied when the child finished normally (also when it
    /// returned an `Err` value of its own), and dropped when it panicked,
    /// was cancelled or [`abort`](Self::abort)ed. A handle that is never
    /// awaited changes nothing.
    ///
    /// ```
    /// ctx::keys! { pub user: Option<String>; }
    /// #[derive(ctx::ContextFields)]
    /// struct Root { user: Option<String> }
    ///
    /// #[ctx::propagate(mut user)]
    /// async fn login() -> Option<String> {
    ///     let h = tokio::task::spawn_blocking(move || ctx::set!(user, Some("ann".into())));
    ///     h.await.unwrap();
    ///     user.clone()
    /// }
    /// # tokio::runtime::Builder::new_multi_thread().build().unwrap().block_on(async {
    /// assert_eq!(Root { user: None }.scope(login()).await.as_deref(), Some("ann"));
    /// # });
    /// ```
    pub struct JoinHandle<T> {
        inner: tokio::task::JoinHandle<T>,
        child: Option<Arc<Storage>>,
        aborted: AtomicBool,
    }

    impl<W> Owned<W> {
        #[doc(hidden)]
        pub fn __join_tokio<T>(self, inner: tokio::task::JoinHandle<T>) -> JoinHandle<T> {
            JoinHandle {
                inner,
                child: Some(self.st),
                aborted: AtomicBool::new(false),
            }
        }
    }

    /// Level 2 of [`Adopt`]: a tokio handle becomes a ctx handle.
    #[doc(hidden)]
    pub trait AdoptHandle<T> {
        fn adopt(self) -> JoinHandle<T>;
    }

    impl<W, T> AdoptHandle<T> for &&Adopt<W, tokio::task::JoinHandle<T>> {
        #[inline]
        fn adopt(self) -> JoinHandle<T> {
            let (child, h) = self.take();
            child.st.decide(true);
            child.__join_tokio(h)
        }
    }

    impl<T> JoinHandle<T> {
        /// Cancels the task; its context changes are dropped, also if it had
        /// already finished.
        pub fn abort(&self) {
            self.aborted.store(true, Ordering::Release);
            self.inner.abort();
        }

        /// Whether the task has finished.
        pub fn is_finished(&self) -> bool {
            self.inner.is_finished()
        }

        /// A handle that can cancel the task. Cancelling through it drops
        /// the changes of a task that had not finished; one that had
        /// finished still brings them back when this handle is awaited.
        pub fn abort_handle(&self) -> tokio::task::AbortHandle {
            self.inner.abort_handle()
        }

        /// The task's id.
        pub fn id(&self) -> tokio::task::Id {
            self.inner.id()
        }

        /// The underlying handle; awaiting it brings no changes back.
        pub fn into_inner(self) -> tokio::task::JoinHandle<T> {
            self.inner
        }
    }

    impl<T> Future for JoinHandle<T> {
        type Output = Result<T, tokio::task::JoinError>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.get_mut();
            let out = Pin::new(&mut this.inner).poll(cx);
            if let Poll::Ready(Ok(_)) = &out
                && let Some(child) = this.child.take()
                && !this.aborted.load(Ordering::Acquire)
            {
                child.merge_into_spawner();
            }
            out
        }
    }

    impl<T> fmt::Debug for JoinHandle<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("JoinHandle")
                .field("id", &self.inner.id())
                .finish_non_exhaustive()
        }
    }
}
