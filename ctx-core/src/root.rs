//! Roots: entering the context from plain code.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::ambient::with_ambient;
use crate::check::Covered;
use crate::cx::{Cx, Owned};
use crate::frame::Entry;
use crate::future::{AsyncBody, Bound, Requires};
use crate::key::Key;
use crate::storage::Storage;

/// A type whose fields are the values a request starts with; implemented
/// by `#[derive(ContextFields)]`.
pub trait Root: Sized {
    /// The fields that are not context values (`#[ctx(skip)]`).
    #[doc(hidden)]
    type Rest;
    #[doc(hidden)]
    fn __split(self) -> (Vec<Entry>, Self::Rest);
}

/// A root that can be rebuilt from a context (every value field `Clone`).
#[doc(hidden)]
pub trait RootReturn: Root {
    fn __rebuild(st: &Storage, rest: Self::Rest) -> Self;
}

/// Reads the value of `K` to rebuild a root field.
#[doc(hidden)]
pub fn __take<K: Key>(st: &Storage) -> K::Value
where
    K::Value: Clone,
{
    st.get_value::<K>()
        .and_then(|v| v.downcast_ref::<K::Value>().cloned())
        .expect("ctx: a root's keys stay in its context")
}

/// The storage of a root scope. Layered over the ambient context at entry,
/// so a root inside a propagated body overrides values for its extent.
pub struct RootStorage<R> {
    st: Arc<Storage>,
    _r: PhantomData<fn() -> R>,
}

impl<R: Root> RootStorage<R> {
    #[doc(hidden)]
    pub fn new(root: R) -> Self {
        Self::split(root).0
    }

    fn split(root: R) -> (Self, R::Rest) {
        let (entries, rest) = root.__split();
        let st = with_ambient(|parent| Storage::layered(parent, entries));
        (
            RootStorage {
                st,
                _r: PhantomData,
            },
            rest,
        )
    }

    #[doc(hidden)]
    #[inline]
    pub fn cx(&self) -> Cx<'_, R> {
        Cx::new(&self.st, true)
    }

    #[doc(hidden)]
    pub fn instrument<Fut: Future>(&self, fut: Fut) -> Bound<Fut> {
        Bound::new(Arc::clone(&self.st), fut)
    }
}

/// The storage of a root whose values are overridden by `extra` (later
/// entries win), layered over the ambient context.
#[cfg(feature = "http")]
pub(crate) fn storage_with<R: Root>(root: R, extra: Vec<Entry>) -> Arc<Storage> {
    let (mut entries, _rest) = root.__split();
    entries.extend(extra);
    with_ambient(|parent| Storage::layered(parent, entries))
}

/// `root.scope(fut)`: runs a propagated future with the root's values.
#[doc(hidden)]
pub fn scope<R, N, B>(root: R, req: Requires<N, B>) -> Bound<B::Fut>
where
    R: Root,
    N: Covered<R>,
    B: AsyncBody<N>,
{
    let (rs, _rest) = RootStorage::split(root);
    req.start(Owned::owner(rs.st))
}

/// `root.scope_returning(fut)`: like `scope`, and gives back the root with
/// every change made inside.
#[doc(hidden)]
pub async fn scope_returning<R, N, B>(
    root: R,
    req: Requires<N, B>,
) -> (<B::Fut as Future>::Output, R)
where
    R: RootReturn,
    N: Covered<R>,
    B: AsyncBody<N>,
{
    let (rs, rest) = RootStorage::split(root);
    let st = Arc::clone(&rs.st);
    let out = req.start(Owned::owner(rs.st)).await;
    let root = R::__rebuild(&st, rest);
    (out, root)
}
