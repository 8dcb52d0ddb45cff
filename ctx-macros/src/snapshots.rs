//! Expansion snapshots: representative inputs run through the
//! `proc_macro2`-level expand functions, pretty-printed with `prettyplease`
//! and compared with the committed files in `ctx-macros/snapshots/`, so a
//! reviewer can read what each macro writes.
//!
//! `cargo test -p ctx-macros` compares; `CTX_BLESS=1 cargo test -p ctx-macros`
//! rewrites the files (and removes those no case produces). Read the diff of
//! `ctx-macros/snapshots/` before committing it.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use proc_macro2::TokenStream;

/// How the expansion is shown: `prettyplease` prints files, so an
/// expression is placed in a function.
enum Output {
    Items,
    Expr,
}

struct Snapshot {
    name: &'static str,
    about: &'static str,
    /// The invocation, quoted in the snapshot's header.
    input: String,
    output: TokenStream,
    shape: Output,
}

fn tokens(src: &str) -> TokenStream {
    src.parse()
        .unwrap_or_else(|e| panic!("snapshot input does not lex: {e}\n{src}"))
}

/// The tokens between the delimiters of `path!(...)` / `path! { ... }`.
fn macro_body(src: &str) -> TokenStream {
    syn::parse2::<syn::Macro>(tokens(src))
        .unwrap_or_else(|e| panic!("snapshot input is not a macro call: {e}\n{src}"))
        .tokens
}

fn keys(name: &'static str, about: &'static str, src: &str) -> Snapshot {
    Snapshot {
        name,
        about,
        input: src.to_owned(),
        output: crate::keys::expand(macro_body(src)),
        shape: Output::Items,
    }
}

/// `item` is the struct without its `#[derive(ctx::ContextFields)]`, as the
/// compiler hands it to the derive.
fn derive(name: &'static str, about: &'static str, item: &str) -> Snapshot {
    Snapshot {
        name,
        about,
        input: format!("#[derive(ctx::ContextFields)]\n{item}"),
        output: crate::derive::expand(tokens(item)),
        shape: Output::Items,
    }
}

fn propagate(name: &'static str, about: &'static str, args: &str, item: &str) -> Snapshot {
    Snapshot {
        name,
        about,
        input: format!("#[ctx::propagate({args})]\n{item}"),
        output: crate::propagate::expand(tokens(args), tokens(item)),
        shape: Output::Items,
    }
}

/// `ctx::with!` as a user writes it, or (`nested`) the
/// `::ctx::__private::with_keys!` a propagated body rewrites it to.
fn with(name: &'static str, about: &'static str, src: &str, nested: bool) -> Snapshot {
    Snapshot {
        name,
        about,
        input: src.to_owned(),
        output: crate::with::expand(macro_body(src), nested),
        shape: Output::Expr,
    }
}

