//! The hidden context parameter and the type-level key check.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};

use crate::storage::Value;

use crate::check::{Has, HasMut, ReadOnly};
use crate::key::Key;
use crate::span::{ChildSpan, SpanGuard};
use crate::storage::Storage;

/// The hidden context parameter that `#[propagate]` adds to a synchronous
/// function: a copyable reference to the context, typed by the key set
/// `W` the function lists (`Cx<'_, (user, Mut<audit>)>`).
///
/// You never name or pass it: calls inside a `#[propagate]` function or a
/// `ctx::with!` block pass it, checked against the keys in scope. A call
/// from plain code is missing it, which rustc reports as "argument #1 of
/// type `Cx<'_, (user,)>` is missing": call the function from a
/// `#[propagate]` function, or enter a context with `ctx::with!`.
///
/// ```
/// ctx::keys! { pub user: String; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// #[ctx::propagate(user)]
/// fn handler() -> usize { user.len() }
///
/// // `handler` takes a `Cx<'_, (user,)>`, passed by `with!`.
/// assert_eq!(ctx::with!(Root { user: "ann".into() }, { handler() }), 3);
/// ```
//
// Implementation: how a replaced value can be released at once although
// reads hand out `&V`: a read in a body (`read`) borrows the body's `Cx` for
// as long as the `&V` lives, and every use that may write takes the `Cx`
// mutably for a moment (`Cx::__m`): the borrow checker rejects a `&V` held
// across a write, a call or an await of a body with `mut` keys. A `Cx`
// reached that way from the top of a body, whose callers all passed it the
// same way, is *top-level*: no `&V` into its storage is borrowed anywhere,
// so its writes release what they replace. Inside a closure or an `async`
// block, which may run while the body holds borrows (a callback, a branch of
// `join!`), and in futures bound with `bind!`, the `Cx` is not top-level
// (`Cx::__c`): reads there take their own reference (`pinned`) and writes
// keep what they replace until the next top-level write of the storage.
// Closures borrow the `Cx` only shared, so several can exist and call
// writers one after another; each write is made under the storage's lock.
pub struct Cx<'a, W> {
    st: &'a Storage,
    top: bool,
    _w: PhantomData<fn() -> W>,
}

impl<W> Clone for Cx<'_, W> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<W> Copy for Cx<'_, W> {}

impl<'a, W> Cx<'a, W> {
    pub(crate) fn new(st: &'a Storage, top: bool) -> Self {
        Cx {
            st,
            top,
            _w: PhantomData,
        }
    }

    #[doc(hidden)]
    /// A copy obtained through `&mut`: every use that may write (in a body
    /// with `mut` keys: writes, calls, awaits, spawns) goes through this,
    /// so the borrow checker rejects a `&V` read before and used after.
    #[inline]
    pub fn __m(&mut self) -> Self {
        *self
    }

    #[doc(hidden)]
    /// A use inside a closure, an `async` block or a `bind!`: not
    /// top-level (see the type's docs), so it releases nothing, and a
    /// shared borrow, so that closures run one after another (iterator
    /// adapters, callbacks) can all use the context. A top-level use takes
    /// the context mutably and so cannot happen while one of them lives.
    #[inline]
    pub fn __c(&self) -> Self {
        Cx::new(self.st, false)
    }

    #[doc(hidden)]
    /// Re-types the context to the witness of the current body.
    #[inline]
    pub fn __retype<W2>(self) -> Cx<'a, W2> {
        Cx::new(self.st, self.top)
    }

    #[doc(hidden)]
    /// Writes `K`; only compiles where `K` was declared `mut`.
    #[inline]
    pub fn __set<K: Key>(self, value: K::Value)
    where
        W: HasMut<K>,
    {
        if self.top {
            // SAFETY: a top-level `Cx` obtained through `__m`: no `&V` into
            // the storage is borrowed and no lock-free read of it runs
            // (see the type's docs).
            unsafe { self.st.set_releasing::<K>(value) }
        } else {
            self.st.set_retiring::<K>(value);
        }
    }

    #[doc(hidden)]
    /// A copy that can read every key of `W` but change none: the context
    /// of closures run in parallel (a parallel iterator's `Fn` closures).
    #[inline]
    pub fn __readonly(self) -> Cx<'a, ReadOnly<W>> {
        Cx::new(self.st, false)
    }

    #[doc(hidden)]
    /// The storage this context reads: for the mirror and for reads that
    /// take their own reference to a value ([`pinned`]).
    #[inline]
    pub fn __storage(self) -> &'a Storage {
        self.st
    }

    /// Whether this context is top-level (see the type's docs).
    #[inline]
    pub(crate) fn top(self) -> bool {
        self.top
    }

    #[doc(hidden)]
    /// An owning handle on the storage, for futures that outlive this borrow.
    pub fn __share<N>(self) -> Owned<N> {
        Owned::new(Storage::share(self.st), self.top)
    }
}

// SAFETY (of the `unsafe` blocks below): see `read`.
/// The current value of `K`, borrowed from the context for as long as the
/// `&V` lives: a read at the top of a body.
#[inline(always)]
pub fn read<'b, K: Key, W: Has<K>>(cx: &'b Cx<'_, W>) -> &'b K::Value {
    read_unchecked::<K, W>(cx)
}

