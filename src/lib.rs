#![doc = include_str!("../README.md")]

pub use ctx_core::*;

/// Declares context keys: `vis name: Type;`, each optionally with a merge
/// policy for back-propagation (`#[merge(replace)]` by default, `keep`,
/// `append`, `with = path::to::fn` taking `(&mut V, V)`).
///
/// ```
/// ctx::keys! {
///     /// The authenticated user.
///     pub user: Option<String>;
///     #[merge(append)] pub audit: Vec<String>;
/// }
/// use ctx::Key;
/// assert_eq!(<audit as Key>::info().name(), "audit");
/// ```
pub use ctx_macros::keys;

/// Makes a function receive the listed context values (`mut k`: the
/// function may change `k`). Calls, awaits and spawns in its body pass the
/// context on; a callee needing a key the caller does not list is a
/// compile error naming the key.
///
/// ```
/// ctx::keys! { pub user: String; pub hits: u32; }
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String, hits: u32 }
///
/// #[ctx::propagate(user, mut hits)]
/// fn visit() -> String {
///     ctx::set!(hits, *hits + 1);
///     format!("{} #{}", *user, *hits)
/// }
/// assert_eq!(ctx::with!(Root { user: "ann".into(), hits: 0 }, { visit() }), "ann #1");
/// ```
pub use ctx_macros::propagate;

/// Makes a struct a root: each field is the starting value of the key of
/// the same name (or `#[ctx(key = path)]`); `#[ctx(skip)]` fields are not
/// context values. Generates `scope` and `scope_returning`.
///
/// ```
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Root { #[ctx(key = user)] name: String, #[ctx(skip)] _t: u8 }
///
/// #[ctx::propagate(mut user)]
/// async fn rename() { ctx::set!(user, "bob".into()); }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ((), root) = Root { name: "ann".into(), _t: 0 }.scope_returning(rename()).await;
/// assert_eq!(root.name, "bob");
/// # });
/// ```
pub use ctx_macros::ContextFields;

/// Runs a block in the context of a root, layered over the current
/// context; evaluates to the block's value. Values unwind on exit and on
/// panic.
///
/// ```
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
/// #[ctx::propagate(user)]
/// fn who() -> String { user.clone() }
/// assert_eq!(ctx::with!(Root { user: "ann".into() }, { who() }), "ann");
/// ```
pub use ctx_macros::with;

/// Changes a `mut` context value: seen by later reads, by callees, and by
/// the caller — after join for spawned work.
///
/// ```
/// ctx::keys! { pub n: u32; }
/// #[derive(ctx::ContextFields)]
/// struct Root { n: u32 }
/// #[ctx::propagate(mut n)]
/// fn bump() -> u32 { ctx::set!(n, *n + 1); *n }
/// assert_eq!(ctx::with!(Root { n: 1 }, { bump() }), 2);
/// ```
pub use ctx_macros::set;

/// Binds a propagated future to the current context without awaiting it,
/// e.g. to pass it to `tokio::time::timeout`.
///
/// ```
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
/// #[ctx::propagate(user)]
/// async fn who() -> String { user.clone() }
/// #[ctx::propagate(user)]
/// async fn bounded() -> String {
///     let d = std::time::Duration::from_secs(1);
///     tokio::time::timeout(d, ctx::bind!(who())).await.unwrap()
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// assert_eq!(Root { user: "ann".into() }.scope(bounded()).await, "ann");
/// # });
/// ```
pub use ctx_macros::bind;

#[doc(hidden)]
pub mod __private {
    pub use ctx_core::__private::*;
    pub use ctx_macros::with_keys;
}
