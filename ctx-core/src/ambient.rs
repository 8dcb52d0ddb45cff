//! The ambient mirror: a thread-local pointer to the storage of the
//! propagated code running on this thread, for code that cannot take
//! parameters (logging layers, panic hooks).
//!
//! Soundness rests on one invariant: **a non-null mirror always belongs to
//! an installation that has not been undone, and that installation keeps
//! its storage alive.** Every installation gets a generation number that is
//! unique on its thread; undoing it restores the previous mirror only if
//! the mirror still carries that generation (it was undone in order).
//! Otherwise something was undone out of order — a guard held across an
//! `.await` and dropped in another task's poll, say — and the mirror is
//! cleared instead, so it can be wrong for a moment (and we panic to say
//! so) but it can never point at a freed storage:
//!
//! - [`Enter`] guards own a reference count on their storage, so a guard
//!   that is leaked with `mem::forget` keeps its storage alive;
//! - scopes ([`mirrored`], [`unmirrored`] and the per-poll scope of bound
//!   futures) borrow the storage for the duration of a call and undo their
//!   installation in a drop guard local to that call, which user code
//!   cannot leak.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::ptr;
use std::sync::Arc;

use crate::key::Key;
use crate::storage::{Storage, Value};

struct Mirror {
    /// The storage mirrored now, or null.
    st: Cell<*const Storage>,
    /// The generation of the installation that set `st`.
    generation: Cell<u64>,
    /// The last generation handed out on this thread.
    last: Cell<u64>,
}

thread_local! {
    static MIRROR: Mirror = const {
        Mirror { st: Cell::new(ptr::null()), generation: Cell::new(0), last: Cell::new(0) }
    };
}

/// One installation: what to restore, and the generation that proves the
/// restore happens in order.
struct Installed {
    prev: *const Storage,
    prev_generation: u64,
    generation: u64,
}

#[inline]
fn install(st: *const Storage) -> Installed {
    // SAFETY: `st` is null (`unmirrored`) or comes from a `&Storage` that
    // the caller (`enter`, `mirrored`) borrows for the whole call.
    #[cfg(feature = "tracing")]
    let span = unsafe { st.as_ref() }.and_then(Storage::ctx_span);
    let installed = MIRROR.with(|m| {
        let generation = m.last.get() + 1;
        m.last.set(generation);
        let prev = m.st.replace(st);
        let prev_generation = m.generation.replace(generation);
        Installed {
            prev,
            prev_generation,
            generation,
        }
    });
    #[cfg(feature = "tracing")]
    if let Some(span) = span {
        spans::push(installed.generation, span);
    }
    installed
}

/// Undoes `i`; `false` if it was not the latest installation still in
/// force (the mirror is then cleared).
#[inline]
fn uninstall(i: &Installed) -> bool {
    #[cfg(feature = "tracing")]
    spans::pop(i.generation);
    MIRROR
        .try_with(|m| {
            if m.generation.get() == i.generation {
                m.st.set(i.prev);
                m.generation.set(i.prev_generation);
                true
            } else {
                let generation = m.last.get() + 1;
                m.last.set(generation);
                m.st.set(ptr::null());
                m.generation.set(generation);
                false
            }
        })
        // The thread is shutting down: nothing can read the mirror again.
        .unwrap_or(true)
}

#[cold]
#[inline(never)]
fn out_of_order() {
    if !std::thread::panicking() {
        panic!(
            "ctx: a context guard was dropped out of order (held across an `.await`, or leaked \
             inside a context scope); the ambient context of this thread was cleared. Keep \
             context guards inside one synchronous block."
        );
    }
}

/// Installs a storage as this thread's mirror until dropped, then restores
/// the previous one (also on unwind). Owns a reference to the storage, so
/// even a leaked guard cannot leave the mirror dangling. Not `Send`: it
/// belongs to the thread it was made on.
pub struct Enter {
    installed: Option<Installed>,
    _st: Option<Arc<Storage>>,
    _not_send: PhantomData<*const ()>,
}

/// Makes `st` the ambient storage of this thread for the guard's life.
#[inline]
pub fn enter(st: &Storage) -> Enter {
    let new: *const Storage = st;
    if MIRROR.with(|m| ptr::eq(m.st.get(), new)) {
        return Enter {
            installed: None,
            _st: None,
            _not_send: PhantomData,
        };
    }
    let owned = Storage::share(st);
    Enter {
        installed: Some(install(new)),
        _st: Some(owned),
        _not_send: PhantomData,
    }
}

impl Drop for Enter {
    #[inline]
    fn drop(&mut self) {
        if let Some(i) = &self.installed
            && !uninstall(i)
        {
            out_of_order();
        }
    }
}

