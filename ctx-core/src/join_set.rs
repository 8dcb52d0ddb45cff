//! `ctx::JoinSet`: a tokio `JoinSet` whose children's context changes
//! reach the spawning context when `join_next` returns their output — not
//! when they complete, so a set that is aborted or dropped applies none.

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::task::JoinError;

use crate::boundary::Adopt;
use crate::storage::Storage;

/// What the set knows of one child: its context, once the spawn in a
/// propagated body has handed it over, and whether it was aborted.
#[derive(Default)]
struct Child {
    st: OnceLock<Arc<Storage>>,
    aborted: AtomicBool,
}

impl Child {
    /// Applies the child's changes to its spawner, unless it was aborted.
    fn merge(&self) {
        if let Some(st) = self.st.get()
            && !self.aborted.load(Ordering::Acquire)
        {
            st.merge_into_spawner();
        }
    }
}

/// A set of spawned tasks, like [`tokio::task::JoinSet`], whose children
/// bring their context changes back when they are joined.
///
/// In a propagated body, `set.spawn(f())` and `set.spawn_blocking(..)`
/// give each child a snapshot of the context, as `tokio::spawn` does. A
/// child's changes are applied to the context that spawned it when
/// [`join_next`](Self::join_next) (or [`try_join_next`](Self::try_join_next),
/// [`join_all`](Self::join_all)) returns its output: never for a child that
/// panicked or was aborted (also after it finished), nor for children
/// still in the set when it is dropped. (Spawning on tokio's own
/// `JoinSet` in a propagated body is a compile error that points here.)
///
/// ```
/// ctx::keys! { #[merge(append)] pub log: Vec<String>; }
/// #[derive(ctx::ContextFields)]
/// struct Root { log: Vec<String> }
///
/// #[ctx::propagate(mut log)]
/// async fn step(name: &'static str) {
///     let mut entries = log.clone();
///     entries.push(name.to_string());
///     ctx::set!(log, entries);
/// }
///
/// #[ctx::propagate(mut log)]
/// async fn run() -> usize {
///     let mut set = ctx::JoinSet::new();
///     set.spawn(step("a"));
///     set.spawn(step("b"));
///     let aborted = set.spawn(step("never"));
///     aborted.abort();
///     while set.join_next().await.is_some() {}
///     log.len()
/// }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(Root { log: vec![] }.scope(run()).await, 2);
/// # });
/// ```
pub struct JoinSet<T> {
    inner: tokio::task::JoinSet<(T, Arc<Child>)>,
    children: Vec<std::sync::Weak<Child>>,
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet {
            inner: tokio::task::JoinSet::new(),
            children: Vec::new(),
        }
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    fn track(&mut self) -> Arc<Child> {
        self.children.retain(|c| c.strong_count() > 0);
        let child = Arc::new(Child::default());
        self.children.push(Arc::downgrade(&child));
        child
    }

    /// Spawns `task` on the current runtime.
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        let child = self.track();
        let c = Arc::clone(&child);
        let handle = self.inner.spawn(async move { (task.await, c) });
        AbortHandle { handle, child }
    }

    /// Runs `f` on the blocking pool.
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let child = self.track();
        let c = Arc::clone(&child);
        let handle = self.inner.spawn_blocking(move || (f(), c));
        AbortHandle { handle, child }
    }

    /// Waits for the next child to finish; a child that finished normally
    /// has its context changes applied to its spawner first.
    ///
    /// # Errors
    /// The child's [`JoinError`]: it panicked or was aborted (its changes
    /// are dropped).
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        let out = self.inner.join_next().await?;
        Some(Self::joined(out))
    }

    /// [`join_next`](Self::join_next) for a child that already finished.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let out = self.inner.try_join_next()?;
        Some(Self::joined(out))
    }

    fn joined(out: Result<(T, Arc<Child>), JoinError>) -> Result<T, JoinError> {
        out.map(|(t, child)| {
            child.merge();
            t
        })
    }

    /// Joins every child, in completion order.
    ///
    /// # Panics
    /// If a child panicked, as [`tokio::task::JoinSet::join_all`].
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(r) = self.join_next().await {
            match r {
                Ok(t) => out.push(t),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => panic!("{e}"),
            }
        }
        out
    }

    /// Aborts every child: none of them changes the context, including
    /// those that already finished.
    pub fn abort_all(&mut self) {
        for c in self.children.iter().filter_map(std::sync::Weak::upgrade) {
            c.aborted.store(true, Ordering::Release);
        }
        self.inner.abort_all();
    }

    /// Aborts every child and waits for them to stop.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.inner.join_next().await.is_some() {}
    }

    /// The number of children in the set.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether the set has no children.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet")
            .field("len", &self.inner.len())
            .finish()
    }
}

/// Cancels one child of a [`JoinSet`]; dereferences to tokio's
/// [`AbortHandle`](tokio::task::AbortHandle) for the rest.
pub struct AbortHandle {
    handle: tokio::task::AbortHandle,
    child: Arc<Child>,
}

impl AbortHandle {
    /// Cancels the child; its context changes are dropped, also if it had
    /// already finished.
    pub fn abort(&self) {
        self.child.aborted.store(true, Ordering::Release);
        self.handle.abort();
    }
}

impl Deref for AbortHandle {
    type Target = tokio::task::AbortHandle;
    fn deref(&self) -> &tokio::task::AbortHandle {
        &self.handle
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.handle.id())
            .finish()
    }
}

/// Level 2 of [`Adopt`]: a child of a [`JoinSet`] hands its context to the
/// set, which merges it at the join.
#[doc(hidden)]
pub trait AdoptJoinSet {
    fn adopt(self) -> AbortHandle;
}

impl<W> AdoptJoinSet for &&Adopt<W, AbortHandle> {
    #[inline]
    fn adopt(self) -> AbortHandle {
        let (child, h) = self.take();
        child.st.decide(true);
        let _ = h.child.st.set(Arc::clone(&child.st));
        h
    }
}
