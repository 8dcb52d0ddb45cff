//! The compile-time context check, whose traits name what rustc reports.
//!
//! Every call of a propagated function, and every `ctx::with!` block,
//! is checked against the keys in scope. The function (or root) in scope
//! is a *witness* type that implements [`Has<K>`] for each key it lists
//! (and [`HasMut<K>`] for each `mut` key); the callee's key list is a
//! tuple such as `(user, Mut<audit>)`, which is [`Covered`] when each of
//! its elements is a [`Need`] the witness meets. A missing key therefore
//! shows as "the trait `Has<request_id>` is not implemented for
//! `handler::propagate`" (the witness of `fn handler`), after ctx's own
//! message that names the key and the fix.
//!
//! These traits are implemented by `#[propagate]`, `ctx::keys!` and
//! `#[derive(ContextFields)]`; user code never implements or names them.
//!
//! ```compile_fail
//! ctx::keys! { pub user: String; pub request_id: u64; }
//!
//! #[ctx::propagate(user, request_id)]
//! fn audit() -> String { format!("{}#{}", *user, *request_id) }
//!
//! // error: context value `request_id` is not propagated here
//! #[ctx::propagate(user)]
//! fn handler() -> String { audit() }
//! ```

use std::marker::PhantomData;

use crate::key::Key;

/// The witness `Self` (a propagated function's key list, or a root) carries
/// the key `K`.
///
/// ```
/// ctx::keys! { pub user: String; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// fn carries<W: ctx::check::Has<user>>() {}
/// carries::<Root>();
/// ```
#[diagnostic::on_unimplemented(
    message = "context value `{K}` is not propagated here",
    label = "this needs `{K}`, which is not in the context here",
    note = "add `{K}` to this function's #[propagate(...)] list, or give the root a field for `{K}`"
)]
pub trait Has<K> {}

/// The witness `Self` may change the key `K`: the function lists `mut K`,
/// or the root has a field for `K`.
///
/// ```
/// ctx::keys! { pub user: String; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// fn may_change<W: ctx::check::HasMut<user>>() {}
/// may_change::<Root>();
/// ```
#[diagnostic::on_unimplemented(
    message = "context value `{K}` is not declared `mut` here",
    label = "this may change `{K}`",
    note = "write `mut {K}` in this function's #[propagate(...)] list"
)]
pub trait HasMut<K>: Has<K> {}

/// The witness of a parallel iterator's closures: the keys of `W`, none of
/// them writable.
///
/// ```
/// ctx::keys! { pub user: String; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// fn carries<W: ctx::check::Has<user>>() {}
/// carries::<ctx::check::ReadOnly<Root>>();
/// ```
pub struct ReadOnly<W>(PhantomData<fn() -> W>, core::convert::Infallible);

#[diagnostic::do_not_recommend]
impl<K, W: Has<K>> Has<K> for ReadOnly<W> {}

impl<K, W: HasMut<K>> HasMut<K> for ReadOnly<W> where ReadOnly<W>: WriteInParallel<K> {}

/// Never implemented: it carries the message shown when a parallel
/// iterator's closure would change a key.
///
/// ```compile_fail
/// ctx::keys! { pub user: String; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// fn may_change<W: ctx::check::HasMut<user>>() {}
/// may_change::<ctx::check::ReadOnly<Root>>();
/// ```
#[diagnostic::on_unimplemented(
    message = "context value `{K}` cannot be changed in a parallel iterator's closure",
    label = "this may change `{K}`, from many threads at once",
    note = "change `{K}` before or after the parallel iterator, or run the work in `rayon::join`/`rayon::scope` closures, which may change it"
)]
pub trait WriteInParallel<K> {}

/// In a key set, a key the callee may change.
///
/// ```
/// use ctx::check::{Covered, Mut, Need};
///
/// ctx::keys! { pub user: String; pub audit: u32; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String, audit: u32 }
///
/// fn need<T: Need<Root>>() {}
/// fn covered<N: Covered<Root>>() {}
/// need::<user>();
/// need::<Mut<audit>>();
/// covered::<(user, Mut<audit>)>();
/// ```
pub struct Mut<K>(PhantomData<fn() -> K>, core::convert::Infallible);

