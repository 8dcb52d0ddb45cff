//! The body rewriter: a post-order `VisitMut` over a propagated body (or a
//! `ctx::with!` block).
//!
//! - path calls `f(a, b)` become probes that pass the context to callees
//!   taking it and leave other callees unchanged;
//! - `.await` operands become probes that bind a `Requires` to the context;
//! - spawn boundaries get a child context (a snapshot) and, where there is a
//!   handle, a handle that brings the child's writes back to the spawner at
//!   join; scoped closures (rayon, `thread::scope`) mirror the context while
//!   they run, with a child context of their own where they may write
//!   (`boundary`);
//! - `ctx::set!`, `ctx::bind!` and `ctx::with!` are expanded here.
//!
//! Nested items are their own scope and are not visited. Other macro
//! invocations are opaque tokens, except `join!`/`try_join!` and the
//! standard formatting and assertion macros, whose arguments are plain
//! expressions. `syntax` has the splicing and scanning helpers.

mod boundary;
mod macros;
mod reads;
mod select;
mod syntax;
mod tracing;
mod values;

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};

use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, ExprCall, ExprMacro, Ident, Stmt, Token};

use super::KeyArg;
use super::expand::{cx_at, cx_ident};
use boundary::mirror_in_closure;
use reads::{async_with_pins, takes_cx, with_pins};
pub(crate) use syntax::{contains_await, contains_impl_trait, count_elided, name_elided};
use syntax::{hole, hole_at, splice};

