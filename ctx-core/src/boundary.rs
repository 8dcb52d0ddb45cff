//! Spawn boundaries: the child's storage is a snapshot taken at the spawn
//! call; its writes come back when the spawner's side observes a normal
//! completion (a join), and are dropped on panic or cancellation.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::ambient::with_ambient;
use crate::cx::{Cx, Owned};
use crate::storage::Storage;

/// The child storage of a spawn: a snapshot of the spawner's values.
#[inline]
pub fn fork<W>(cx: &Cx<'_, W>) -> Owned<W> {
    Owned::new(cx.__storage().fork())
}

/// Applies a finished child's writes to the context that joins it: the
/// ambient context of the joining code.
fn back_propagate(child: &Storage) {
    if child.was_written() {
        with_ambient(|joiner| {
            if let Some(joiner) = joiner
                && !std::ptr::eq(joiner, child)
            {
                joiner.merge_from(child);
            }
        });
    }
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

    /// Wraps a closure run by a pool whose handle we do not see: when it
    /// returns normally, its writes go to the spawner's storage `parent`.
    #[doc(hidden)]
    pub fn __merge_on_return<P, T, F: FnOnce() -> T>(
        self,
        parent: &Cx<'_, P>,
        f: F,
    ) -> impl FnOnce() -> T + use<W, P, T, F> {
        let parent: Owned<P> = parent.__share();
        let child = self.st;
        move || {
            let out = f();
            parent.st.merge_from(&child);
            out
        }
    }

    /// Wraps a future whose handle we do not see (`JoinSet::spawn`): when it
    /// completes, its writes go to the spawner's storage `parent`.
    #[doc(hidden)]
    pub fn __merge_on_done<P, Fut: Future>(self, parent: &Cx<'_, P>, fut: Fut) -> MergeOnDone<Fut> {
        MergeOnDone {
            fut,
            parent: parent.__share::<P>().st,
            child: self.st,
        }
    }
}

/// See [`Owned::__merge_on_done`].
#[doc(hidden)]
pub struct MergeOnDone<Fut> {
    fut: Fut,
    parent: Arc<Storage>,
    child: Arc<Storage>,
}

impl<Fut: Future> Future for MergeOnDone<Fut> {
    type Output = Fut::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Fut::Output> {
        // SAFETY: `fut` is structurally pinned and never moved.
        let this = unsafe { self.get_unchecked_mut() };
        let out = unsafe { Pin::new_unchecked(&mut this.fut) }.poll(cx);
        if out.is_ready() {
            this.parent.merge_from(&this.child);
        }
        out
    }
}

/// The handle of a `std::thread` spawned in a propagated body: like
/// [`std::thread::JoinHandle`], and `join` brings the thread's context
/// changes back to the joiner.
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
    /// changes to the calling context. A panic discards them.
    ///
    /// # Errors
    /// The thread's panic payload, as [`std::thread::JoinHandle::join`].
    pub fn join(self) -> std::thread::Result<T> {
        let out = self.inner.join();
        if out.is_ok() {
            back_propagate(&self.child);
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

#[cfg(feature = "tokio")]
pub use self::tokio_handle::JoinHandle;

#[cfg(feature = "tokio")]
mod tokio_handle {
    use super::{Arc, Context, Future, Owned, Pin, Poll, Storage, back_propagate};

    /// The handle of a task or blocking closure spawned in a propagated
    /// body: like [`tokio::task::JoinHandle`], and awaiting it brings the
    /// child's context changes back to the awaiting context.
    ///
    /// Changes are applied when the child finished normally (also when it
    /// returned an `Err` value of its own), and dropped when it panicked or
    /// was cancelled. A handle that is never awaited changes nothing.
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
    }

    impl<W> Owned<W> {
        #[doc(hidden)]
        pub fn __join_tokio<T>(self, inner: tokio::task::JoinHandle<T>) -> JoinHandle<T> {
            JoinHandle {
                inner,
                child: Some(self.st),
            }
        }
    }

    impl<T> JoinHandle<T> {
        /// Cancels the task; its context changes are dropped.
        pub fn abort(&self) {
            self.inner.abort();
        }

        /// Whether the task has finished.
        pub fn is_finished(&self) -> bool {
            self.inner.is_finished()
        }

        /// A handle that can cancel the task.
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
            {
                back_propagate(&child);
            }
            out
        }
    }
}
