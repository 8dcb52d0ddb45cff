//! No-panic sweep of `#[propagate]` over real code: every function item
//! (free fns, impl and trait fns, nested ones too) in the `.rs` files under
//! `$CARGO_HOME/registry/src/*/` — the sources of this workspace's
//! dependencies — is expanded with a few key lists, and the expansion must
//! not panic and must parse again where the item was (a file, an `impl`, a
//! `trait`).
//!
//! `cargo test -p ctx-macros sweep` sweeps the first [`SAMPLE`] functions
//! found (seconds); `CTX_SWEEP=1 cargo test -p ctx-macros --release sweep
//! -- --nocapture` sweeps all of them, on every core, and prints the
//! figures.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::visit::{self, Visit};

mod generated;

/// Functions expanded without `CTX_SWEEP`.
const SAMPLE: usize = 2_000;

/// The key lists each function is expanded with: the README's, and one
/// whose names collide with common parameters, locals and methods (`buf`,
/// `.len()`), so shadowing and reads are exercised too.
const KEY_LISTS: [&str; 2] = ["user, mut request_id", "mut len, buf"];

/// The name of the threads whose panics are recorded instead of printed.
const QUIET: &str = "ctx-macros-sweep";

/// Where a function was found: what its expansion must parse as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Place {
    Free,
    Impl,
    Trait,
}

/// One expansion that panicked or did not parse.
pub(crate) struct Failure {
    pub place: Place,
    pub keys: &'static str,
    pub input: String,
    pub what: String,
}

thread_local! {
    /// The message of the last panic on this thread, by the quiet hook.
    static PANIC_MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// A panic hook that records the message (with its location) of panics on
/// [`QUIET`] threads, and leaves every other thread's to the default hook.
fn install_quiet_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() == Some(QUIET) {
                let at = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let msg = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(non-string panic)".to_owned());
                PANIC_MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{msg}{at}")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f` on a [`QUIET`] thread with a large stack (rustc runs macros on
/// a large stack too, and deeply nested real code needs one in debug).
pub(crate) fn on_quiet_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let f = std::sync::Mutex::new(Some(f));
    let mut out = on_quiet_threads(1, |_| (f.lock().unwrap().take().unwrap())());
    out.pop().unwrap()
}

/// Runs `f(0)`, .. `f(n - 1)` on `n` [`QUIET`] threads, as
/// [`on_quiet_thread`].
fn on_quiet_threads<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    install_quiet_hook();
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                std::thread::Builder::new()
                    .name(QUIET.to_owned())
                    .stack_size(256 << 20)
                    .spawn_scoped(s, move || f(i))
                    .expect("spawn a sweep thread")
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a sweep thread itself does not panic"))
            .collect()
    })
}