/// [`read`] without the key check: keys of a `with!` block, which the
/// root's fields provide.
#[inline(always)]
pub fn read_unchecked<'b, K: Key, W>(cx: &'b Cx<'_, W>) -> &'b K::Value {
    // SAFETY: the reader borrows `cx` for `'b`. A value is released only
    // by a write through a top-level `Cx` taken mutably, which the borrow
    // checker keeps out of `'b` (see `Cx`).
    match unsafe { cx.st.get::<K>() } {
        Some(v) => v,
        None => missing(K::info().name()),
    }
}

/// An owning reference to the current value of `K`, for reads that cannot
/// borrow the context: in a statement that also calls or awaits
/// (`f(&user)` in a body with `mut` keys: the callee may change `user`
/// while the argument is in use), and in closures and `async` blocks.
#[inline]
pub fn pinned<K: Key, W: Has<K>>(st: &Storage) -> Pinned<K> {
    pinned_unchecked::<K>(st)
}

/// [`pinned`] without the key check.
#[inline]
pub fn pinned_unchecked<K: Key>(st: &Storage) -> Pinned<K> {
    match st.get_value::<K>().map(|v| v.downcast::<K::Value>()) {
        Some(Ok(v)) => Pinned(v),
        _ => missing(K::info().name()),
    }
}

/// See [`pinned`].
pub struct Pinned<K: Key>(Arc<K::Value>);

/// The values read by one run of a closure or `async` block of a body with
/// `mut` keys: each read keeps an owning reference here, so the `&V` it
/// returns lives as long as the run (like a read at the top of a body)
/// without borrowing the body's context, which the body may need
/// meanwhile.
#[derive(Default)]
pub struct Pins(Mutex<Vec<Value>>);

impl Pins {
    /// No values yet.
    #[inline]
    pub fn new() -> Self {
        Pins::default()
    }

    /// The current value of `K`, kept for as long as `self`.
    #[inline]
    pub fn read<K: Key, W: Has<K>>(&self, st: &Storage) -> &K::Value {
        self.read_unchecked::<K>(st)
    }

    /// [`Pins::read`] without the key check.
    pub fn read_unchecked<K: Key>(&self, st: &Storage) -> &K::Value {
        let Pinned(v) = pinned_unchecked::<K>(st);
        let p = Arc::as_ptr(&v);
        let mut pins = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !pins.iter().any(|q| Arc::as_ptr(q).cast::<()>() == p.cast()) {
            pins.push(v);
        }
        // SAFETY: `p` points into a value behind an `Arc`, one of whose
        // references `self` keeps until it drops (values are only ever
        // added), so the value outlives the `&self` borrow.
        unsafe { &*p }
    }
}

impl<K: Key> Pinned<K> {
    /// The value.
    #[inline]
    pub fn __get(&self) -> &K::Value {
        &self.0
    }
}

/// An owning handle on a storage, carried by async bodies and spawned work.
pub struct Owned<N> {
    pub(crate) st: Arc<Storage>,
    /// Whether the body it is given to is top-level (see [`Cx`]).
    top: bool,
    /// A spawned child's: the `tracing` span current at the spawn call.
    pub(crate) span: ChildSpan,
    _n: PhantomData<fn() -> N>,
}

impl<N> Clone for Owned<N> {
    fn clone(&self) -> Self {
        Owned {
            span: self.span.clone(),
            ..Owned::new(Arc::clone(&self.st), self.top)
        }
    }
}

impl<N> Owned<N> {
    pub(crate) fn new(st: Arc<Storage>, top: bool) -> Self {
        Owned {
            st,
            top,
            span: ChildSpan::default(),
            _n: PhantomData,
        }
    }

    /// A spawned child's owner, in the span current at the spawn call.
    pub(crate) fn child(st: Arc<Storage>) -> Self {
        Owned {
            span: ChildSpan::current(),
            ..Owned::new(st, true)
        }
    }

    /// Enters the spawn's span while a child closure runs.
    #[inline]
    pub fn __enter_span(&self) -> SpanGuard {
        self.span.enter()
    }

    /// A storage's owner: a root or a spawned child.
    pub(crate) fn owner(st: Arc<Storage>) -> Self {
        Owned::new(st, true)
    }

    /// The same storage, typed by the key set `N2`.
    pub(crate) fn retype<N2>(self) -> Owned<N2> {
        Owned::new(self.st, self.top)
    }

    /// Borrows the context with the witness it was forked under.
    #[inline]
    pub fn cx_same(&self) -> Cx<'_, N> {
        Cx::new(&self.st, self.top)
    }

    /// Borrows the context with the body's witness `W`.
    #[inline]
    pub fn cx<W>(&self) -> Cx<'_, W> {
        Cx::new(&self.st, self.top)
    }
}

#[cold]
#[inline(never)]
fn missing(name: &str) -> ! {
    panic!("ctx: context value `{name}` is missing although its key was checked")
}
