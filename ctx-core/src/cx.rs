//! The hidden context parameter and the type-level key check.

use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::Arc;

use crate::key::Key;
use crate::storage::Storage;

/// The hidden context parameter of a propagated function: a copyable
/// reference to the storage, typed by the key set `W` the holder may use.
pub struct Cx<'a, W> {
    st: &'a Storage,
    _w: PhantomData<fn() -> W>,
}

impl<W> Clone for Cx<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<W> Copy for Cx<'_, W> {}

impl<'a, W> Cx<'a, W> {
    pub(crate) fn new(st: &'a Storage) -> Self {
        Cx {
            st,
            _w: PhantomData,
        }
    }

    /// A copy obtained through `&mut`: in functions with `mut` keys, every
    /// use of the context goes through this, so the borrow checker forbids
    /// two closures that could write at the same time.
    #[inline]
    pub fn __m(&mut self) -> Self {
        *self
    }

    /// Re-types the context to the witness of the current body.
    #[inline]
    pub fn __retype<W2>(self) -> Cx<'a, W2> {
        Cx::new(self.st)
    }

    /// Writes `K`; only compiles where `K` was declared `mut`.
    #[inline]
    pub fn __set<K: Key>(self, value: K::Value)
    where
        W: HasMut<K>,
    {
        self.st.set::<K>(value);
    }

    /// A copy that can read every key of `W` but change none: the context
    /// of closures run in parallel (a parallel iterator's `Fn` closures).
    #[inline]
    pub fn __readonly(self) -> Cx<'a, ReadOnly<W>> {
        Cx::new(self.st)
    }

    /// The storage this context reads.
    #[inline]
    pub fn __storage(self) -> &'a Storage {
        self.st
    }

    /// An owning handle on the storage, for futures that outlive this borrow.
    pub fn __share<N>(self) -> Owned<N> {
        Owned::from_ref(self.st)
    }
}

/// An owning handle on a storage, carried by async bodies and spawned work.
pub struct Owned<N> {
    pub(crate) st: Arc<Storage>,
    _n: PhantomData<fn() -> N>,
}

impl<N> Clone for Owned<N> {
    fn clone(&self) -> Self {
        Owned::new(Arc::clone(&self.st))
    }
}

impl<N> Owned<N> {
    pub(crate) fn new(st: Arc<Storage>) -> Self {
        Owned {
            st,
            _n: PhantomData,
        }
    }

    pub(crate) fn from_ref(st: &Storage) -> Self {
        Owned::new(Storage::share(st))
    }

    /// Borrows the context with the witness it was forked under.
    #[inline]
    pub fn cx_same(&self) -> Cx<'_, N> {
        Cx::new(&self.st)
    }

    /// Borrows the context with the body's witness `W`.
    #[inline]
    pub fn cx<W>(&self) -> Cx<'_, W> {
        Cx::new(&self.st)
    }
}

/// The witness `Self` carries the key `K`.
#[diagnostic::on_unimplemented(
    message = "context value `{K}` is not propagated here",
    label = "this needs `{K}`, which the enclosing function does not list",
    note = "add `{K}` to this function's #[propagate(...)] list, or give the root a field for `{K}`"
)]
pub trait Has<K> {}

/// The witness `Self` may change the key `K`.
#[diagnostic::on_unimplemented(
    message = "context value `{K}` is not declared `mut` here",
    label = "this may change `{K}`",
    note = "write `mut {K}` in this function's #[propagate(...)] list"
)]
pub trait HasMut<K>: Has<K> {}

/// The witness of a parallel iterator's closures: the keys of `W`, none of
/// them writable.
pub struct ReadOnly<W>(PhantomData<fn() -> W>, core::convert::Infallible);

impl<K, W: Has<K>> Has<K> for ReadOnly<W> {}

impl<K, W: HasMut<K>> HasMut<K> for ReadOnly<W> where ReadOnly<W>: WriteInParallel<K> {}

/// Never implemented: it carries the message shown when a parallel
/// iterator's closure would change a key.
#[diagnostic::on_unimplemented(
    message = "context value `{K}` cannot be changed in a parallel iterator's closure",
    label = "this may change `{K}`, from many threads at once",
    note = "change `{K}` before or after the parallel iterator, or run the work in `rayon::join`/`rayon::scope` closures, which may change it"
)]
pub trait WriteInParallel<K> {}

/// In a key set, a key the callee may change.
pub struct Mut<K>(PhantomData<fn() -> K>, core::convert::Infallible);

/// One element of a callee's key set is available with witness `W`.
pub trait Need<W> {}

impl<K: Key, W: HasMut<K>> Need<W> for Mut<K> {}

/// Every key of the set `Self` is available with witness `W`.
pub trait Covered<W> {}

macro_rules! covered {
    ($($T:ident)*) => {
        impl<W, $($T: Need<W>),*> Covered<W> for ($($T,)*) {}
    };
}
covered!();
covered!(A);
covered!(A B);
covered!(A B C);
covered!(A B C D);
covered!(A B C D E);
covered!(A B C D E F);
covered!(A B C D E F G);
covered!(A B C D E F G H);
covered!(A B C D E F G H I);
covered!(A B C D E F G H I J);
covered!(A B C D E F G H I J K);
covered!(A B C D E F G H I J K L);
covered!(A B C D E F G H I J K L M);
covered!(A B C D E F G H I J K L M N);
covered!(A B C D E F G H I J K L M N O);
covered!(A B C D E F G H I J K L M N O P);

/// A listed key inside a `#[propagate]` body: reads like `&K::Value`.
///
/// It reads the current value each time, so a `ctx::set!` earlier in the
/// same function is seen. It is deliberately not `Clone`: `user.clone()`
/// clones the value.
///
/// ```
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// #[ctx::propagate(user)]
/// fn greeting() -> String {
///     format!("hello {}, {} chars", *user, user.len())
/// }
///
/// let s = ctx::with!(Root { user: "ann".into() }, { greeting() });
/// assert_eq!(s, "hello ann, 3 chars");
/// ```
pub struct KeyRef<'a, K: Key> {
    st: &'a Storage,
    _k: PhantomData<fn() -> K>,
}

impl<'a, K: Key> KeyRef<'a, K> {
    #[doc(hidden)]
    #[inline]
    pub fn new<W: Has<K>>(cx: &Cx<'a, W>) -> Self {
        KeyRef {
            st: cx.st,
            _k: PhantomData,
        }
    }

    #[doc(hidden)]
    #[inline]
    pub fn __unchecked<W>(cx: &Cx<'a, W>) -> Self {
        KeyRef {
            st: cx.st,
            _k: PhantomData,
        }
    }

    /// The current value.
    #[inline]
    pub fn get(&self) -> &'a K::Value {
        match self.st.get::<K>() {
            Some(v) => v,
            None => missing(K::info().name()),
        }
    }
}

#[cold]
#[inline(never)]
fn missing(name: &str) -> ! {
    panic!("ctx: context value `{name}` is missing although its key was checked")
}

impl<K: Key> Deref for KeyRef<'_, K> {
    type Target = K::Value;
    #[inline]
    fn deref(&self) -> &K::Value {
        self.get()
    }
}

impl<K: Key> fmt::Debug for KeyRef<'_, K>
where
    K::Value: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.get(), f)
    }
}

impl<K: Key> fmt::Display for KeyRef<'_, K>
where
    K::Value: fmt::Display,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.get(), f)
    }
}