fn cases() -> Vec<Snapshot> {
    vec![
        keys(
            "keys_merge_policies",
            "`ctx::keys!` with a doc comment and every merge policy",
            r#"ctx::keys! {
    /// The authenticated user, if any.
    pub user: Option<UserId>;
    pub request_id: RequestId;
    #[merge(keep)] pub first_seen: Instant;
    #[merge(append)] pub audit: Vec<AuditEvent>;
    #[merge(with = crate::metrics::add)] pub(crate) db_calls: u64;
}"#,
        ),
        derive(
            "derive_context_fields",
            "`derive(ContextFields)` with a skipped field and a field mapped to a key by path",
            r#"pub struct RequestCtx {
    user: Option<UserId>,
    #[ctx(key = crate::keys::request_id)]
    id: RequestId,
    #[ctx(skip)]
    started: std::time::Instant,
}"#,
        ),
        propagate(
            "propagate_sync_calls",
            "a sync associated fn with a `mut` key, calling a free fn, a path fn, \
             an associated fn via `Self::` and a method",
            "user, mut request_id",
            r#"pub fn process(order: Order) -> Receipt {
    let checked = validate(&order);
    let total = pricing::total(&checked);
    Self::record(&checked, total);
    checked.finish(total)
}"#,
        ),
        propagate(
            "propagate_method_elided_lifetime",
            "a method with a `&self` receiver whose output borrows from `self`",
            "user",
            r#"fn display_name(&self, fallback: &str) -> &str {
    let name = self.lookup(fallback);
    audit(name);
    name
}"#,
        ),
        propagate(
            "propagate_free_fn_elided_lifetime",
            "a free fn whose output lifetime is elided from its only reference input",
            "user",
            r#"fn first_word(s: &str) -> &str {
    trace(s);
    s.split(' ').next().unwrap_or(s)
}"#,
        ),
        propagate(
            "propagate_async_await",
            "an async fn awaiting propagated calls, with `?` and an inner attribute",
            "user, request_id",
            r#"async fn handle(order: Order) -> Result<Receipt, Error> {
    #![allow(clippy::needless_question_mark)]
    let account = load_account(order.account).await?;
    let receipt = charge(&account, order.amount).await?;
    notify(&receipt);
    Ok(receipt)
}"#,
        ),
        propagate(
            "propagate_spawn_boundaries",
            "a body crossing every kind of boundary: `tokio::spawn`, \
             `spawn_blocking`, `std::thread::spawn` and a rayon `par_iter` closure",
            "user, request_id",
            r#"async fn fan_out(items: Vec<Item>) -> Vec<Score> {
    let first = tokio::spawn(async move { fetch().await }).await.unwrap();
    let blocking = tokio::task::spawn_blocking(|| compress(first)).await.unwrap();
    let thread = std::thread::spawn(move || checksum(blocking)).join().unwrap();
    items.par_iter().map(|item| score(item, thread)).collect()
}"#,
        ),
        propagate(
            "propagate_set_and_nested_with",
            "`ctx::set!` on a `mut` key, and a `ctx::with!` inside a propagated body",
            "mut user, request_id",
            r#"fn login(token: &str) -> bool {
    let id = lookup(token);
    ctx::set!(user, Some(id));
    ctx::with!(AdminRoot::new(), { audit_login(id) });
    id.is_valid()
}"#,
        ),
        with(
            "with_sync",
            "`ctx::with!` around a sync block",
            r#"ctx::with!(root, {
    let token = read_token();
    authenticate(&token)
})"#,
            false,
        ),
        with(
            "with_async",
            "`ctx::with!` around a block that awaits",
            r#"ctx::with!(RequestCtx::new(user_id), {
    let order = load_order(id).await;
    handle(order).await
})"#,
            false,
        ),
        with(
            "with_nested_in_propagate",
            "the second stage of a `ctx::with!` inside a propagated body \
             (see `propagate_set_and_nested_with`): the body's keys are forwarded",
            r#"::ctx::__private::with_keys!([user: user, request_id: request_id] AdminRoot::new(), {
    audit_login(id)
})"#,
            true,
        ),
        propagate(
            "propagate_error_const_fn",
            "a validation error: `#[propagate]` on a `const fn` emits the error \
             and the original item",
            "user",
            r#"const fn limit() -> usize {
    16
}"#,
        ),
    ]
}

