//! A corpus of function shapes under `#[ctx::propagate]`, built by one crate
//! per edition (`editions/edition2018`, `editions/edition2021`, and the root
//! crate's `tests/shapes.rs` for 2024). Every shape is called in a context
//! and its result, which depends on the context's values, is checked.
//!
//! Shapes are named `<prefix><NN>_<what>`, so that they can be counted;
//! the ten original ones keep their names. A shape's name may appear in
//! several items (a trait method's declaration and impls, a `cfg` twin);
//! helpers the shapes call (`tag`, `bump`, ...) are not shapes.

// Shapes per file: 314 numbered + the 10 original = 324. Count the numbered
// ones with
//   grep -ohE '\b[a-z]{3}[0-9]{2}_[a-zA-Z0-9_]+' editions/shapes/*.rs | sort -u | wc -l
//
//   edition_sensitive.rs  (original)  10  Repo::{name, first_word, iter, counter,
//                                         pinned}, head, split, adder, later, run
//   signatures.rs         sig01-41    41
//   receivers.rs          rcv01-34    34
//   traits.rs             trt01-15    15
//   attributes.rs         att01-29    29
//   names.rs              nam01-24    24
//   bodies.rs             bod01-41    41
//   callees.rs            cal01-16    16
//   key_uses.rs           key01-28    28
//   async_forms.rs        asy01-34    34
//   async_bodies.rs       abd01-18    18
//   spawns.rs             spn01-22    22
//   threads.rs            thr01-12    12
//   total                            324
//
// Shapes that are valid Rust but fail with `#[ctx::propagate]` are left out
// and described in a `// Not yet supported:` block at the end of the file
// of their concern (callees, receivers, async_forms).

pub mod async_bodies;
pub mod async_forms;
pub mod attributes;
pub mod bodies;
pub mod callees;
pub mod edition_sensitive;
pub mod key_uses;
pub mod names;
pub mod receivers;
pub mod signatures;
pub mod spawns;
pub mod threads;
pub mod traits;

ctx::keys! {
    /// The authenticated user.
    pub user: String;
    pub request_id: u64;
    /// A counter that shapes with `mut hits` change.
    pub hits: u32;
    /// A log that spawned work appends to.
    #[merge(append)] pub audit: Vec<String>;
}

/// The root of every check.
#[derive(ctx::ContextFields)]
pub struct Req {
    pub user: String,
    pub request_id: u64,
    pub hits: u32,
    pub audit: Vec<String>,
}

/// A callee of many shapes: reads `user`.
#[ctx::propagate(user)]
pub fn tag(n: u32) -> String {
    format!("{}{}", *user, n)
}

/// [`tag`], async.
#[ctx::propagate(user)]
pub async fn tag_async(n: u32) -> String {
    format!("{}{}", *user, n)
}

/// The context the checks run in: user "ann", request 7, no hits, empty
/// audit.
pub fn ann() -> Req {
    Req {
        user: "ann".into(),
        request_id: 7,
        hits: 0,
        audit: Vec::new(),
    }
}

/// The current value of `hits`, for checks that a write reached the caller.
#[ctx::propagate(hits)]
pub fn hits_now() -> u32 {
    *hits
}

/// The current value of `audit`.
#[ctx::propagate(audit)]
pub fn audit_now() -> Vec<String> {
    audit.clone()
}

/// A single-threaded runtime with timers.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap()
}

/// Runs every shape of the corpus and checks its result.
pub fn check() {
    edition_sensitive::check();
    signatures::check();
    receivers::check();
    traits::check();
    attributes::check();
    bodies::check();
    key_uses::check();
    names::check();
    callees::check();
    async_forms::check();
    spawns::check();
    async_bodies::check();
    threads::check();
}