/// Undoes an installation at the end of a scope, also on unwind.
struct Scope(Installed);

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        if !uninstall(&self.0) {
            out_of_order();
        }
    }
}

/// Runs `f` with `st` as this thread's mirror.
#[inline]
pub fn mirrored<R>(st: &Storage, f: impl FnOnce() -> R) -> R {
    let _scope = Scope(install(st));
    f()
}

/// Runs `f` with no mirror on this thread: for calls that may run
/// unrelated work on this thread while they wait (rayon's `join` and
/// `scope` steal jobs, `block_on` runs other tasks). Work that carries the
/// context installs it again itself.
#[inline]
pub fn unmirrored<R>(f: impl FnOnce() -> R) -> R {
    let _scope = Scope(install(ptr::null()));
    f()
}

/// [`unmirrored`] for a call on `t`, which is evaluated outside it.
#[inline]
pub fn unmirrored_with<T, R>(t: T, f: impl FnOnce(T) -> R) -> R {
    unmirrored(move || f(t))
}

/// After a traced value of `st` changed: if `st` is mirrored on this
/// thread, its new `ctx` span is entered until the installation in force
/// is undone, so the events that follow show the new value. The span this
/// installation entered for the old values is exited first, so the new
/// one takes its place (a sibling, not a child): a million writes leave one
/// span entered, not a chain of a million.
#[cfg(feature = "tracing")]
pub(crate) fn reopen_span(st: &Storage) {
    let here: *const Storage = st;
    let Some(generation) = MIRROR
        .try_with(|m| ptr::eq(m.st.get(), here).then(|| m.generation.get()))
        .ok()
        .flatten()
    else {
        return;
    };
    spans::exit_latest(generation);
    if let Some(span) = st.ctx_span() {
        spans::push(generation, span);
    }
}

/// The `ctx` spans entered on this thread, each with the generation of the
/// installation that exits it.
#[cfg(feature = "tracing")]
mod spans {
    use std::cell::RefCell;

    use tracing::span::EnteredSpan;

    thread_local! {
        static ENTERED: RefCell<Vec<(u64, EnteredSpan)>> = const { RefCell::new(Vec::new()) };
    }

    pub(super) fn push(generation: u64, span: tracing::Span) {
        // Entered outside the borrow: a subscriber may open spans.
        let entered = span.entered();
        let _ = ENTERED.try_with(|e| e.borrow_mut().push((generation, entered)));
    }

    /// Exits the latest span of installation `generation`, if any; whether
    /// there was one. The stack keeps its capacity: no allocation.
    pub(super) fn exit_latest(generation: u64) -> bool {
        let exited = ENTERED
            .try_with(|e| {
                let mut e = e.borrow_mut();
                let at = e.iter().rposition(|(g, _)| *g == generation)?;
                Some(e.remove(at))
            })
            .ok()
            .flatten();
        // Exited outside the borrow: a subscriber may open spans.
        exited.is_some()
    }

    /// Exits the spans of installation `generation`, latest first. Most
    /// installations entered none: one look at the stack, no allocation.
    pub(super) fn pop(generation: u64) {
        while exit_latest(generation) {}
    }
}

/// Runs `f` with the ambient storage, if any.
pub(crate) fn with_ambient<R>(f: impl FnOnce(Option<&Storage>) -> R) -> R {
    MIRROR.with(|m| {
        let p = m.st.get();
        // SAFETY: by the module invariant, a non-null mirror belongs to an
        // installation still in force, which keeps its storage alive; `f`
        // cannot undo it (installations are undone by the scope or guard
        // that made them, which outlive this call or are unreachable from
        // it).
        f(unsafe { p.as_ref() })
    })
}

/// The value of key `K` in the context of the propagated code running on
/// this thread, or `None` outside any context.
///
/// For code that cannot take the context as a parameter: a `tracing`
/// layer, a log formatter, a panic hook. Inside a `#[propagate]` function
/// it returns exactly what the function sees; outside any scope it returns
/// `None`, never a value left by an earlier task on this thread, and never
/// the context of a request whose closure happens to wait on this thread
/// (rayon work stealing, a nested `block_on`).
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
    with_ambient(|st| st.and_then(Current::read))
}

/// A value read by [`current`]: an owned reference, valid after the scope
/// ends.
pub struct Current<K: Key> {
    value: Value,
    _k: PhantomData<fn() -> K>,
}

impl<K: Key> Current<K> {
    /// The value of `K` in `st`, if it has one.
    pub(crate) fn read(st: &Storage) -> Option<Self> {
        let value = st.get_value::<K>()?;
        // A value under `K` always has `K::Value`'s type; checked once here
        // so that `Deref` cannot fail.
        let any: &(dyn Any + Send + Sync) = &*value;
        any.is::<K::Value>().then_some(Current {
            value,
            _k: PhantomData,
        })
    }
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