fn pretty(s: &Snapshot) -> String {
    let tokens = match s.shape {
        Output::Items => s.output.clone(),
        Output::Expr => {
            let e = &s.output;
            quote::quote!(fn __expansion() { let _ = #e; })
        }
    };
    match syn::parse2::<syn::File>(tokens) {
        Ok(file) => prettyplease::unparse(&file),
        Err(e) => panic!(
            "snapshot `{}`: the expansion does not parse ({e}):\n{}",
            s.name, s.output
        ),
    }
}

fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    writeln!(out, "// Expansion snapshot `{}`: {}.", s.name, s.about).unwrap();
    out.push_str(
        "// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.\n",
    );
    out.push_str("//\n// Input:\n//\n");
    for line in s.input.lines() {
        if line.is_empty() {
            out.push_str("//\n");
        } else {
            writeln!(out, "//     {line}").unwrap();
        }
    }
    out.push_str("//\n");
    match s.shape {
        Output::Items => out.push_str("// Expansion:\n\n"),
        Output::Expr => {
            out.push_str("// Expansion (the expression, shown as `let _ = …;` in a fn):\n\n")
        }
    }
    out.push_str(&pretty(s));
    out
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("snapshots")
}

fn blessing() -> bool {
    std::env::var_os("CTX_BLESS").is_some_and(|v| v == "1")
}

const CONTEXT: usize = 3;

/// A unified-style line diff (`-` snapshot, `+` expansion) with a few lines
/// of context around each change.
fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    // lcs[i][j]: longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (marker, line, line number in the snapshot, in the expansion)
    let mut ops: Vec<(char, &str, usize, usize)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i], i + 1, j + 1));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i], i + 1, j + 1));
            i += 1;
        } else {
            ops.push(('+', b[j], i + 1, j + 1));
            j += 1;
        }
    }
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let shown = |k: usize| {
        changed
            .iter()
            .any(|&c| k + CONTEXT >= c && k <= c + CONTEXT)
    };
    let mut out = String::new();
    let mut last: Option<usize> = None;
    for (k, &(mark, line, old_no, new_no)) in ops.iter().enumerate() {
        if !shown(k) {
            continue;
        }
        if last.is_none_or(|l| l + 1 != k) {
            writeln!(out, "@@ snapshot line {old_no}, expansion line {new_no} @@").unwrap();
        }
        writeln!(out, "{mark} {line}").unwrap();
        last = Some(k);
    }
    out
}

#[test]
fn expansions_match_snapshots() {
    let bless = blessing();
    let dir = dir();
    if bless {
        fs::create_dir_all(&dir).unwrap();
    }
    let cases = cases();
    let mut failures = Vec::new();
    for s in &cases {
        let path = dir.join(format!("{}.rs", s.name));
        let actual = render(s);
        if bless {
            fs::write(&path, &actual).unwrap();
            continue;
        }
        match fs::read_to_string(&path) {
            Ok(expected) => {
                let expected = expected.replace("\r\n", "\n");
                if expected != actual {
                    failures.push(format!(
                        "{} differs from the expansion (- snapshot, + expansion):\n{}",
                        path.display(),
                        line_diff(&expected, &actual)
                    ));
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                failures.push(format!("{} is missing", path.display()));
            }
            Err(e) => failures.push(format!("{} cannot be read: {e}", path.display())),
        }
    }
    // A snapshot no case produces any more would go stale unnoticed.
    let known: Vec<String> = cases.iter().map(|s| format!("{}.rs", s.name)).collect();
    if let Ok(entries) = fs::read_dir(&dir) {
        for entry in entries {
            let entry = entry.unwrap();
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.ends_with(".rs") && !known.contains(&file) {
                if bless {
                    fs::remove_file(entry.path()).unwrap();
                } else {
                    failures.push(format!(
                        "{} is not produced by any case in src/snapshots.rs",
                        entry.path().display()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{}\n\n{} snapshot problem(s). If the new expansions are intended, rerun with \
         `CTX_BLESS=1 cargo test -p ctx-macros` and review the diff of ctx-macros/snapshots/.",
        failures.join("\n\n"),
        failures.len()
    );
}

#[test]
fn line_diff_shows_changes_with_context() {
    let old = "a\nb\nc\nd\ne\nf\ng\nh\ni\n";
    let new = "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n";
    assert_eq!(
        line_diff(old, new),
        "@@ snapshot line 2, expansion line 2 @@\n  b\n  c\n  d\n- e\n+ E\n  f\n  g\n  h\n  i\n+ j\n"
    );
    assert_eq!(line_diff(old, old), "");
}
