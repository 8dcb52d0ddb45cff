//! The ambient mirror: a thread-local pointer to the storage of the
//! propagated code running on this thread, for code that cannot take
//! parameters (logging layers, panic hooks).

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr;

use crate::key::Key;
use crate::storage::{Storage, Value};

thread_local! {
    static AMBIENT: Cell<*const Storage> = const { Cell::new(ptr::null()) };
}

/// Installs a storage as ambient until dropped; restores the previous one,
/// also on unwind. Not `Send`: it belongs to the thread it was made on.
pub struct Enter<'a> {
    prev: *const Storage,
    changed: bool,
    _st: PhantomData<&'a Storage>,
}

/// Makes `st` the ambient storage of this thread for the guard's life.
#[inline]
pub fn enter(st: &Storage) -> Enter<'_> {
    let new: *const Storage = st;
    let prev = AMBIENT.with(|a| {
        let prev = a.get();
        if !ptr::eq(prev, new) {
            a.set(new);
        }
        prev
    });
    Enter {
        prev,
        changed: !ptr::eq(prev, new),
        _st: PhantomData,
    }
}

impl Drop for Enter<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.changed {
            let prev = self.prev;
            AMBIENT.with(|a| a.set(prev));
        }
    }
}

/// Runs `f` with the ambient storage, if any.
pub(crate) fn with_ambient<R>(f: impl FnOnce(Option<&Storage>) -> R) -> R {
    AMBIENT.with(|a| {
        let p = a.get();
        // SAFETY: a non-null pointer was installed by an `Enter` guard that
        // is still alive on this thread, and the guard borrows the storage.
        f(unsafe { p.as_ref() })
    })
}

/// The value of key `K` in the context of the propagated code running on
/// this thread, or `None` outside any context.
///
/// For code that cannot take the context as a parameter: a `tracing`
/// layer, a log formatter, a panic hook. Inside a `#[propagate]` function
/// it returns exactly what the function sees; outside any scope it returns
/// `None`, never a value left by an earlier task on this thread.
///
/// ```
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// fn log_line() -> String {
///     match ctx::current::<user>() {
///         Some(u) => format!("[user={}]", *u),
///         None => "[no context]".into(),
///     }
/// }
///
/// assert_eq!(log_line(), "[no context]");
/// let inside = ctx::with!(Root { user: "ann".into() }, { log_line() });
/// assert_eq!(inside, "[user=ann]");
/// ```
pub fn current<K: Key>() -> Option<Current<K>> {
    with_ambient(|st| st.and_then(|s| s.get_value(K::info()))).map(|value| Current {
        value,
        _k: PhantomData,
    })
}

/// A value read by [`current`]: an owned reference, valid after the scope
/// ends.
pub struct Current<K: Key> {
    value: Value,
    _k: PhantomData<fn() -> K>,
}

impl<K: Key> Deref for Current<K> {
    type Target = K::Value;
    fn deref(&self) -> &K::Value {
        let any: &(dyn Any + Send + Sync) = &*self.value;
        any.downcast_ref::<K::Value>()
            .expect("ctx: a context value has the type of its key")
    }
}

impl<K: Key> fmt::Debug for Current<K>
where
    K::Value: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}