/// Expands `item` (found at `place`) with `keys`: `Err` says how it
/// panicked or why its output does not parse. Call on a [`QUIET`] thread.
pub(crate) fn check(place: Place, keys: &str, item: &TokenStream) -> Result<(), String> {
    let args: TokenStream = keys.parse().expect("key list lexes");
    let out = panic::catch_unwind(AssertUnwindSafe(|| {
        crate::propagate::expand(args, item.clone())
    }))
    .map_err(|_| {
        let msg = PANIC_MESSAGE.with(|m| m.borrow_mut().take());
        format!("panic: {}", msg.unwrap_or_default())
    })?;
    let parsed = match place {
        Place::Free => syn::parse2::<syn::File>(out.clone()).map(drop),
        Place::Impl => syn::parse2::<syn::ItemImpl>(quote!(impl __Sweep { #out })).map(drop),
        Place::Trait => syn::parse2::<syn::ItemTrait>(quote!(trait __Sweep { #out })).map(drop),
    };
    parsed.map_err(|e| format!("output does not parse as {place:?} item(s): {e}\noutput: {out}"))
}

/// Collects every function item of a file, with where it was found.
struct Collector {
    found: Vec<(Place, TokenStream, Option<TokenStream>)>,
}

impl Collector {
    fn push(
        &mut self,
        place: Place,
        tokens: TokenStream,
        sig: &syn::Signature,
        attrs: &[syn::Attribute],
    ) {
        let plain = plain_variant(place, sig, attrs, &tokens);
        self.found.push((place, tokens, plain));
    }
}

impl<'ast> Visit<'ast> for Collector {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.push(Place::Free, f.to_token_stream(), &f.sig, &f.attrs);
        visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.push(Place::Impl, f.to_token_stream(), &f.sig, &f.attrs);
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        self.push(Place::Trait, f.to_token_stream(), &f.sig, &f.attrs);
        visit::visit_trait_item_fn(self, f);
    }
}

/// `#[propagate]` rejects `const`, `unsafe`, `extern`, variadic fns, entry
/// points and `#[track_caller]` before it reads the body; so that the
/// rewriter sees those bodies too, they are also expanded without what
/// makes them rejected.
fn plain_variant(
    place: Place,
    sig: &syn::Signature,
    attrs: &[syn::Attribute],
    tokens: &TokenStream,
) -> Option<TokenStream> {
    let rejected_attr = |a: &syn::Attribute| {
        a.path().is_ident("track_caller")
            || a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "test" || s.ident == "main")
    };
    let rejected = sig.constness.is_some()
        || sig.unsafety.is_some()
        || sig.abi.is_some()
        || sig.variadic.is_some()
        || sig.ident == "main"
        || attrs.iter().any(rejected_attr);
    if !rejected {
        return None;
    }
    let strip_sig = |s: &mut syn::Signature| {
        s.constness = None;
        s.unsafety = None;
        s.abi = None;
        s.variadic = None;
        if s.ident == "main" {
            s.ident = syn::Ident::new("not_main", s.ident.span());
        }
    };
    let keep = |a: &syn::Attribute| !rejected_attr(a);
    match place {
        Place::Free => {
            let mut f: syn::ItemFn = syn::parse2(tokens.clone()).ok()?;
            strip_sig(&mut f.sig);
            f.attrs.retain(keep);
            Some(f.into_token_stream())
        }
        Place::Impl => {
            let mut f: syn::ImplItemFn = syn::parse2(tokens.clone()).ok()?;
            strip_sig(&mut f.sig);
            f.attrs.retain(keep);
            Some(f.into_token_stream())
        }
        Place::Trait => {
            let mut f: syn::TraitItemFn = syn::parse2(tokens.clone()).ok()?;
            strip_sig(&mut f.sig);
            f.attrs.retain(keep);
            Some(f.into_token_stream())
        }
    }
}

/// `$CARGO_HOME/registry/src/*/`, or the workspace's own sources if there
/// is no registry (a vendored or offline set-up).
fn roots() -> Vec<PathBuf> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let mut roots: Vec<PathBuf> = cargo_home
        .and_then(|h| std::fs::read_dir(h.join("registry/src")).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    roots.sort();
    if roots.is_empty() {
        roots.push(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."));
    }
    roots
}

/// Every `.rs` file under `dir`, in a stable order, skipping `target`
/// directories and symlinks.
fn rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let Ok(ty) = e.file_type() else { continue };
        let path = e.path();
        if ty.is_dir() && e.file_name() != "target" && e.file_name() != ".git" {
            rs_files(&path, out);
        } else if ty.is_file() && path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[derive(Default)]
struct Figures {
    files: usize,
    unparsable_files: usize,
    functions: usize,
    expansions: usize,
    panics: usize,
    bad_outputs: usize,
}

impl Figures {
    fn add(&mut self, o: &Figures) {
        self.files += o.files;
        self.unparsable_files += o.unparsable_files;
        self.functions += o.functions;
        self.expansions += o.expansions;
        self.panics += o.panics;
        self.bad_outputs += o.bad_outputs;
    }
}

/// Sweeps `files` (every `step`-th from `first`) until `limit` functions
/// are expanded. Runs on a [`QUIET`] thread.
fn sweep(
    files: &[PathBuf],
    first: usize,
    step: usize,
    limit: usize,
    progress: Option<&AtomicUsize>,
) -> (Figures, Vec<(PathBuf, Failure)>) {
    let mut fig = Figures::default();
    let mut failures = Vec::new();
    for path in files.iter().skip(first).step_by(step) {
        if fig.functions >= limit {
            break;
        }
        if let Some(p) = progress {
            let done = p.fetch_add(1, Ordering::Relaxed) + 1;
            if done.is_multiple_of(1_000) {
                eprintln!("sweep: {done} of {} files", files.len());
            }
        }
        let Ok(src) = std::fs::read_to_string(path) else {
            continue;
        };
        fig.files += 1;
        let Ok(file) = syn::parse_file(&src) else {
            fig.unparsable_files += 1;
            continue;
        };
        let mut c = Collector { found: Vec::new() };
        c.visit_file(&file);
        for (place, item, plain) in c.found {
            if fig.functions >= limit {
                break;
            }
            fig.functions += 1;
            for variant in std::iter::once(&item).chain(plain.as_ref()) {
                for keys in KEY_LISTS {
                    fig.expansions += 1;
                    if let Err(what) = check(place, keys, variant) {
                        if what.starts_with("panic") {
                            fig.panics += 1;
                        } else {
                            fig.bad_outputs += 1;
                        }
                        let input = variant.to_string();
                        failures.push((
                            path.clone(),
                            Failure {
                                place,
                                keys,
                                input,
                                what,
                            },
                        ));
                    }
                }
            }
        }
    }
    (fig, failures)
}

#[test]
fn sweep_registry_sources_expand_without_panic() {
    let full = std::env::var_os("CTX_SWEEP").is_some_and(|v| v != "0");
    let start = Instant::now();
    let mut files = Vec::new();
    for root in roots() {
        rs_files(&root, &mut files);
    }
    let mut fig = Figures::default();
    let mut failures = Vec::new();
    if full {
        // Every file, on every core.
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let progress = AtomicUsize::new(0);
        let (files, progress) = (&files, &progress);
        let parts = on_quiet_threads(workers, |w| {
            sweep(files, w, workers, usize::MAX, Some(progress))
        });
        for (f, mut fail) in parts {
            fig.add(&f);
            failures.append(&mut fail);
        }
    } else {
        let files = &files;
        (fig, failures) = on_quiet_thread(move || sweep(files, 0, 1, SAMPLE, None));
    }
    let Figures {
        files,
        unparsable_files,
        functions,
        expansions,
        panics,
        bad_outputs,
    } = fig;
    eprintln!(
        "sweep ({}): {files} files ({unparsable_files} not parsable by syn, skipped), \
         {functions} functions, {expansions} expansions, {panics} panics, \
         {bad_outputs} unparsable outputs, {:.1?}",
        if full { "full" } else { "sample" },
        start.elapsed()
    );
    assert!(functions > 0, "the sweep found no function to expand");
    if !failures.is_empty() {
        let mut report = String::new();
        for (path, f) in failures.iter().take(20) {
            let input: String = f.input.chars().take(2_000).collect();
            let what: String = f.what.chars().take(2_000).collect();
            report.push_str(&format!(
                "\n--- {} ({:?} fn, keys `{}`)\n{what}\ninput: {input}\n",
                path.display(),
                f.place,
                f.keys
            ));
        }
        panic!(
            "{} of {expansions} expansions failed (first 20 below):{report}",
            failures.len()
        );
    }
}
