#![doc = include_str!("../README.md")]

pub use ctx_core::*;

/// Declares context keys: `vis name: Type;`, each optionally with a merge
/// policy for back-propagation (`#[merge(replace)]` by default, `keep`,
/// `append`, `with = path::to::fn` taking `(&mut V, V)`), and `#[trace]`
/// to show its value (which must be `Debug`) as a field of the `ctx`
/// `tracing` span of every context holding it (with the `tracing`
/// feature; see the crate docs).
///
/// ```
/// ctx::keys! {
///     /// The authenticated user.
///     #[trace] pub user: Option<String>;
///     #[merge(append)] pub audit: Vec<String>;
/// }
/// use ctx::Key;
/// assert_eq!(<audit as Key>::info().name(), "audit");
/// assert!(<user as Key>::info().is_traced());
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
/// e.g. to hand it to a function that polls it (`join_all`,
/// `FuturesUnordered::push`). `timeout(d, f())`, `Box::pin(f())` and the
/// branches of `join!`/`select!` are bound without it.
///
/// Given a closure with no parameters (`ctx::bind!(move || ..)`), it gives
/// the closure its own child context, a snapshot like a spawned thread's,
/// so it is `'static` and can go to an executor ctx does not know
/// (`pool.execute(..)`). Its changes stay in its own context: nothing
/// joins it.
///
/// ```
/// ctx::keys! { pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Root { user: String }
/// #[ctx::propagate(user)]
/// async fn who() -> String { user.clone() }
/// #[ctx::propagate(user)]
/// async fn both() -> Vec<String> {
///     let all = vec![ctx::bind!(who()), ctx::bind!(who())];
///     let mut out = Vec::new();
///     for f in all {
///         out.push(f.await);
///     }
///     out
/// }
/// #[ctx::propagate(user)]
/// fn later() -> Box<dyn FnOnce() -> String + Send + 'static> {
///     // A `'static` closure, e.g. for a pool ctx does not know.
///     Box::new(ctx::bind!(move || user.clone()))
/// }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(Root { user: "ann".into() }.scope(both()).await, ["ann", "ann"]);
/// # });
/// let job = ctx::with!(Root { user: "bo".into() }, { later() });
/// assert_eq!(std::thread::spawn(job).join().unwrap(), "bo");
/// ```
pub use ctx_macros::bind;

#[doc(hidden)]
pub mod __private {
    pub use ctx_core::__private::*;
    pub use ctx_macros::with_keys;
}
