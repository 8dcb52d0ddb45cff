//! The body rewriter: a post-order `VisitMut` over a propagated body (or a
//! `ctx::with!` block).
//!
//! - path calls `f(a, b)` become probes that pass the context to callees
//!   taking it and leave other callees unchanged;
//! - `.await` operands become probes that bind a `Requires` to the context;
//! - spawn boundaries get a child context (a snapshot) and, where there is a
//!   handle, a handle that brings the child's writes back at join;
//! - scoped closures (rayon, `thread::scope`) see the context lexically and
//!   install the ambient mirror while they run;
//! - `ctx::set!`, `ctx::bind!` and `ctx::with!` are expanded here.
//!
//! Nested items are their own scope and are not visited. Other macro
//! invocations are opaque tokens, except `join!`/`try_join!`, whose
//! arguments are plain expressions.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{
    Expr, ExprCall, ExprClosure, ExprMacro, ExprMethodCall, Ident, Lifetime, Macro, Stmt, Token,
    Type,
};

use super::KeyArg;
use super::expand::{cx_ident, key_bindings, mentioned};

const MAX_ARITY: usize = 12;

fn hidden(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

pub(crate) struct Rewriter {
    keys: Vec<KeyArg>,
    /// The function has `mut` keys: every use of the context borrows it
    /// mutably, so the borrow checker rejects two closures that could write
    /// at once.
    mutable: bool,
    /// Key bindings in children are checked against the witness (false in
    /// `with!` blocks, whose keys come from an outer function).
    checked: bool,
    /// Inside the closures of a parallel iterator: the context is a
    /// read-only copy (a `Fn` closure run on many threads at once can read
    /// the context but not change it).
    readonly: usize,
    /// How many uses of the context were emitted so far: a closure whose
    /// visit added some uses the context.
    uses: std::cell::Cell<usize>,
    /// Locals bound to the handle of a spawn rewritten here (a
    /// `ctx::JoinHandle`/`ThreadJoinHandle`): awaiting them needs no probe.
    handles: HashSet<String>,
    locals: HashSet<String>,
    errors: Vec<syn::Error>,
}

impl Rewriter {
    pub(crate) fn new(keys: Vec<KeyArg>, mutable: bool, checked: bool) -> Self {
        Rewriter {
            keys,
            mutable,
            checked,
            readonly: 0,
            uses: std::cell::Cell::new(0),
            handles: HashSet::new(),
            locals: HashSet::new(),
            errors: Vec::new(),
        }
    }

    pub(crate) fn into_errors(self) -> TokenStream {
        self.errors
            .into_iter()
            .map(syn::Error::into_compile_error)
            .collect()
    }

    pub(crate) fn collect_locals_sig(&mut self, sig: &syn::Signature) {
        let mut c = Locals(&mut self.locals);
        for a in &sig.inputs {
            if let syn::FnArg::Typed(t) = a {
                c.visit_pat(&t.pat);
            }
        }
    }

    pub(crate) fn collect_locals_block(&mut self, b: &syn::Block) {
        Locals(&mut self.locals).visit_block(b);
    }

    /// The context expression at a use site.
    fn cx(&self) -> TokenStream {
        self.used();
        let cx = cx_ident();
        if self.readonly > 0 {
            quote!(::ctx::__private::Cx::__readonly(#cx))
        } else if self.mutable {
            quote!(#cx.__m())
        } else {
            quote!(#cx)
        }
    }

    fn used(&self) {
        self.uses.set(self.uses.get() + 1);
    }

    fn key_path(&self, id: &Ident) -> TokenStream {
        match self.keys.iter().find(|k| k.ident == *id) {
            Some(k) => k.path.to_token_stream(),
            None => id.to_token_stream(),
        }
    }

    /// What a child starts with: its own `__cx` over the child storage, the
    /// ambient mirror (for closures) and the key bindings.
    fn child_prelude(&self, own: &Ident, closure: bool, used: &[bool]) -> TokenStream {
        let cx = cx_ident();
        let mut_kw = self.mutable.then(|| quote!(mut));
        let bindings = key_bindings(&self.keys, self.checked, used);
        let guard = hidden("__ctx_ambient");
        let ambient = closure.then(|| quote!(let #guard = ::ctx::__private::enter_cx(&#cx);));
        quote! {
            let #own = #own;
            #[allow(unused_mut)]
            let #mut_kw #cx = #own.cx_same();
            #ambient
            #bindings
        }
    }

    fn probe_call(&self, call: &ExprCall) -> Option<Expr> {
        let Expr::Path(p) = &*call.func else {
            return None;
        };
        let last = p.path.segments.last()?;
        if p.qself.is_none()
            && p.path.segments.len() == 1
            && self.locals.contains(&last.ident.to_string())
        {
            return None;
        }
        if last
            .ident
            .to_string()
            .starts_with(|c: char| c.is_uppercase())
        {
            return None;
        }
        if p.path.segments.first().is_some_and(|s| s.ident == "ctx")
            && p.path.segments.iter().any(|s| s.ident == "__private")
        {
            return None;
        }
        let n = call.args.len();
        if n > MAX_ARITY {
            return None;
        }
        let method = Ident::new(&format!("__call{n}"), call.func.span());
        let cx = self.cx();
        let holes = (1..=n).map(hole);
        let f = hole(0);
        let template = quote_spanned! {call.span()=>
            (&&&::ctx::__private::Probe::new(#f)).#method(#cx #(, #holes)*)
        };
        let mut parts = vec![(*call.func).clone()];
        parts.extend(call.args.iter().cloned());
        let mut out = splice(template, parts);
        if let Expr::MethodCall(m) = &mut out {
            m.attrs.clone_from(&call.attrs);
        }
        Some(out)
    }

    /// The probe lives in a `let` so it is gone before the `.await`: the
    /// future then holds only the bound operand and stays `Send`.
    /// The context is copied before the operand is evaluated: the operand
    /// (an `async` block) may borrow it mutably.
    fn await_probe(&self, base: &Expr) -> TokenStream {
        let cx = self.cx();
        let (f, c) = (hidden("__ctx_fut"), hidden("__ctx_c"));
        quote_spanned! {base.span()=>
            { let #c = #cx; let #f = (&&::ctx::__private::AwaitProbe::new(#base)).__bind_await(#c); #f }
        }
    }

    /// An awaited spawn handle (the spawn itself, or a local bound to it):
    /// not a propagated call, so its `.await` needs no probe.
    fn is_handle(&self, base: &Expr) -> bool {
        match base {
            Expr::Path(p) => p
                .path
                .get_ident()
                .is_some_and(|i| self.handles.contains(&i.to_string())),
            Expr::Paren(p) => self.is_handle(&p.expr),
            e => is_spawn_handle(e),
        }
    }

    /// [`Self::await_probe`] as syntax, with `base` moved in.
    fn await_bound(&self, base: Expr) -> Expr {
        let template = self.await_probe(&hole_at(0, base.span()));
        splice(template, vec![base])
    }

    /// The child closure of a `'static` closure boundary. A callee that is
    /// not a closure or a path is evaluated here, in the parent, as plain
    /// Rust evaluates a call's arguments.
    fn child_closure(&self, arg: &Expr) -> TokenStream {
        let own = hidden("__ctx_own");
        // A closure that uses the context mirrors it itself.
        let mirrored = matches!(arg, Expr::Closure(c) if mirrors(&c.body));
        let used = mentioned(&self.keys, |m| m.visit_expr(arg));
        let prelude = self.child_prelude(&own, !mirrored, &used);
        match arg {
            Expr::Closure(c) if c.inputs.is_empty() && c.asyncness.is_none() => {
                let body = &c.body;
                let ret = &c.output;
                quote_spanned!(arg.span()=> move || #ret { #prelude #body })
            }
            Expr::Path(_) => {
                let call: ExprCall = syn::parse_quote_spanned!(arg.span()=> #arg());
                let call = self
                    .probe_call(&call)
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
                let used = mentioned(&self.keys, |m| m.visit_block(&a.block));
                let prelude = self.child_prelude(&own, false, &used);
                quote_spanned! {arg.span()=>
                    ::ctx::__private::instrument(&#fork, async move { #prelude #(#stmts)* })
                }
            }
            _ => {
                let child = hidden("__ctx_child");
                quote_spanned! {arg.span()=> {
                    let #child = (&&::ctx::__private::AwaitProbe::new(#arg)).__bind_await(#own.cx_same());
                    ::ctx::__private::instrument(&#fork, #child)
                }}
            }
        }
    }

    /// The child context of a spawn: `__ctx_fork` (kept by the spawner's
    /// side) and `__ctx_own` (moved into the child).
    fn fork(&self) -> TokenStream {
        self.used();
        let cx = cx_ident();
        let (fork, own) = (hidden("__ctx_fork"), hidden("__ctx_own"));
        quote! {
            let #fork = ::ctx::__private::fork(&#cx);
            let #own = ::core::clone::Clone::clone(&#fork);
        }
    }

    fn boundary_call(&self, call: &ExprCall) -> Option<Expr> {
        let Expr::Path(p) = &*call.func else {
            return None;
        };
        let segs = segment_names(&p.path);
        let last = segs.last()?.as_str();
        let prefix = &segs[..segs.len() - 1];
        let has = |s: &str| prefix.iter().any(|x| x == s);
        let func = &call.func;
        let fk = hidden("__ctx_fork");
        let h = hidden("__ctx_handle");
        let one_arg = || (call.args.len() == 1).then(|| &call.args[0]);
        let out: TokenStream = match last {
            "spawn_blocking" => {
                let c = self.child_closure(one_arg()?);
                let fork = self.fork();
                quote!({ #fork let #h = #func(#c); #fk.__join_tokio(#h) })
            }
            "spawn_local" => {
                let f = self.child_future(one_arg()?);
                let fork = self.fork();
                quote!({ #fork let #h = #func(#f); #fk.__join_tokio(#h) })
            }
            "spawn" if has("thread") => {
                let c = self.child_closure(one_arg()?);
                let fork = self.fork();
                quote!({ #fork let #h = #func(#c); #fk.__join_thread(#h) })
            }
            "spawn" if has("rayon") => {
                let c = self.child_closure(one_arg()?);
                let fork = self.fork();
                quote!({ #fork #func(#c) })
            }
            "spawn" if has("tokio") || has("task") || matches!(one_arg(), Some(Expr::Async(_))) => {
                let f = self.child_future(one_arg()?);
                let fork = self.fork();
                quote!({ #fork let #h = #func(#f); #fk.__join_tokio(#h) })
            }
            "block_on" => {
                let f = self.bind_here(one_arg()?);
                let x = hidden("__ctx_f");
                quote!(::ctx::__private::unmirrored_with(#f, |#x| #func(#x)))
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
                let merge = (!forks.is_empty())
                    .then(|| quote!(::ctx::__private::join_forks([#(#forks),*]);));
                quote!({
                    #head
                    let #out = ::ctx::__private::unmirrored(|| #func(#(#args),*));
                    #merge
                    #out
                })
            }
            _ => return None,
        };
        Some(syn::parse_quote_spanned!(call.span()=> #out))
    }

    /// A future handed to code that runs it (`block_on`): a propagated
    /// future is bound to the context, and it runs with the context
    /// mirrored while other work the call runs does not see it.
    /// The storage reference is taken first: the future may borrow the
    /// context mutably.
    fn bind_here(&self, arg: &Expr) -> TokenStream {
        self.used();
        let bound = self.await_probe(arg);
        let (cx, st) = (cx_ident(), hidden("__ctx_st"));
        quote_spanned!(arg.span()=> {
            let #st = ::ctx::__private::Cx::__storage(#cx);
            ::ctx::__private::bind_here(#st, #bound)
        })
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
    /// A closure that does not use the context mirrors a copy of the
    /// storage reference taken before the call (in `head`), so it borrows
    /// nothing the closures could conflict on.
    fn scoped_args<'e>(&self, args: impl Iterator<Item = &'e Expr>, mode: ScopedMode) -> Scoped {
        let st = hidden("__ctx_scoped");
        let cx = cx_ident();
        let mut head = TokenStream::new();
        let mut storage_ref = false;
        let mut forks = Vec::new();
        let args = args
            .map(|a| match a {
                Expr::Closure(c) if !mirrors(&c.body) => {
                    if !storage_ref {
                        self.used();
                        head.extend(quote!(let #st = ::ctx::__private::Cx::__storage(#cx);));
                        storage_ref = true;
                    }
                    let mut c = c.clone();
                    let body = std::mem::replace(&mut *c.body, Expr::Verbatim(TokenStream::new()));
                    let template = quote_spanned! {body.span()=>
                        ::ctx::__private::mirrored(#st, || __ctx_hole0)
                    };
                    *c.body = splice(template, vec![body]);
                    c.to_token_stream()
                }
                Expr::Closure(c) if self.mutable && mode != ScopedMode::Parallel => {
                    self.used();
                    let i = forks.len();
                    let (fork, keep) = (
                        hidden(&format!("__ctx_fork{i}")),
                        hidden(&format!("__ctx_keep{i}")),
                    );
                    head.extend(quote! {
                        let #fork = ::ctx::__private::fork(&#cx);
                        let #keep = ::core::clone::Clone::clone(&#fork);
                    });
                    if mode == ScopedMode::Join {
                        forks.push(keep.to_token_stream());
                    }
                    let own = hidden("__ctx_own");
                    let out = hidden("__ctx_out");
                    let used = mentioned(&self.keys, |m| m.visit_expr(&c.body));
                    let prelude = self.child_prelude(&own, false, &used);
                    let merge = (mode == ScopedMode::Spawn)
                        .then(|| quote!(::ctx::__private::join_forks([#keep]);));
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
                other => other.to_token_stream(),
            })
            .collect();
        Scoped { head, args, forks }
    }

    fn boundary_method(&self, m: &ExprMethodCall, chain: Chain) -> Option<Expr> {
        let name = m.method.to_string();
        let recv = &m.receiver;
        let method = &m.method;
        let turbofish = &m.turbofish;
        let fk = hidden("__ctx_fork");
        let child = hidden("__ctx_child");
        let r = hidden("__ctx_recv");
        let adopt = |child: TokenStream| quote!((&&::ctx::__private::Adopt::new(#fk, #recv.#method #turbofish(#child))).__adopt());
        let out = match (name.as_str(), m.args.len()) {
            ("spawn" | "spawn_local", 1) if !matches!(m.args[0], Expr::Closure(_)) => {
                let f = self.child_future(&m.args[0]);
                let fork = self.fork();
                let spawned = adopt(quote!(#child));
                quote!({ #fork let #child = #fk.__merge_on_done(#f); #spawned })
            }
            ("spawn", 1) if chain.builder => {
                let c = self.child_closure(&m.args[0]);
                let fork = self.fork();
                let h = hidden("__ctx_handle");
                quote!({ #fork let #h = #recv.#method #turbofish(#c); #fk.__join_thread_io(#h) })
            }
            ("spawn" | "spawn_fifo" | "spawn_broadcast", 1) => {
                if !matches!(m.args[0], Expr::Closure(_)) {
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

    /// `ctx::set!`, `ctx::bind!`, `ctx::with!`, `join!`/`try_join!`.
    fn rewrite_macro(&mut self, mac: &Macro) -> Option<Expr> {
        let segs = segment_names(&mac.path);
        let (first, last) = (segs.first()?.as_str(), segs.last()?.as_str());
        let ours = segs.len() == 1 || (segs.len() == 2 && first == "ctx");
        match last {
            "set" if ours => Some(self.expand_set(mac)),
            "bind" if ours => {
                let e: Expr = match mac.parse_body() {
                    Ok(e) => e,
                    Err(e) => return Some(error_expr(e)),
                };
                let mut e = e;
                self.visit_expr_mut(&mut e);
                Some(self.await_bound(e))
            }
            "with" if ours => {
                self.used();
                let keys = self.keys.iter().map(|k| {
                    let (id, p) = (&k.ident, &k.path);
                    quote!(#id: #p)
                });
                let tokens = &mac.tokens;
                Some(
                    syn::parse_quote_spanned!(mac.span()=> ::ctx::__private::with_keys!([#(#keys),*] #tokens)),
                )
            }
            "join" | "try_join" | "format" | "format_args" | "print" | "println" | "eprint"
            | "eprintln" | "write" | "writeln" | "panic" | "assert" | "assert_eq" | "assert_ne"
            | "debug_assert" | "debug_assert_eq" | "debug_assert_ne" | "vec" | "dbg" | "todo"
            | "unimplemented" | "unreachable"
                if first != "rayon" =>
            {
                let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
                let Ok(mut args) = parser.parse2(mac.tokens.clone()) else {
                    return None;
                };
                for a in &mut args {
                    self.visit_expr_mut(a);
                }
                let path = &mac.path;
                Some(syn::parse_quote_spanned!(mac.span()=> #path!(#args)))
            }
            _ => None,
        }
    }

    fn expand_set(&mut self, mac: &Macro) -> Expr {
        let parser = |input: syn::parse::ParseStream| {
            let id: Ident = input.parse()?;
            input.parse::<Token![,]>()?;
            let v: Expr = input.parse()?;
            input.parse::<Option<Token![,]>>()?;
            Ok((id, v))
        };
        let (id, mut value) = match parser.parse2(mac.tokens.clone()) {
            Ok(x) => x,
            Err(e) => {
                return error_expr(syn::Error::new(
                    e.span(),
                    "expected `ctx::set!(key, value)`, e.g. `ctx::set!(user, Some(id))`",
                ));
            }
        };
        self.visit_expr_mut(&mut value);
        let path = self.key_path(&id);
        let cx = self.cx();
        // A path call spanned at the key: a missing `mut` is reported there.
        let set = quote_spanned!(id.span()=> ::ctx::__private::set::<#path, _>);
        syn::parse_quote_spanned! {id.span()=>
            #set(#cx, #value)
        }
    }
}

fn error_expr(e: syn::Error) -> Expr {
    let t = e.into_compile_error();
    syn::parse_quote!({ #t })
}

impl VisitMut for Rewriter {
    fn visit_item_mut(&mut self, _: &mut syn::Item) {
        // A nested fn/impl/mod is its own scope: its calls are not ours.
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let outer = self.handles.clone();
        visit_mut::visit_block_mut(self, b);
        self.handles = outer;
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        visit_mut::visit_local_mut(self, l);
        let pat = match &l.pat {
            syn::Pat::Type(t) => &*t.pat,
            p => p,
        };
        if let syn::Pat::Ident(p) = pat {
            let name = p.ident.to_string();
            if l.init.as_ref().is_some_and(|i| is_spawn_handle(&i.expr)) {
                self.handles.insert(name);
            } else {
                self.handles.remove(&name);
            }
        }
    }

    fn visit_stmt_mut(&mut self, s: &mut Stmt) {
        if let Stmt::Macro(m) = s
            && let Some(e) = self.rewrite_macro(&m.mac)
        {
            let semi = m.semi_token;
            *s = Stmt::Expr(e, semi);
            return;
        }
        visit_mut::visit_stmt_mut(self, s);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        if let Expr::Macro(ExprMacro { mac, .. }) = e {
            if let Some(new) = self.rewrite_macro(mac) {
                *e = new;
            }
            return;
        }
        // Classify on the original syntax: visiting rewrites the receiver.
        let chain = match e {
            Expr::MethodCall(m) => Chain {
                builder: chain_mentions(&m.receiver, "Builder"),
                parallel: is_parallel_chain(&m.receiver),
            },
            _ => Chain::default(),
        };
        let uses_before = self.uses.get();
        match e {
            Expr::MethodCall(m) if chain.parallel => {
                // The receiver runs here; the closures run in parallel.
                self.visit_expr_mut(&mut m.receiver);
                self.readonly += 1;
                for a in &mut m.args {
                    self.visit_expr_mut(a);
                }
                self.readonly -= 1;
            }
            _ => visit_mut::visit_expr_mut(self, e),
        }
        if let Expr::Closure(c) = e {
            if self.uses.get() > uses_before {
                mirror_in_closure(c);
            }
            return;
        }
        let new = match e {
            Expr::Call(call) => self.boundary_call(call).or_else(|| self.probe_call(call)),
            Expr::MethodCall(m) => self.boundary_method(m, chain),
            Expr::Await(a) if self.is_handle(&a.base) => None,
            Expr::Await(a) => {
                let base = std::mem::replace(&mut *a.base, Expr::Verbatim(TokenStream::new()));
                *a.base = self.await_bound(base);
                None
            }
            _ => None,
        };
        if let Some(new) = new {
            *e = new;
        }
    }
}

/// The names of a path's segments, `["tokio", "task", "spawn"]`.
fn segment_names(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// Whether `e` is a spawn rewritten here, whose value is the child's
/// handle (`{ let __ctx_fork = ..; .. }`).
fn is_spawn_handle(e: &Expr) -> bool {
    starts_with_let(e, "__ctx_fork")
}

/// Whether `e` is a block whose first statement binds `name`: how the
/// rewriter recognises the blocks it generated itself.
fn starts_with_let(e: &Expr, name: &str) -> bool {
    let Expr::Block(b) = e else {
        return false;
    };
    matches!(b.block.stmts.first(), Some(Stmt::Local(l))
        if matches!(&l.pat, syn::Pat::Ident(p) if p.ident == name))
}

/// A closure that uses the context installs it as the ambient mirror while
/// it runs: wherever it is called from (an iterator adapter, a pool this
/// crate does not know), the code it calls sees the context it passes.
/// The body runs in an inner closure called once, so `return` and `?` keep
/// their meaning, and the mirror is undone when the call ends, whatever the
/// body does. Propagated functions themselves do not touch the mirror:
/// every way a context reaches running code (a root, a poll of a bound
/// future, a spawned child, a closure) installs it first.
fn mirror_in_closure(c: &mut ExprClosure) {
    if c.asyncness.is_some() || matches!(&*c.body, Expr::Async(_)) {
        return;
    }
    if mirrors(&c.body) {
        return;
    }
    let cx = cx_ident();
    let h = hole(0);
    let template = quote_spanned! {c.body.span()=>
        ::ctx::__private::mirrored(::ctx::__private::Cx::__storage(#cx), || #h)
    };
    let body = std::mem::replace(&mut *c.body, Expr::Verbatim(TokenStream::new()));
    *c.body = splice(template, vec![body]);
}

/// The placeholder `__ctx_holeN` of a [`splice`] template.
fn hole(i: usize) -> Ident {
    hole_span(i, Span::call_site())
}

fn hole_span(i: usize, span: Span) -> Ident {
    Ident::new(&format!("__ctx_hole{i}"), span)
}

fn hole_at(i: usize, span: Span) -> Expr {
    let id = hole_span(i, span);
    syn::parse_quote!(#id)
}

/// Parses a small template and moves `parts` into its placeholders
/// (`__ctx_hole0`, `__ctx_hole1`, ..): the user's expressions, already
/// rewritten, are moved into the output instead of being printed and
/// parsed again at every enclosing level.
fn splice(template: TokenStream, parts: Vec<Expr>) -> Expr {
    struct Fill(Vec<Option<Expr>>);
    impl VisitMut for Fill {
        fn visit_expr_mut(&mut self, e: &mut Expr) {
            if let Expr::Path(p) = e
                && p.qself.is_none()
                && let Some(id) = p.path.get_ident()
                && let Some(i) = id.to_string().strip_prefix("__ctx_hole")
                && let Ok(i) = i.parse::<usize>()
                && let Some(part) = self.0.get_mut(i).and_then(Option::take)
            {
                *e = part;
                return;
            }
            visit_mut::visit_expr_mut(self, e);
        }
    }
    let mut e: Expr = syn::parse2(template).expect("a splice template is an expression");
    Fill(parts.into_iter().map(Some).collect()).visit_expr_mut(&mut e);
    e
}

/// Whether a closure body installs the mirror itself (a body rewritten by
/// [`mirror_in_closure`] or made a child's by [`Rewriter::scoped_args`]).
fn mirrors(body: &Expr) -> bool {
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

/// What a method call's receiver chain says about the call.
#[derive(Default, Clone, Copy)]
struct Chain {
    /// `std::thread::Builder::new()...spawn(f)`: a `'static` thread.
    builder: bool,
    /// `xs.par_iter()...`: closures run on the rayon pool, scoped.
    parallel: bool,
}

/// Whether a receiver chain goes through a rayon parallel iterator.
fn is_parallel_chain(e: &Expr) -> bool {
    match e {
        Expr::MethodCall(m) => {
            let n = m.method.to_string();
            n.starts_with("par_")
                || n.starts_with("into_par_")
                || n == "par_bridge"
                || is_parallel_chain(&m.receiver)
        }
        Expr::Paren(p) => is_parallel_chain(&p.expr),
        _ => false,
    }
}

fn chain_mentions(e: &Expr, name: &str) -> bool {
    match e {
        Expr::MethodCall(m) => chain_mentions(&m.receiver, name),
        Expr::Call(c) => chain_mentions(&c.func, name),
        Expr::Path(p) => p.path.segments.iter().any(|s| s.ident == name),
        Expr::Paren(p) => chain_mentions(&p.expr, name),
        _ => false,
    }
}

struct Locals<'a>(&'a mut HashSet<String>);

impl Visit<'_> for Locals<'_> {
    fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
        self.0.insert(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }
    fn visit_item(&mut self, _: &syn::Item) {}
}

/// Elided lifetimes (`&T`, `'_`) outside of `fn` pointer types and `Fn`
/// sugar, which have their own elision scopes.
struct Elided<'a> {
    count: usize,
    name: Option<&'a Lifetime>,
}

impl VisitMut for Elided<'_> {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        if r.lifetime.is_none() {
            self.count += 1;
            if let Some(l) = self.name {
                r.lifetime = Some(l.clone());
            }
        }
        visit_mut::visit_type_reference_mut(self, r);
    }
    fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
        if l.ident == "_" {
            self.count += 1;
            if let Some(n) = self.name {
                *l = n.clone();
            }
        }
    }
    fn visit_type_bare_fn_mut(&mut self, _: &mut syn::TypeBareFn) {}
    fn visit_parenthesized_generic_arguments_mut(
        &mut self,
        _: &mut syn::ParenthesizedGenericArguments,
    ) {
    }
}

pub(crate) fn count_elided(t: &Type) -> usize {
    let mut v = Elided {
        count: 0,
        name: None,
    };
    v.visit_type_mut(&mut t.clone());
    v.count
}

pub(crate) fn name_elided(t: &mut Type, l: &Lifetime) {
    Elided {
        count: 0,
        name: Some(l),
    }
    .visit_type_mut(t);
}

pub(crate) fn contains_impl_trait(t: &Type) -> bool {
    struct Find(bool);
    impl Visit<'_> for Find {
        fn visit_type_impl_trait(&mut self, _: &syn::TypeImplTrait) {
            self.0 = true;
        }
        fn visit_type_infer(&mut self, _: &syn::TypeInfer) {
            self.0 = true;
        }
    }
    let mut f = Find(false);
    f.visit_type(t);
    f.0 || matches!(t, Type::Verbatim(_))
}

/// Whether a block awaits (outside nested closures, async blocks and
/// items): an `.await`, also one inside another macro's arguments, a
/// macro that awaits by itself (`join!`, `try_join!`, `select!`), or a
/// nested `with!` whose block awaits. A `with!` block that awaits must not
/// hold its mirror across the await, so it becomes an async block bound to
/// its context.
pub(crate) fn contains_await(b: &syn::Block) -> bool {
    struct Find(bool);
    impl Visit<'_> for Find {
        fn visit_expr_await(&mut self, _: &syn::ExprAwait) {
            self.0 = true;
        }
        fn visit_expr_closure(&mut self, _: &syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &syn::ExprAsync) {}
        fn visit_item(&mut self, _: &syn::Item) {}
        fn visit_macro(&mut self, m: &Macro) {
            let name = m.path.segments.last().map(|s| s.ident.to_string());
            self.0 |= match name.as_deref() {
                Some("join" | "try_join" | "select" | "select_biased") => true,
                Some("with") => nested_with_awaits(m.tokens.clone()),
                _ => tokens_await(m.tokens.clone()),
            };
        }
    }
    let mut f = Find(false);
    f.visit_block(b);
    f.0
}

/// Whether a nested `with!(root, { .. })` block awaits.
fn nested_with_awaits(tokens: TokenStream) -> bool {
    let parser = |input: syn::parse::ParseStream| {
        if input.peek(syn::token::Bracket) {
            let _keys;
            syn::bracketed!(_keys in input);
        }
        input.parse::<Expr>()?;
        input.parse::<Token![,]>()?;
        let b: syn::Block = input.parse()?;
        input.parse::<Option<Token![,]>>()?;
        Ok(b)
    };
    match parser.parse2(tokens.clone()) {
        Ok(b) => contains_await(&b),
        Err(_) => tokens_await(tokens),
    }
}

/// Whether tokens contain `.await` outside `async` blocks: the arguments
/// of a macro we cannot parse.
fn tokens_await(tokens: TokenStream) -> bool {
    let mut prev_dot = false;
    let mut after_async = false;
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Ident(i) if i == "await" && prev_dot => return true,
            proc_macro2::TokenTree::Ident(i) => {
                after_async = i == "async" || (after_async && i == "move");
                prev_dot = false;
                continue;
            }
            proc_macro2::TokenTree::Group(g) => {
                if !after_async && tokens_await(g.stream()) {
                    return true;
                }
                prev_dot = false;
            }
            proc_macro2::TokenTree::Punct(p) => prev_dot = p.as_char() == '.',
            proc_macro2::TokenTree::Literal(_) => prev_dot = false,
        }
        after_async = false;
    }
    false
}
