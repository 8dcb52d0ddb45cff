//! Runtime of [`ctx`](https://docs.rs/ctx): context storage, the typed
//! hidden parameter and its key check, spawn boundaries, back-propagation
//! and the ambient mirror. Users depend on the `ctx` crate, which re-exports
//! this one and the macros; everything under `__private` is for generated
//! code only and not a stable API.

mod ambient;
mod boundary;
pub mod check;
mod cx;
#[cfg(feature = "tracing")]
mod fields;
mod frame;
mod future;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "tokio")]
mod join_set;
mod key;
mod probe;
mod root;
mod span;
mod storage;

pub use ambient::{Current, current};
#[cfg(feature = "tokio")]
pub use boundary::JoinHandle;
pub use boundary::ThreadJoinHandle;
pub use cx::Cx;
pub use future::Requires;
#[cfg(feature = "tokio")]
pub use join_set::{AbortHandle, JoinSet};
pub use key::{Append, Key, KeyInfo};
pub use root::Root;

#[doc(hidden)]
pub mod __private {
    pub use crate::ambient::{Enter, enter, mirrored, unmirrored, unmirrored_with};
    pub use crate::boundary::{
        Adopt, MergeOnDone, bind_here, fork, fork_mut, join_forks, join_forks_nested,
        merge_on_return,
    };
    pub use crate::cx::{Cx, Owned, Pinned, Pins, pinned, pinned_unchecked, read, read_unchecked};
    pub use crate::frame::{Entry, Value};
    pub use crate::future::{AsyncBody, Bound, Requires, instrument};
    pub use crate::key::{MergeFn, TraceFn, merge_append, merge_keep, merge_replace, merge_with};
    pub use crate::probe::{AwaitProbe, Probe, ValueProbe, prelude};
    pub use crate::root::{__take, RootReturn, RootStorage, scope, scope_returning};
    pub use crate::span::{ChildSpan, StageSite, enter_stage, stage_here};
    pub use crate::storage::Storage;
    pub use crate::{Key, KeyInfo, Root};
    pub use std::vec::Vec;

    /// `ctx::set!(key, value)`.
    #[inline]
    pub fn set<K: Key, W: crate::check::HasMut<K>>(cx: Cx<'_, W>, value: K::Value) {
        cx.__set::<K>(value);
    }

    /// The return type of a function pointer type: how `!` is named as a
    /// future's output on stable Rust (`<fn() -> ! as Ret>::Out`).
    pub trait Ret {
        type Out;
    }
    impl<R> Ret for fn() -> R {
        type Out = R;
    }

    /// Fixes an async body's output type for inference.
    #[inline(always)]
    pub fn typed<O, F: core::future::Future<Output = O>>(f: F) -> F {
        f
    }

    /// A value of any type, for a `return` that is never taken (it fixes
    /// an `async` block's output type).
    #[inline(always)]
    pub fn never<T>() -> T {
        unreachable!("a return that fixes a type is never taken")
    }

    /// Enters a storage for a synchronous body.
    #[inline]
    pub fn enter_cx<W>(cx: &Cx<'_, W>) -> Enter {
        enter(cx.__storage())
    }
}