const MAX_ARITY: usize = 16;

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
    /// How many of those take it mutably (writes, and calls, awaits and
    /// spawns in a body with `mut` keys).
    exclusive: std::cell::Cell<usize>,
    /// Key names shadowed by a local binding in the current scope.
    shadowed: Vec<String>,
    /// Inside the operand of a use that takes the context mutably (a
    /// call's arguments, an awaited expression).
    pin: usize,
    /// Inside a closure or an `async` block.
    closures: usize,
    /// The statement being visited takes the context somewhere.
    statement_takes_cx: bool,
    /// Inside an `unsafe` block: calls there are left as written (an
    /// `unsafe fn` is not an `FnOnce` a probe could call).
    in_unsafe: usize,
    /// How many reads through a closure's `__ctx_pins` were emitted.
    pins_used: std::cell::Cell<usize>,
    /// Locals bound to the handle of a spawn rewritten here (a
    /// `ctx::JoinHandle`/`ThreadJoinHandle`): awaiting them needs no probe.
    handles: HashSet<String>,
    locals: HashSet<String>,
    /// Locals bound to a closure literal (see `ClosureLocals`).
    closure_locals: HashSet<String>,
    /// The expression about to be visited is a call statement that
    /// discards its result (`f(x);`).
    discarded: bool,
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
            exclusive: std::cell::Cell::new(0),
            shadowed: Vec::new(),
            pin: 0,
            closures: 0,
            statement_takes_cx: false,
            in_unsafe: 0,
            pins_used: std::cell::Cell::new(0),
            handles: HashSet::new(),
            locals: HashSet::new(),
            closure_locals: HashSet::new(),
            discarded: false,
            errors: Vec::new(),
        }
    }

    pub(crate) fn into_errors(self) -> TokenStream {
        self.errors
            .into_iter()
            .map(syn::Error::into_compile_error)
            .collect()
    }

    /// The parameters are locals, and a parameter named like a key
    /// shadows it, as in plain Rust.
    pub(crate) fn collect_locals_sig(&mut self, sig: &syn::Signature) {
        for a in &sig.inputs {
            if let syn::FnArg::Typed(t) = a {
                Locals(&mut self.locals).visit_pat(&t.pat);
                self.bind(&t.pat);
            }
        }
    }

    pub(crate) fn collect_locals_block(&mut self, b: &syn::Block) {
        Locals(&mut self.locals).visit_block(b);
        ClosureLocals(&mut self.closure_locals).visit_block(b);
    }

    /// The context passed at a use site (a call, an await, a write). In a
    /// body with `mut` keys it is taken mutably, and is top-level outside
    /// closures and `async` blocks (see `ctx_core::cx::Cx`).
    fn cx(&self, at: Span) -> TokenStream {
        self.used();
        // Hidden, but located at the use: a borrow error points there.
        let cx = cx_at(at);
        if self.readonly > 0 {
            quote!(::ctx::Cx::__readonly(#cx))
        } else if self.mutable && self.closures > 0 {
            quote!(#cx.__c())
        } else if self.mutable {
            self.exclusive.set(self.exclusive.get() + 1);
            quote!(#cx.__m())
        } else {
            quote!(#cx)
        }
    }

    /// Whether a use here takes the context mutably.
    fn takes_exclusive(&self) -> bool {
        self.mutable && self.readonly == 0
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

    /// What a child starts with: its own `context` over the child storage,
    /// the ambient mirror (for closures) and the spawn's `tracing` span.
    fn child_prelude(&self, own: &Ident, closure: bool, in_async: bool) -> TokenStream {
        let cx = cx_ident();
        let mut_kw = self.mutable.then(|| quote!(mut));
        let guard = hidden("__ctx_ambient");
        let ambient = closure.then(|| quote!(let #guard = ::ctx::__private::enter_cx(&#cx);));
        let st = storage_binding();
        // A child future is instrumented instead (`instrument`): a guard
        // must not be held across its awaits.
        let span = (!in_async).then(|| {
            let g = hidden("__ctx_span");
            quote!(let #g = #own.__enter_span();)
        });
        quote! {
            let #own = #own;
            #span
            #[allow(unused_mut)]
            let #mut_kw #cx = #own.cx_same();
            #st
            #ambient
        }
    }

    /// `f(a, b)` becomes a probe that passes the context if `f` takes it.
    /// A call statement that discards the result (`f(a, b);`) goes through
    /// `__discardN`, whose result is `#[must_use]` when `f` is (see
    /// `ctx::check::MustUse`).
    fn probe_call(&self, call: &ExprCall, discarded: bool) -> Option<Expr> {
        let Expr::Path(p) = &*call.func else {
            return None;
        };
        if self.in_unsafe > 0 {
            return None;
        }
        // The standard library's functions take no context: called as
        // written, they keep their `#[must_use]` lints.
        if p.qself.is_none()
            && p.path.segments.len() > 1
            && p.path
                .segments
                .first()
                .is_some_and(|s| s.ident == "std" || s.ident == "core" || s.ident == "alloc")
        {
            return None;
        }
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
        let name = if discarded { "__discard" } else { "__call" };
        let method = Ident::new(&format!("{name}{n}"), call.func.span());
        let cx = self.cx(call.span());
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

    /// A future bound where it is written (`ctx::bind!`, a `join!`
    /// branch): the probe lives in a `let`, so it is gone before the future
    /// is polled, which then holds only the bound operand and stays `Send`.
    /// The context is copied before the operand is evaluated: the operand
    /// (an `async` block) may borrow it mutably.
    fn await_probe(&self, base: &Expr) -> TokenStream {
        let cx = self.cx(base.span());
        let (f, c) = (hidden("__ctx_fut"), hidden("__ctx_c"));
        quote_spanned! {base.span()=>
            { let #c = #cx; let #f = (&&::ctx::__private::AwaitProbe::new(#base)).__bind_await(#c); #f }
        }
    }

    /// The operand of an `.await`. The context is copied first (the operand,
    /// an `async` block, may borrow it mutably), then the operand is
    /// evaluated, both in a `match` scrutinee: the operand's temporaries
    /// (`f(&make(x)).await`) live to the end of the statement, as in plain
    /// Rust, while the probe itself is moved into the arm and gone before
    /// the `.await`. An operand awaited in a statement that discards the
    /// output (`f().await;`) is bound by `__bind_discard`, whose output is
    /// `#[must_use]` when `f` is.
    fn awaited_probe(&self, base: &Expr, discarded: bool) -> TokenStream {
        let cx = self.cx(base.span());
        let (p, c) = (hidden("__ctx_p"), hidden("__ctx_c"));
        let bind = if discarded {
            quote_spanned!(base.span()=> __bind_discard)
        } else {
            quote_spanned!(base.span()=> __bind_await)
        };
        quote_spanned! {base.span()=>
            (match (#cx, ::ctx::__private::AwaitProbe::new(#base)) { (#c, #p) => (&&#p).#bind(#c) })
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

    /// [`Self::awaited_probe`] as syntax, with `base` moved in.
    fn awaited_bound(&self, base: Expr, discarded: bool) -> Expr {
        let template = self.awaited_probe(&hole_at(0, base.span()), discarded);
        splice(template, vec![base])
    }
}

impl Rewriter {
    /// Visits with reads pinned: `f` visits an operand of a use that takes
    /// the context mutably.
    fn pinned(&mut self, f: impl FnOnce(&mut Self)) {
        let pin = usize::from(self.takes_exclusive());
        self.pin += pin;
        f(self);
        self.pin -= pin;
    }

    /// Visits the body of a closure or an `async` block; whether its reads
    /// keep their values in the body's own `__ctx_pins`.
    fn in_closure(&mut self, visit: impl FnOnce(&mut Self)) -> bool {
        let pins = self.pins_used.get();
        let outer = std::mem::take(&mut self.statement_takes_cx);
        self.closures += 1;
        visit(self);
        self.closures -= 1;
        self.statement_takes_cx = outer;
        self.pins_used.get() > pins
    }
}

impl VisitMut for Rewriter {
    fn visit_item_mut(&mut self, _: &mut syn::Item) {
        // A nested fn/impl/mod is its own scope: its calls are not ours.
    }

    fn visit_block_mut(&mut self, b: &mut syn::Block) {
        let outer = self.handles.clone();
        let mark = self.scope_start();
        visit_mut::visit_block_mut(self, b);
        self.scope_end(mark);
        self.handles = outer;
    }

    fn visit_local_mut(&mut self, l: &mut syn::Local) {
        for a in &mut l.attrs {
            self.visit_attribute_mut(a);
        }
        if let Some(init) = &mut l.init {
            self.visit_local_init_mut(init);
            self.probe_value(&mut init.expr);
        }
        // The pattern binds from the next statement on.
        self.bind(&l.pat);
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

    fn visit_expr_closure_mut(&mut self, c: &mut syn::ExprClosure) {
        let mark = self.scope_start();
        for p in &c.inputs {
            self.bind(p);
        }
        if self.in_closure(|rw| rw.visit_expr_mut(&mut c.body)) {
            with_pins(&mut c.body);
        }
        self.scope_end(mark);
    }

    fn visit_expr_async_mut(&mut self, a: &mut syn::ExprAsync) {
        if self.in_closure(|rw| rw.visit_block_mut(&mut a.block)) {
            async_with_pins(&mut a.block);
        }
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        let mark = self.scope_start();
        self.bind(&arm.pat);
        if let Some((_, guard)) = &mut arm.guard {
            self.visit_expr_mut(guard);
        }
        self.visit_expr_mut(&mut arm.body);
        self.scope_end(mark);
    }

    fn visit_expr_let_mut(&mut self, l: &mut syn::ExprLet) {
        // Binds for the rest of the condition and the branch; the
        // enclosing `if`/`while` ends the scope.
        self.visit_expr_mut(&mut l.expr);
        self.bind(&l.pat);
    }

    fn visit_expr_if_mut(&mut self, i: &mut syn::ExprIf) {
        let mark = self.scope_start();
        self.visit_expr_mut(&mut i.cond);
        self.visit_block_mut(&mut i.then_branch);
        self.scope_end(mark);
        if let Some((_, e)) = &mut i.else_branch {
            self.visit_expr_mut(e);
        }
    }

    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        let mark = self.scope_start();
        self.visit_expr_mut(&mut w.cond);
        self.visit_block_mut(&mut w.body);
        self.scope_end(mark);
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut f.expr);
        let mark = self.scope_start();
        self.bind(&f.pat);
        self.visit_block_mut(&mut f.body);
        self.scope_end(mark);
    }

    fn visit_expr_call_mut(&mut self, c: &mut ExprCall) {
        // The callee `f` of `f(..)` is a function, never a key's value.
        if !matches!(&*c.func, Expr::Path(_)) {
            self.visit_expr_mut(&mut c.func);
        }
        let mut visit_args = |rw: &mut Self| c.args.iter_mut().for_each(|a| rw.visit_expr_mut(a));
        if matches!(&*c.func, Expr::Path(_)) {
            self.pinned(visit_args);
        } else {
            visit_args(self);
        }
    }

    fn visit_expr_unsafe_mut(&mut self, u: &mut syn::ExprUnsafe) {
        self.in_unsafe += 1;
        self.visit_block_mut(&mut u.block);
        self.in_unsafe -= 1;
    }

    fn visit_expr_await_mut(&mut self, a: &mut syn::ExprAwait) {
        self.pinned(|rw| rw.visit_expr_mut(&mut a.base));
    }

    fn visit_field_value_mut(&mut self, f: &mut syn::FieldValue) {
        self.visit_expr_mut(&mut f.expr);
        // `S { user }` names the field and the key: keep the field.
        if f.colon_token.is_none() && !matches!(f.expr, Expr::Path(_)) {
            f.colon_token = Some(Token![:](f.member.span()));
        }
    }

    fn visit_stmt_mut(&mut self, s: &mut Stmt) {
        self.discarded = matches!(s, Stmt::Expr(Expr::Call(_) | Expr::Await(_), Some(_)));
        let outer = self.statement_takes_cx;
        // Only reads are pinned by it: a body without keys needs no scan.
        self.statement_takes_cx = self.mutable && !self.keys.is_empty() && takes_cx(s);
        self.visit_stmt_inner(s);
        self.statement_takes_cx = outer;
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let discarded = std::mem::take(&mut self.discarded);
        if let Some(k) = self.key_of(e) {
            *e = self.read(&k, e.span());
            return;
        }
        if let Expr::Macro(ExprMacro { mac, .. }) = e {
            let new = self
                .rewrite_macro(mac)
                .or_else(|| self.opaque_macro(mac, mac.to_token_stream()));
            if let Some(new) = new {
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
        // `break 'label ::ctx::..`: rustc parses it, syn (and so any
        // attribute below this one) does not.
        if let Expr::Break(b) = e
            && b.label.is_some()
            && let Some(v) = b.expr.take()
        {
            b.expr = Some(Box::new(syntax::parenthesized_if(
                *v,
                syntax::starts_with_global_path,
            )));
        }
        let new = match e {
            Expr::Call(call) => self.boundary_call(call).or_else(|| {
                self.probe_values(&mut call.args);
                self.probe_call(call, discarded)
            }),
            Expr::MethodCall(m) => self.boundary_method(m, chain).or_else(|| {
                self.probe_values(&mut m.args);
                None
            }),
            Expr::Await(a) if self.is_handle(&a.base) => None,
            Expr::Await(a) => {
                let base = std::mem::replace(&mut *a.base, Expr::Verbatim(TokenStream::new()));
                *a.base = self.awaited_bound(base, discarded);
                None
            }
            _ => None,
        };
        if let Some(new) = new {
            *e = new;
        }
    }
}

/// The `let __ctx_st = ...;` that goes with every binding of `__cx`: the
/// storage reference that pinned reads and the mirror use, which borrows
/// nothing.
pub(crate) fn storage_binding() -> TokenStream {
    let (cx, st) = (cx_ident(), hidden("__ctx_st"));
    quote! {
        #[allow(unused_variables)]
        let #st = ::ctx::Cx::__storage(#cx);
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

/// The locals bound to a closure (`let work = || ...;`): a spawn of one
/// (`builder.spawn(work)`, `scope.spawn(work)`) spawns a closure, not a
/// future.
struct ClosureLocals<'a>(&'a mut HashSet<String>);

impl Visit<'_> for ClosureLocals<'_> {
    fn visit_local(&mut self, l: &syn::Local) {
        let bound_closure = |e: &Expr| {
            matches!(e, Expr::Macro(m) if m.mac.path.segments.last().is_some_and(|s| s.ident == "bind")
                && matches!(m.mac.parse_body::<Expr>(), Ok(Expr::Closure(_))))
        };
        if let (syn::Pat::Ident(p), Some(init)) = (&l.pat, &l.init)
            && (matches!(&*init.expr, Expr::Closure(c) if c.asyncness.is_none())
                || bound_closure(&init.expr))
        {
            self.0.insert(p.ident.to_string());
        }
        syn::visit::visit_local(self, l);
    }
    fn visit_item(&mut self, _: &syn::Item) {}
}
