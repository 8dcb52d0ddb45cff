//! Keys and merge policies.

use std::any::TypeId;
use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use crate::storage::Value;

/// A context key, declared with `ctx::keys!`.
///
/// Keys are uninhabited types (`enum user {}`): they name a value, they are
/// not values, so a key that a function did not list cannot be read there.
///
/// ```
/// ctx::keys! { pub tenant: String; }
/// use ctx::Key;
/// assert_eq!(<tenant as Key>::info().name(), "tenant");
/// ```
pub trait Key: 'static {
    /// The type of the value stored under this key.
    type Value: Send + Sync + 'static;
    /// The key's identity: one static per key.
    fn info() -> &'static KeyInfo;
}

/// Merges a finished child's value of a key into the joiner's:
/// `(joiner's value, child's value, child's value at spawn) -> new value`.
pub type MergeFn = fn(Option<&Value>, &Value, Option<&Value>) -> Value;

/// Formats a key's value for `tracing` (a key declared `#[trace]`).
pub type TraceFn = fn(&Value, &mut fmt::Formatter<'_>) -> fmt::Result;

/// Name, merge policy and `tracing` opt-in of a key. One `static` per key;
/// its address is the key's identity.
pub struct KeyInfo {
    name: &'static str,
    pub(crate) merge: MergeFn,
    key_type: TypeId,
    trace: Option<TraceFn>,
}

impl KeyInfo {
    /// The identity of key type `K`. A `Key` impl must return a `KeyInfo`
    /// made for itself: one made for another type is rejected (a panic) at
    /// the first read or write.
    #[doc(hidden)]
    pub const fn new<K: 'static>(name: &'static str, merge: MergeFn) -> Self {
        KeyInfo {
            name,
            merge,
            key_type: TypeId::of::<K>(),
            trace: None,
        }
    }

    /// This key, its value (a `V`) shown on `tracing` spans.
    #[doc(hidden)]
    pub const fn traced<V: fmt::Debug + 'static>(self) -> Self {
        KeyInfo {
            trace: Some(trace_debug::<V>),
            ..self
        }
    }

    /// Whether the key was declared `#[trace]`: with the `tracing`
    /// feature, its value is a field of the `ctx` span of every context
    /// that holds it.
    ///
    /// ```
    /// ctx::keys! {
    ///     #[trace] pub request_id: u64;
    ///     pub secret: String;
    /// }
    /// use ctx::Key;
    /// assert!(<request_id as Key>::info().is_traced());
    /// assert!(!<secret as Key>::info().is_traced());
    /// ```
    pub fn is_traced(&self) -> bool {
        self.trace.is_some()
    }

    /// The formatter of a traced key's value.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub(crate) fn trace_fn(&self) -> Option<TraceFn> {
        self.trace
    }

    pub(crate) fn key_type(&self) -> TypeId {
        self.key_type
    }

    /// The key's name as written in `keys!`.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

fn downcast<V: 'static>(v: &Value) -> &V {
    v.downcast_ref::<V>()
        .expect("ctx: a context value has the type of its key")
}

/// The [`TraceFn`] of a key whose value is `V`.
fn trace_debug<V: fmt::Debug + 'static>(v: &Value, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    fmt::Debug::fmt(downcast::<V>(v), f)
}

#[doc(hidden)]
pub fn merge_replace(_parent: Option<&Value>, child: &Value, _base: Option<&Value>) -> Value {
    Arc::clone(child)
}

#[doc(hidden)]
pub fn merge_keep(parent: Option<&Value>, child: &Value, _base: Option<&Value>) -> Value {
    Arc::clone(parent.unwrap_or(child))
}

#[doc(hidden)]
pub fn merge_append<V: Append>(
    parent: Option<&Value>,
    child: &Value,
    base: Option<&Value>,
) -> Value {
    let child: &V = downcast(child);
    let from = base.map_or(0, |b| downcast::<V>(b).len());
    let mut out = parent.map_or_else(V::default, |p| downcast::<V>(p).clone());
    out.extend_from(child, from);
    Arc::new(out)
}

#[doc(hidden)]
pub fn merge_with<V: Clone + Send + Sync + 'static>(
    parent: Option<&Value>,
    child: &Value,
    f: fn(&mut V, V),
) -> Value {
    let c: &V = downcast(child);
    match parent {
        Some(p) => {
            let mut out = downcast::<V>(p).clone();
            f(&mut out, c.clone());
            Arc::new(out)
        }
        None => Arc::clone(child),
    }
}

/// Collections usable with `#[merge(append)]`: at join, the elements a
/// child added after its spawn-time snapshot are appended to the joiner's
/// value, so each child contributes exactly what it added, in join order.
///
/// ```
/// use ctx::Append;
/// let mut joined = vec![1, 2];
/// let child = vec![1, 2, 3, 4]; // spawned when the value was [1, 2]
/// joined.extend_from(&child, 2);
/// assert_eq!(joined, [1, 2, 3, 4]);
/// ```
pub trait Append: Clone + Default + Send + Sync + 'static {
    /// Number of elements.
    fn len(&self) -> usize;
    /// Whether there are no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Appends `other`'s elements from index `from` on.
    fn extend_from(&mut self, other: &Self, from: usize);
}

impl<T: Clone + Send + Sync + 'static> Append for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn extend_from(&mut self, other: &Self, from: usize) {
        self.extend(other.iter().skip(from).cloned());
    }
}

impl<T: Clone + Send + Sync + 'static> Append for VecDeque<T> {
    fn len(&self) -> usize {
        VecDeque::len(self)
    }
    fn extend_from(&mut self, other: &Self, from: usize) {
        self.extend(other.iter().skip(from).cloned());
    }
}

impl Append for String {
    fn len(&self) -> usize {
        String::len(self)
    }
    fn extend_from(&mut self, other: &Self, from: usize) {
        self.push_str(other.get(from..).unwrap_or(other));
    }
}