/// One element of a callee's key set is available with witness `W`: a
/// key `K` needs [`Has<K>`], a [`Mut<K>`] needs [`HasMut<K>`].
///
/// ```
/// use ctx::check::{Covered, Mut, Need};
///
/// ctx::keys! { pub user: String; pub audit: u32; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String, audit: u32 }
///
/// fn need<T: Need<Root>>() {}
/// fn covered<N: Covered<Root>>() {}
/// need::<user>();
/// need::<Mut<audit>>();
/// covered::<(user, Mut<audit>)>();
/// ```
pub trait Need<W> {}

impl<K: Key, W: HasMut<K>> Need<W> for Mut<K> {}

/// Every key of the set `Self` (a tuple of up to 16 keys) is available
/// with witness `W`.
///
/// ```
/// use ctx::check::{Covered, Mut, Need};
///
/// ctx::keys! { pub user: String; pub audit: u32; }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String, audit: u32 }
///
/// fn need<T: Need<Root>>() {}
/// fn covered<N: Covered<Root>>() {}
/// need::<user>();
/// need::<Mut<audit>>();
/// covered::<(user, Mut<audit>)>();
/// ```
pub trait Covered<W> {}

impl<W> Covered<W> for () {}

impl<R> Discarded<R> for () {
    type Out = R;
    fn wrap(r: R) -> R {
        r
    }
}

/// The key set of a `#[must_use]` propagated function: the keys of `N`,
/// and a discarded call's result is a [`MustUseOutput`], so that
/// discarding it still warns, as it does for a plain call.
///
/// ```
/// ctx::keys! { pub user: String; }
///
/// #[must_use]
/// #[ctx::propagate(user)]
/// fn greeting() -> String { format!("hello {}", *user) }
///
/// #[ctx::propagate(user)]
/// fn handler() -> String {
///     // `greeting();` alone would warn: unused `MustUseOutput`.
///     greeting()
/// }
///
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
///
/// assert_eq!(ctx::with!(Root { user: "ann".into() }, { handler() }), "hello ann");
/// ```
pub struct MustUse<N>(PhantomData<fn() -> N>, core::convert::Infallible);

impl<W, N: Covered<W>> Covered<W> for MustUse<N> {}
impl<N: NeedsContext> NeedsContext for MustUse<N> {}
impl<R, N> Discarded<R> for MustUse<N> {
    type Out = MustUseOutput<R>;
    fn wrap(r: R) -> MustUseOutput<R> {
        MustUseOutput(r)
    }
}

/// The result of a call, discarded in a statement, to a propagated
/// function declared `#[must_use]`: the `unused_must_use` lint names this
/// type where it would name the function in plain code.
#[must_use = "the called function is declared `#[must_use]`: use its result, or discard it with `let _ = ...`"]
pub struct MustUseOutput<R>(pub R);

/// What a call to a function with key set `Self` gives when its result is
/// discarded in a statement: `R` itself, or a [`MustUseOutput`] for a
/// `#[must_use]` function (key set [`MustUse`]).
pub trait Discarded<R> {
    /// `R`, or [`MustUseOutput<R>`].
    type Out;
    #[doc(hidden)]
    fn wrap(r: R) -> Self::Out;
}

/// The key-set impls for each tuple of 1 to 16 keys: [`Covered`] (every
/// element is a [`Need`]), [`NeedsContext`] (not empty) and [`Discarded`].
macro_rules! key_sets {
    ($($T:ident)+) => {
        impl<W, $($T: Need<W>),+> Covered<W> for ($($T,)+) {}
        impl<$($T),+> NeedsContext for ($($T,)+) {}
        impl<R, $($T),+> Discarded<R> for ($($T,)+) {
            type Out = R;
            fn wrap(r: R) -> R {
                r
            }
        }
    };
}
key_sets!(A);
key_sets!(A B);
key_sets!(A B C);
key_sets!(A B C D);
key_sets!(A B C D E);
key_sets!(A B C D E F);
key_sets!(A B C D E F G);
key_sets!(A B C D E F G H);
key_sets!(A B C D E F G H I);
key_sets!(A B C D E F G H I J);
key_sets!(A B C D E F G H I J K);
key_sets!(A B C D E F G H I J K L);
key_sets!(A B C D E F G H I J K L M);
key_sets!(A B C D E F G H I J K L M N);
key_sets!(A B C D E F G H I J K L M N O);
key_sets!(A B C D E F G H I J K L M N O P);

