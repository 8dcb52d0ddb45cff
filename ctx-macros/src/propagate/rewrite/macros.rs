//! Macros in a propagated body: `ctx::set!`, `ctx::bind!` and `ctx::with!`
//! are expanded here; the standard expression macros (`format!`,
//! `println!`, `assert*!`, `join!`, ...) have their arguments rewritten;
//! any other macro naming a key sees it through a binding around it.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Macro, Stmt, Token};

use super::{Rewriter, hidden, segment_names};

impl Rewriter {
    /// A future bound to the context where it is written (`ctx::bind!`, a
    /// branch of `join!`): a propagated future gets the context, any other
    /// is left as it is. It may be polled beside the body (a branch of
    /// `select!`), so it is not top-level.
    pub(super) fn bound_branch(&mut self, mut e: Expr) -> Expr {
        self.closures += 1;
        self.pinned(|rw| rw.visit_expr_mut(&mut e));
        let bound = self.await_bound(e);
        self.closures -= 1;
        bound
    }

    /// `ctx::set!`, `ctx::bind!`, `ctx::with!`, `join!`/`try_join!`,
    /// `select!`.
    pub(super) fn rewrite_macro(&mut self, mac: &Macro) -> Option<Expr> {
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
                match e {
                    // `ctx::bind!(move || ..)`: a closure for an executor
                    // ctx does not know (`pool.execute(..)`), with its own
                    // child context, like a spawned thread's.
                    Expr::Closure(mut c) if c.inputs.is_empty() && c.asyncness.is_none() => {
                        let mut e = Expr::Closure(c.clone());
                        self.visit_expr_mut(&mut e);
                        if let Expr::Closure(visited) = e {
                            c = visited;
                        }
                        let closure = self.child_closure(&Expr::Closure(c));
                        let fork = self.fork();
                        Some(syn::parse_quote_spanned!(mac.span()=> { #fork #closure }))
                    }
                    e => Some(self.bound_branch(e)),
                }
            }
            "select" if segs.len() == 1 || (segs.len() == 2 && first == "tokio") => {
                let tokens = self.rewrite_select(mac)?;
                let path = &mac.path;
                Some(syn::parse_quote_spanned!(mac.span()=> #path! { #tokens }))
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
            "matches" if segs.len() == 1 || first == "std" || first == "core" => {
                // `matches!(scrutinee, pattern if guard)`: the scrutinee
                // and the guard are expressions; the pattern's bindings
                // shadow keys in the guard.
                let parser = |input: syn::parse::ParseStream| {
                    let e: Expr = input.parse()?;
                    let comma: Token![,] = input.parse()?;
                    let pat = syn::Pat::parse_multi_with_leading_vert(input)?;
                    let guard = match input.parse::<Option<Token![if]>>()? {
                        Some(_) => Some(input.parse::<Expr>()?),
                        None => None,
                    };
                    input.parse::<Option<Token![,]>>()?;
                    Ok((e, comma, pat, guard))
                };
                let (mut e, comma, pat, guard) = parser.parse2(mac.tokens.clone()).ok()?;
                self.visit_expr_mut(&mut e);
                let guard = guard.map(|mut g| {
                    let mark = self.scope_start();
                    self.bind(&pat);
                    self.visit_expr_mut(&mut g);
                    self.scope_end(mark);
                    quote!(if #g)
                });
                let path = &mac.path;
                Some(syn::parse_quote_spanned!(mac.span()=> #path!(#e #comma #pat #guard)))
            }
            _ if super::tracing::is_tracing_macro(first, last, segs.len()) => {
                let exclusive = self.exclusive.get();
                let args = self.rewrite_tracing(mac)?;
                // A bare key (`?user`) is read through a binding around the
                // macro, which must not borrow the context if an argument
                // takes it mutably.
                let pin = usize::from(self.exclusive.get() > exclusive);
                self.pin += pin;
                let bindings = self.macro_bindings(&mac.tokens, true);
                self.pin -= pin;
                let path = &mac.path;
                let call = quote_spanned!(mac.span()=> #path!(#args));
                Some(syn::parse_quote_spanned!(mac.span()=> { #bindings #call }))
            }
            "join" | "try_join" | "format" | "format_args" | "print" | "println" | "eprint"
            | "eprintln" | "write" | "writeln" | "panic" | "assert" | "assert_eq" | "assert_ne"
            | "debug_assert" | "debug_assert_eq" | "debug_assert_ne" | "vec" | "dbg" | "todo"
            | "unimplemented" | "unreachable"
                if first != "rayon" =>
            {
                if last == "vec"
                    && let Ok((mut elem, semi, mut len)) = (|input: syn::parse::ParseStream| {
                        Ok((
                            input.parse::<Expr>()?,
                            input.parse::<Token![;]>()?,
                            input.parse::<Expr>()?,
                        ))
                    })
                    .parse2(mac.tokens.clone())
                {
                    // `vec![elem; len]`.
                    self.visit_expr_mut(&mut elem);
                    self.visit_expr_mut(&mut len);
                    let path = &mac.path;
                    return Some(syn::parse_quote_spanned!(mac.span()=> #path![#elem #semi #len]));
                }
                let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
                let Ok(mut args) = parser.parse2(mac.tokens.clone()) else {
                    return None;
                };
                // A named format argument (`user = expr`) is a name of the
                // macro's, not a key: only its value is rewritten, and the
                // format string's `{user}` means it.
                let mut named = Vec::new();
                // `assert!(cond)` prints its condition: the one written,
                // not the rewritten one.
                let message = (matches!(last, "assert" | "debug_assert") && args.len() == 1)
                    .then(|| assertion_text(mac));
                let exclusive = self.exclusive.get();
                let join = matches!(last, "join" | "try_join");
                let pin = usize::from(join);
                self.pin += pin;
                for a in &mut args {
                    if let Expr::Assign(assign) = a
                        && let Expr::Path(p) = &*assign.left
                        && let Some(name) = p.path.get_ident()
                    {
                        named.push(name.to_string());
                        self.visit_expr_mut(&mut assign.right);
                    } else if join {
                        // Each branch is a future polled beside the others:
                        // a propagated call there is bound as by `bind!`.
                        *a = self
                            .bound_branch(std::mem::replace(a, Expr::Verbatim(TokenStream::new())));
                    } else {
                        self.visit_expr_mut(a);
                    }
                }
                self.pin -= pin;
                // A format string's inline `{user}`: a binding around the
                // macro, which must not borrow the context if an argument
                // takes it mutably.
                let pin = usize::from(self.exclusive.get() > exclusive);
                self.pin += pin;
                let mark = self.scope_start();
                self.shadowed.extend(named);
                let bindings = self.macro_bindings(&mac.tokens, false);
                self.scope_end(mark);
                self.pin -= pin;
                let path = &mac.path;
                let args = args.into_iter();
                let call = quote_spanned!(mac.span()=> #path!(#(#args),* #message));
                Some(if bindings.is_empty() {
                    syn::parse_quote!(#call)
                } else {
                    syn::parse_quote_spanned!(mac.span()=> { #bindings #call })
                })
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
        let cx = self.cx(mac
            .path
            .span()
            .join(mac.delimiter.span().join())
            .unwrap_or(id.span()));
        // A path call spanned at the key: a missing `mut` is reported there.
        // The value is computed first: it may read the context.
        let set = quote_spanned!(id.span()=> ::ctx::__private::set::<#path, _>);
        let v = hidden("__ctx_v");
        syn::parse_quote_spanned! {id.span()=>
            { let #v = #value; #set(#cx, #v) }
        }
    }

    pub(super) fn visit_stmt_inner(&mut self, s: &mut Stmt) {
        if let Stmt::Macro(m) = s {
            let semi = m.semi_token;
            if let Some(e) = self.rewrite_macro(&m.mac) {
                *s = Stmt::Expr(e, semi);
                return;
            }
            let mac = &m.mac;
            if let Some(e) = self.opaque_macro(mac, quote!(#mac #semi)) {
                *s = Stmt::Expr(e, None);
            }
            return;
        }
        visit_mut::visit_stmt_mut(self, s);
    }

    /// An opaque macro (`tracing::info!(%user)`) that names a key sees it
    /// through a binding around it.
    pub(super) fn opaque_macro(&self, mac: &Macro, tail: TokenStream) -> Option<Expr> {
        let bindings = self.macro_bindings(&mac.tokens, true);
        (!bindings.is_empty()).then(|| syn::parse_quote_spanned!(mac.span()=> { #bindings #tail }))
    }
}

/// The extra arguments that make `assert!(cond)` print its condition as
/// written (its source text), not as rewritten.
fn assertion_text(mac: &Macro) -> TokenStream {
    let group = mac.delimiter.span().join().source_text();
    let text = group.as_deref().and_then(|t| {
        let inner = t.get(1..t.len().checked_sub(1)?)?.trim();
        Some(
            inner
                .strip_suffix(',')
                .unwrap_or(inner)
                .trim_end()
                .to_string(),
        )
    });
    match text {
        Some(t) => quote!(, "assertion failed: {}", #t),
        None => {
            let cond = &mac.tokens;
            quote!(, "assertion failed: {}", ::core::stringify!(#cond))
        }
    }
}

fn error_expr(e: syn::Error) -> Expr {
    let t = e.into_compile_error();
    syn::parse_quote!({ #t })
}
