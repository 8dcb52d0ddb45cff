//! Spawn boundaries and scoped closures: the child context of a spawn
//! (a snapshot whose writes go back to the spawner), the closures of
//! `rayon::join`/`scope`, `thread::scope` and parallel iterators, calls
//! that wait without the mirror (`block_on`, rayon), and the mirror that a
//! closure using the context installs while it runs.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, ExprCall, ExprClosure, ExprMethodCall};

use super::syntax::{hole, splice};
use super::{Chain, Rewriter, cx_at, cx_ident, hidden, segment_names, starts_with_let};

impl Rewriter {
    /// The child closure of a `'static` closure boundary. A callee that is
    /// not a closure or a path is evaluated here, in the parent, as plain
    /// Rust evaluates a call's arguments.
    pub(super) fn child_closure(&self, arg: &Expr) -> TokenStream {
        let own = hidden("__ctx_own");
        // A closure that uses the context mirrors it itself.
        let mirrored = matches!(arg, Expr::Closure(c) if mirrors(&c.body));
        let prelude = self.child_prelude(&own, !mirrored, false);
        match arg {
            Expr::Closure(c) if c.inputs.is_empty() && c.asyncness.is_none() => {
                let body = &c.body;
                let ret = &c.output;
                quote_spanned!(arg.span()=> move || #ret { #prelude #body })
            }
            Expr::Path(_) => {
                let call: ExprCall = syn::parse_quote_spanned!(arg.span()=> #arg());
                let call = self
                    .probe_call(&call, false)
                    .map_or_else(|| call.to_token_stream(), |e| e.to_token_stream());
                quote_spanned!(arg.span()=> move || { #prelude #call })
            }
            _ => {
                let job = hidden("__ctx_job");
                quote_spanned!(arg.span()=> {
                    let #job = #arg;
                    move || { #prelude #job() }
                })
            }
        }
    }

    /// The child future of a future boundary. An `async` block runs in the
    /// child; any other argument (`f(x)`) is evaluated here, in the parent,
    /// and a propagated future is bound to the child's context.
    fn child_future(&self, arg: &Expr) -> TokenStream {
        let own = hidden("__ctx_own");
        let fork = hidden("__ctx_fork");
        match arg {
            Expr::Async(a) => {
                let stmts = &a.block.stmts;
                let prelude = self.child_prelude(&own, false, true);
                quote_spanned! {arg.span()=>
                    ::ctx::__private::instrument(&#fork, async move { #prelude #(#stmts)* })
                }
            }
            _ => {
                let child = hidden("__ctx_child");
                quote_spanned! {arg.span()=> {
                    let #child = (&&::ctx::__private::AwaitProbe::new(#arg)).__bind_owned(#own);
                    ::ctx::__private::instrument(&#fork, #child)
                }}
            }
        }
    }

    /// The child context of a spawn: `__ctx_fork` (kept by the spawner's
    /// side) and `__ctx_own` (moved into the child).
    pub(super) fn fork(&self) -> TokenStream {
        let (fork, own) = (hidden("__ctx_fork"), hidden("__ctx_own"));
        let new = self.new_fork();
        quote! {
            let #fork = #new;
            let #own = ::core::clone::Clone::clone(&#fork);
        }
    }

    /// A child context of the current one. In a body with `mut` keys the
    /// spawn is an exclusive point (see `ctx_core::boundary::fork_mut`).
    fn new_fork(&self) -> TokenStream {
        self.used();
        let cx = cx_ident();
        if self.takes_exclusive() && self.closures == 0 {
            self.exclusive.set(self.exclusive.get() + 1);
            quote!(::ctx::__private::fork_mut(&mut #cx))
        } else {
            quote!(::ctx::__private::fork(&#cx))
        }
    }

    pub(super) fn boundary_call(&self, call: &ExprCall) -> Option<Expr> {
        let Expr::Path(p) = &*call.func else {
            return None;
        };
        let segs = segment_names(&p.path);
        let last = segs.last()?.as_str();
        let prefix = &segs[..segs.len() - 1];
        let has = |s: &str| prefix.iter().any(|x| x == s);
        let fk = hidden("__ctx_fork");
        // The callee is bound first, under an `allow`: a user's Clippy
        // configuration may forbid raw spawns (`disallowed_methods`), and a
        // rewritten one is not raw. Only the callee's path is under the
        // `allow`; the child and its arguments are linted as usual.
        let func = hidden("__ctx_spawn");
        let callee = &call.func;
        let bind = quote! {
            #[allow(clippy::disallowed_methods)]
            let #func = #callee;
        };
        let h = hidden("__ctx_handle");
        let one_arg = || (call.args.len() == 1).then(|| &call.args[0]);
        let out: TokenStream = match last {
            "spawn_blocking" => {
                let c = self.child_closure(one_arg()?);
                let fork = self.fork();
                quote!({ #fork #bind let #h = #func(#c); #fk.__join_tokio(#h) })
            }
            "spawn_local" => {
                let f = self.child_future(one_arg()?);
                let fork = self.fork();
                quote!({ #fork #bind let #h = #func(#f); #fk.__join_tokio(#h) })
            }
            "spawn" if has("thread") => {
                let c = self.child_closure(one_arg()?);
                let fork = self.fork();
                quote!({ #fork #bind let #h = #func(#c); #fk.__join_thread(#h) })
            }
            "spawn" if has("rayon") => {
                let c = self.child_closure(one_arg()?);
                let fork = self.fork();
                quote!({ #fork #bind #func(#c) })
            }
            "spawn" if has("tokio") || has("task") || matches!(one_arg(), Some(Expr::Async(_))) => {
                let f = self.child_future(one_arg()?);
                let fork = self.fork();
                quote!({ #fork #bind let #h = #func(#f); #fk.__join_tokio(#h) })
            }
            // Calls that take a future to run later: a propagated future
            // there is bound to the context, as by `ctx::bind!`.
            "timeout" | "timeout_at" if call.args.len() == 2 => {
                let d = &call.args[0];
                let f = self.bound_later(&call.args[1]);
                quote!(#callee(#d, #f))
            }
            "pin" if segs.len() == 2 && segs[0] == "Box" => {
                let f = self.bound_later(one_arg()?);
                quote!(#callee(#f))
            }
            "block_on" => {
                let f = self.bind_here(one_arg()?);
                let x = hidden("__ctx_f");
                quote!(::ctx::__private::unmirrored_with(#f, |#x| #callee(#x)))
            }
            "join" | "scope" | "in_place_scope"
                if has("rayon") || has("thread") || prefix.is_empty() =>
            {
                if !call.args.iter().all(|a| matches!(a, Expr::Closure(_))) || call.args.is_empty()
                {
                    return None;
                }
                let Scoped { head, args, forks } =
                    self.scoped_args(call.args.iter(), ScopedMode::Join);
                // The caller waits in the call and may run unrelated jobs
                // meanwhile (rayon steals): it does so without the mirror.
                let out = hidden("__ctx_out");
                let cx = cx_ident();
                let merge = (!forks.is_empty()).then(|| {
                    if self.closures == 0 {
                        quote!(::ctx::__private::join_forks(&mut #cx, [#(#forks),*]);)
                    } else {
                        quote!(::ctx::__private::join_forks_nested([#(#forks),*]);)
                    }
                });
                // A scope's closure takes the scope (`|s| ..`): called
                // through a local, the callee would not give it its type,
                // so the call itself is under the `allow`.
                let takes_scope = call
                    .args
                    .iter()
                    .any(|a| matches!(a, Expr::Closure(c) if !c.inputs.is_empty()));
                let call_it = if takes_scope {
                    quote! {
                        #[allow(clippy::disallowed_methods)]
                        let #out = ::ctx::__private::unmirrored(|| #callee(#(#args),*));
                    }
                } else {
                    quote! {
                        #bind
                        let #out = ::ctx::__private::unmirrored(|| #func(#(#args),*));
                    }
                };
                quote!({
                    #head
                    #call_it
                    #merge
                    #out
                })
            }
            _ => return None,
        };
        Some(syn::parse_quote_spanned!(call.span()=> #out))
    }

    /// A future handed to code that polls it later (`timeout(d, f())`,
    /// `Box::pin(f())`): a propagated future is bound to the context, any
    /// other is left as it is. As with `ctx::bind!`, the context is not
    /// top-level: the future may be polled while the body holds a read.
    fn bound_later(&self, arg: &Expr) -> TokenStream {
        self.used();
        let cx = cx_at(arg.span());
        let cx = if self.readonly > 0 {
            quote!(::ctx::Cx::__readonly(#cx))
        } else if self.mutable {
            quote!(#cx.__c())
        } else {
            quote!(#cx)
        };
        let c = hidden("__ctx_c");
        quote_spanned! {arg.span()=>
            { let #c = #cx; (&&::ctx::__private::AwaitProbe::new(#arg)).__bind_await(#c) }
        }
    }

    /// A future handed to code that runs it (`block_on`): a propagated
    /// future is bound to the context, and it runs with the context
    /// mirrored while other work the call runs does not see it.
    /// It takes the body's storage reference (`__ctx_st`), which borrows
    /// nothing: the future may borrow the context mutably.
    fn bind_here(&self, arg: &Expr) -> TokenStream {
        self.used();
        let bound = self.await_probe(arg);
        let st = hidden("__ctx_st");
        quote_spanned!(arg.span()=> ::ctx::__private::bind_here(#st, #bound))
    }

    /// The arguments of a scoped boundary (`thread::scope` spawns, rayon
    /// `join`/`scope`/parallel iterators): closures run on another thread
    /// while the caller waits, and mirror the context while they run.
    ///
    /// In a function that may write (`mut` keys, `with!` blocks), a closure
    /// that uses the context gets its own child context, a snapshot like a
    /// spawned task's: closures running at once never share a writer, and
    /// a closure that panics leaves no write behind. Its writes are merged
    /// into the caller when it returns (`merge_on_return`, for spawns in a
    /// scope) or after the call, in argument order (the returned `forks`).
    ///
    /// A closure that does not use the context mirrors the body's storage
    /// reference (`__ctx_st`), so it borrows nothing the closures could
    /// conflict on.
    fn scoped_args<'e>(&self, args: impl Iterator<Item = &'e Expr>, mode: ScopedMode) -> Scoped {
        let st = hidden("__ctx_st");
        let mut head = TokenStream::new();
        let mut forks = Vec::new();
        let mut spans = 0;
        // A closure without a child context of its own enters the span
        // current at the call (`ChildSpan::here`) while it runs.
        let mut in_span = |head: &mut TokenStream, mut c: ExprClosure| {
            if mode == ScopedMode::Parallel {
                // A stage is lazy and may outlive this block: the span is
                // kept by the context, under the stage's site, and entered
                // at every call of the closure.
                self.used();
                let site = hidden("__CTX_STAGE_SITE");
                head.extend(quote! {
                    static #site: ::ctx::__private::StageSite = ::ctx::__private::StageSite::new();
                    ::ctx::__private::stage_here(#st, &#site);
                });
                let body = std::mem::replace(&mut *c.body, Expr::Verbatim(TokenStream::new()));
                let guard = hidden("__ctx_span");
                let template = quote_spanned! {body.span()=> {
                    let #guard = ::ctx::__private::enter_stage(#st, &#site);
                    __ctx_hole0
                }};
                *c.body = splice(template, vec![body]);
                return c.to_token_stream();
            }
            let (span, guard) = (hidden(&format!("__ctx_span{spans}")), hidden("__ctx_span"));
            spans += 1;
            head.extend(quote!(let #span = ::ctx::__private::ChildSpan::here();));
            let body = std::mem::replace(&mut *c.body, Expr::Verbatim(TokenStream::new()));
            // A scope's spawn may outlive this block: it takes the span.
            let enter = if mode == ScopedMode::Spawn {
                quote!(::ctx::__private::ChildSpan::__enter_owned(#span))
            } else {
                quote!(#span.__enter())
            };
            let template = quote_spanned! {body.span()=> {
                let #guard = #enter;
                __ctx_hole0
            }};
            *c.body = splice(template, vec![body]);
            c.to_token_stream()
        };
        let args = args
            .map(|a| match a {
                Expr::Closure(c) if !mirrors(&c.body) => {
                    self.used();
                    let mut c = c.clone();
                    let body = std::mem::replace(&mut *c.body, Expr::Verbatim(TokenStream::new()));
                    let template = quote_spanned! {body.span()=>
                        ::ctx::__private::mirrored(#st, || __ctx_hole0)
                    };
                    *c.body = splice(template, vec![body]);
                    in_span(&mut head, c)
                }
                Expr::Closure(c) if self.mutable && mode != ScopedMode::Parallel => {
                    self.used();
                    let i = forks.len();
                    let (fork, keep) = (
                        hidden(&format!("__ctx_fork{i}")),
                        hidden(&format!("__ctx_keep{i}")),
                    );
                    let new = self.new_fork();
                    head.extend(quote! {
                        let #fork = #new;
                        let #keep = ::core::clone::Clone::clone(&#fork);
                    });
                    if mode == ScopedMode::Join {
                        forks.push(keep.to_token_stream());
                    }
                    let own = hidden("__ctx_own");
                    let out = hidden("__ctx_out");
                    let prelude = self.child_prelude(&own, false, false);
                    let merge = (mode == ScopedMode::Spawn)
                        .then(|| quote!(::ctx::__private::merge_on_return(#keep);));
                    let mut c = c.clone();
                    let body = std::mem::replace(&mut *c.body, Expr::Verbatim(TokenStream::new()));
                    let template = quote_spanned! {body.span()=> {
                        let #own = #fork;
                        #prelude
                        #[allow(clippy::diverging_sub_expression)]
                        let #out = __ctx_hole0;
                        #merge
                        #out
                    }};
                    *c.body = splice(template, vec![body]);
                    c.to_token_stream()
                }
                Expr::Closure(c) => in_span(&mut head, c.clone()),
                other => other.to_token_stream(),
            })
            .collect();
        Scoped { head, args, forks }
    }

    /// A closure literal, or a local bound to one.
    fn is_closure(&self, e: &Expr) -> bool {
        match e {
            Expr::Closure(_) => true,
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| self.closure_locals.contains(&i.to_string())),
            _ => false,
        }
    }

    pub(super) fn boundary_method(&self, m: &ExprMethodCall, chain: Chain) -> Option<Expr> {
        let name = m.method.to_string();
        let recv = &m.receiver;
        let method = &m.method;
        let turbofish = &m.turbofish;
        let fk = hidden("__ctx_fork");
        let child = hidden("__ctx_child");
        let r = hidden("__ctx_recv");
        // Spanned at the method: a spawn ctx refuses (tokio's `JoinSet`) is
        // reported there.
        let adopt = |child: TokenStream| quote_spanned!(method.span()=> (&&::ctx::__private::Adopt::new(#fk, #recv.#method #turbofish(#child))).adopt());
        let out = match (name.as_str(), m.args.len()) {
            ("spawn" | "spawn_local", 1) if !self.is_closure(&m.args[0]) => {
                let f = self.child_future(&m.args[0]);
                let fork = self.fork();
                let spawned = adopt(quote!(#child));
                quote!({ #fork let #child = #fk.__merge_on_done(#f); #spawned })
            }
            ("spawn", 1) if chain.builder => {
                let c = self.child_closure(&m.args[0]);
                let fork = self.fork();
                let h = hidden("__ctx_handle");
                // The receiver and the child are evaluated first, as in the
                // call; only the call is under the `allow` (see
                // `boundary_call`).
                let (b, c2) = (hidden("__ctx_builder"), hidden("__ctx_child"));
                quote!({
                    #fork
                    let #b = #recv;
                    let #c2 = #c;
                    #[allow(clippy::disallowed_methods)]
                    let #h = #b.#method #turbofish(#c2);
                    #fk.__join_thread_io(#h)
                })
            }
            ("spawn" | "spawn_fifo" | "spawn_broadcast", 1) => {
                if !matches!(&m.args[0], Expr::Closure(_)) {
                    return None;
                }
                let Scoped { head, args, .. } =
                    self.scoped_args(std::iter::once(&m.args[0]), ScopedMode::Spawn);
                quote!({ #head #recv.#method #turbofish(#(#args),*) })
            }
            ("spawn_blocking", 1) => {
                let c = self.child_closure(&m.args[0]);
                let fork = self.fork();
                let spawned = adopt(quote!(#child));
                quote!({ #fork let #child = #fk.__merge_on_return(#c); #spawned })
            }
            ("block_on", 1) => {
                let f = self.bind_here(&m.args[0]);
                let x = hidden("__ctx_f");
                quote!(::ctx::__private::unmirrored_with(#f, |#x| #recv.#method #turbofish(#x)))
            }
            _ if chain.parallel => {
                // A parallel iterator's stage: closures get a read-only
                // context (see `visit_expr_mut`); the caller waits without
                // the mirror, as in `rayon::join`.
                let Scoped { head, args, .. } =
                    self.scoped_args(m.args.iter(), ScopedMode::Parallel);
                quote!({ #head ::ctx::__private::unmirrored_with(#recv, |#r| #r.#method #turbofish(#(#args),*)) })
            }
            _ => return None,
        };
        Some(syn::parse_quote_spanned!(m.span()=> #out))
    }
}

/// A closure that uses the context installs it as the ambient mirror while
/// it runs: wherever it is called from (an iterator adapter, a pool this
/// crate does not know), the code it calls sees the context it passes.
/// The body runs in an inner closure called once, so `return` and `?` keep
/// their meaning, and the mirror is undone when the call ends, whatever the
/// body does. Propagated functions themselves do not touch the mirror:
/// every way a context reaches running code (a root, a poll of a bound
/// future, a spawned child, a closure) installs it first.
pub(super) fn mirror_in_closure(c: &mut ExprClosure) {
    if c.asyncness.is_some() || matches!(&*c.body, Expr::Async(_)) {
        return;
    }
    if mirrors(&c.body) {
        return;
    }
    let st = hidden("__ctx_st");
    let h = hole(0);
    let template = quote_spanned! {c.body.span()=>
        ::ctx::__private::mirrored(#st, || #h)
    };
    let body = std::mem::replace(&mut *c.body, Expr::Verbatim(TokenStream::new()));
    *c.body = splice(template, vec![body]);
}

/// Whether a closure body installs the mirror itself (a body rewritten by
/// [`mirror_in_closure`] or made a child's by [`Rewriter::scoped_args`]).
pub(super) fn mirrors(body: &Expr) -> bool {
    match body {
        Expr::Call(c) => matches!(&*c.func, Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "mirrored")
                && p.path.segments.iter().any(|s| s.ident == "__private")),
        _ => starts_with_let(body, "__ctx_own"),
    }
}

/// The kinds of scoped boundary.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ScopedMode {
    /// `rayon::join`/`scope`, `thread::scope`: each closure that uses the
    /// context (in a function that may write) gets a child context, merged
    /// after the call in argument order.
    Join,
    /// A spawn in a scope: the child context is merged when the closure
    /// returns normally.
    Spawn,
    /// A parallel iterator's closures: a read-only copy, no child context.
    Parallel,
}

/// What [`Rewriter::scoped_args`] makes of a scoped boundary's arguments.
struct Scoped {
    /// Statements before the call.
    head: TokenStream,
    args: Vec<TokenStream>,
    /// Child contexts to merge after the call returns.
    forks: Vec<TokenStream>,
}