/// The witness of plain code: it carries no key. A propagated future
/// awaited or spawned outside a propagated function is checked against
/// it, so the error names the first key it needs.
///
/// ```compile_fail
/// ctx::keys! { pub user: String; }
///
/// #[ctx::propagate(user)]
/// async fn handler() -> usize { user.len() }
///
/// // error: context value `user` is not propagated here
/// async fn plain() -> usize { handler().await }
/// ```
pub enum NoContext {}

/// Implemented by every key set but the empty one: a propagated future
/// that lists no key still needs a context to run in.
///
/// ```compile_fail
/// #[ctx::propagate()]
/// async fn nothing() {}
///
/// // error: this propagated future is used without a context
/// async fn plain() { nothing().await }
/// ```
#[diagnostic::on_unimplemented(
    message = "this propagated future is used without a context",
    label = "needs a context",
    note = "`.await` it inside a #[ctx::propagate] function (spawns there carry the context), or enter it from plain code with `root.scope(...)`"
)]
pub trait NeedsContext {}

#[cfg(feature = "tokio")]
/// Never implemented: it carries the message shown when a propagated body
/// spawns on tokio's own `JoinSet`, which would apply a child's changes
/// when it completes, even if the set is then aborted or dropped.
///
/// ```compile_fail
/// ctx::keys! { pub user: String; }
///
/// #[ctx::propagate(mut user)]
/// async fn rename() { ctx::set!(user, "bob".to_string()); }
///
/// // error: a child spawned on tokio's `JoinSet` cannot bring its context
/// // changes back at `join_next`
/// #[ctx::propagate(mut user)]
/// async fn handler() {
///     let mut set = tokio::task::JoinSet::new();
///     set.spawn(rename());
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "a child spawned on tokio's `JoinSet` cannot bring its context changes back at `join_next`",
    label = "spawned on a `tokio::task::JoinSet`",
    note = "use `ctx::JoinSet` (`spawn`, `spawn_blocking`, `join_next`, `abort_all`, ...): a child's changes arrive when `join_next` returns it, never for an aborted child or a dropped set"
)]
pub trait UseCtxJoinSet {}

/// A spawn on tokio's own `JoinSet` in a propagated body (the level of the
/// spawn's adoption that matches a tokio `AbortHandle`): it requires
/// [`UseCtxJoinSet`], which no witness implements, so it names
/// `ctx::JoinSet` instead of compiling.
///
/// ```compile_fail
/// ctx::keys! { pub user: String; }
///
/// #[ctx::propagate(user)]
/// async fn work() {}
///
/// #[ctx::propagate(user)]
/// async fn handler() {
///     let mut set = tokio::task::JoinSet::new();
///     set.spawn(work());
/// }
/// ```
#[cfg(feature = "tokio")]
pub trait SpawnOnTokioJoinSet<W> {
    /// Never callable: see the trait's docs.
    fn adopt(self) -> tokio::task::AbortHandle
    where
        W: UseCtxJoinSet;
}

#[cfg(feature = "tokio")]
impl<W> SpawnOnTokioJoinSet<W> for &&crate::boundary::Adopt<W, tokio::task::AbortHandle> {
    fn adopt(self) -> tokio::task::AbortHandle
    where
        W: UseCtxJoinSet,
    {
        self.take().1
    }
}

/// Never implemented: it carries the message shown when a propagated body
/// spawns a tokio task (`tokio::spawn`, `spawn_blocking`, `spawn_local`)
/// while ctx's `tokio` feature (on by default) is off.
///
/// ```
/// // With the `tokio` feature (the default), tokio spawns carry the context.
/// ctx::keys! { pub user: String; }
///
/// #[ctx::propagate(user)]
/// async fn handler() -> String {
///     tokio::spawn(async move { user.clone() }).await.unwrap()
/// }
/// # #[derive(ctx::ContextFields)] struct Root { user: String }
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # assert_eq!(rt.block_on(Root { user: "ann".into() }.scope(handler())), "ann");
/// ```
#[diagnostic::on_unimplemented(
    message = "spawning a tokio task in a propagated function needs ctx's `tokio` feature",
    label = "a tokio spawn",
    note = "enable the feature: `ctx = {{ version = \"..\", features = [\"tokio\"] }}` (it is on by default)"
)]
pub trait TokioFeature {}
