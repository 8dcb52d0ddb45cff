//! Reads of listed keys: each use of a key's name becomes a read of the
//! context, unless a local binding of the same name shadows the key there.
//!
//! A read borrows the hidden context (`read(&__cx)`, a `&V` the borrow
//! checker ties to it), so a `&V` cannot be held across anything that
//! takes the context mutably (a write; in a body with `mut` keys, every
//! call, await and spawn). In a body with `mut` keys, a read in a
//! statement that also takes the context (`f(&user)`: the callee may
//! change `user` while its argument is in use) or inside a closure or an
//! `async` block (which may be kept while the body writes) takes its own
//! reference to the value instead (`pinned(__ctx_st)`, alive until the
//! end of its statement), which borrows nothing. In a closure or an
//! `async` block, that reference is kept by the run (`__ctx_pins`), so a
//! `&V` lives as long as at the top of a body.
//!
//! Scopes follow Rust's: a `let`, a parameter (of the function or a
//! closure), a `match` arm, `if let`/`while let` and `for` patterns shadow
//! a key of the same name for their extent. Macros whose arguments are
//! opaque tokens (`tracing::info!`, `matches!`) or whose format strings
//! name a key (`{user}`) see the key through a `let` around them.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Ident, Pat};

use super::super::KeyArg;
use super::{Rewriter, cx_at, hidden, segment_names};

/// The key names a pattern binds.
fn bound_names(p: &Pat, out: &mut Vec<String>) {
    struct Names<'a>(&'a mut Vec<String>);
    impl Visit<'_> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &syn::PatIdent) {
            self.0.push(p.ident.to_string());
            syn::visit::visit_pat_ident(self, p);
        }
        fn visit_expr(&mut self, _: &Expr) {}
    }
    Names(out).visit_pat(p);
}

impl Rewriter {
    /// Marks the names `p` binds as shadowing keys from here to the end of
    /// the current scope (see [`Rewriter::scope_end`]).
    pub(super) fn bind(&mut self, p: &Pat) {
        let mut names = Vec::new();
        bound_names(p, &mut names);
        let keys: Vec<String> = names
            .into_iter()
            .filter(|n| self.keys.iter().any(|k| k.ident == n))
            .collect();
        self.shadowed.extend(keys);
    }

    pub(super) fn scope_start(&self) -> usize {
        self.shadowed.len()
    }

    pub(super) fn scope_end(&mut self, mark: usize) {
        self.shadowed.truncate(mark);
    }

    /// The listed key a path expression names, if no local shadows it.
    pub(super) fn key_of(&self, e: &Expr) -> Option<KeyArg> {
        let Expr::Path(p) = e else { return None };
        if p.qself.is_some() || !p.attrs.is_empty() {
            return None;
        }
        let id = p.path.get_ident()?;
        self.visible_key(id)
    }

    fn visible_key(&self, id: &Ident) -> Option<KeyArg> {
        if self.shadowed.iter().any(|s| id == s) {
            return None;
        }
        self.keys.iter().find(|k| k.ident == *id).cloned()
    }

    /// The read of `k` at a use spanned `span`.
    pub(super) fn read(&self, k: &KeyArg, span: Span) -> Expr {
        let p = &k.path;
        let in_closure = self.closures > 0 && self.readonly == 0;
        let statement = self.pin > 0 || self.statement_takes_cx;
        let tokens = if self.mutable && in_closure {
            self.pins_used.set(self.pins_used.get() + 1);
            let (pins, st) = (hidden("__ctx_pins"), hidden("__ctx_st"));
            if self.checked {
                let w = crate::propagate::expand::witness_ident();
                quote_spanned!(span=> #pins.read::<#p, #w>(#st))
            } else {
                quote_spanned!(span=> #pins.read_unchecked::<#p>(#st))
            }
        } else if self.mutable && statement {
            let st = hidden("__ctx_st");
            if self.checked {
                let w = crate::propagate::expand::witness_ident();
                quote_spanned!(span=> ::ctx::__private::pinned::<#p, #w>(#st).__get())
            } else {
                quote_spanned!(span=> ::ctx::__private::pinned_unchecked::<#p>(#st).__get())
            }
        } else {
            let cx = cx_at(span);
            if self.checked {
                quote_spanned!(span=> ::ctx::__private::read::<#p, _>(&#cx))
            } else {
                quote_spanned!(span=> ::ctx::__private::read_unchecked::<#p, _>(&#cx))
            }
        };
        syn::parse2(tokens).expect("a read is an expression")
    }

    /// `let user = <read>;` for each visible key that the macro's tokens
    /// name (`idents`: as an identifier, for opaque macros) or that its
    /// string literals name (an inline format argument `{user}`).
    pub(super) fn macro_bindings(&self, tokens: &TokenStream, idents: bool) -> TokenStream {
        let mut found: Vec<&KeyArg> = Vec::new();
        scan_tokens(tokens.clone(), &mut |text, literal| {
            let names = if literal {
                names_in_format(text)
            } else if idents {
                vec![text.to_string()]
            } else {
                return;
            };
            for k in &self.keys {
                if names.iter().any(|n| k.ident == n)
                    && !found.iter().any(|f| f.ident == k.ident)
                    && !self.shadowed.iter().any(|s| k.ident == s)
                {
                    found.push(k);
                }
            }
        });
        let in_closure = self.closures > 0 && self.readonly == 0;
        let pinned = self.mutable && !in_closure && (self.pin > 0 || self.statement_takes_cx);
        let lets = found.iter().map(|k| {
            let id = &k.ident;
            if pinned {
                // The pinned value must outlive the binding's statement.
                let (p, st) = (&k.path, hidden("__ctx_st"));
                let pin = hidden(&format!("__ctx_pin_{id}"));
                let get = if self.checked {
                    let w = crate::propagate::expand::witness_ident();
                    quote_spanned!(id.span()=> ::ctx::__private::pinned::<#p, #w>(#st))
                } else {
                    quote_spanned!(id.span()=> ::ctx::__private::pinned_unchecked::<#p>(#st))
                };
                return quote! {
                    let #pin = #get;
                    #[allow(unused_variables)]
                    let #id = #pin.__get();
                };
            }
            let read = self.read(k, id.span());
            quote! {
                #[allow(unused_variables)]
                let #id = #read;
            }
        });
        quote!(#(#lets)*)
    }
}

/// Calls `f(text, is_literal)` for every identifier and literal in `tokens`.
fn scan_tokens(tokens: TokenStream, f: &mut impl FnMut(&str, bool)) {
    for t in tokens {
        match t {
            proc_macro2::TokenTree::Ident(i) => f(&i.to_string(), false),
            proc_macro2::TokenTree::Literal(l) => f(&l.to_string(), true),
            proc_macro2::TokenTree::Group(g) => scan_tokens(g.stream(), f),
            proc_macro2::TokenTree::Punct(_) => {}
        }
    }
}

/// The names a format string captures inline: `{name}`, `{name:?}`.
fn names_in_format(lit: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = lit.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '{' {
            continue;
        }
        if chars.peek() == Some(&'{') {
            chars.next();
            continue;
        }
        let mut name = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_alphanumeric() || c == '_' {
                name.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if matches!(chars.peek(), Some('}' | ':')) && !name.is_empty() {
            out.push(name);
        }
    }
    out
}

/// Whether a statement takes the context somewhere (a path call, an
/// `.await`, a spawn, `set!`/`bind!`/`with!`): its reads are pinned.
pub(super) fn takes_cx(s: &syn::Stmt) -> bool {
    struct Finder(bool);
    impl Visit<'_> for Finder {
        fn visit_expr_call(&mut self, c: &syn::ExprCall) {
            self.0 |= matches!(&*c.func, Expr::Path(_));
            syn::visit::visit_expr_call(self, c);
        }
        fn visit_expr_await(&mut self, _: &syn::ExprAwait) {
            self.0 = true;
        }
        fn visit_expr_method_call(&mut self, m: &syn::ExprMethodCall) {
            self.0 |= matches!(
                m.method.to_string().as_str(),
                "spawn"
                    | "spawn_local"
                    | "spawn_blocking"
                    | "block_on"
                    | "spawn_fifo"
                    | "spawn_broadcast"
            );
            syn::visit::visit_expr_method_call(self, m);
        }
        fn visit_macro(&mut self, m: &syn::Macro) {
            use syn::parse::Parser;
            let segs = segment_names(&m.path);
            self.0 |= matches!(
                segs.last().map(String::as_str),
                Some("set" | "bind" | "with" | "join" | "try_join" | "select")
            );
            let args = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated
                .parse2(m.tokens.clone());
            match args {
                Ok(args) => args.iter().for_each(|a| self.visit_expr(a)),
                Err(_) => self.0 |= tokens_call(m.tokens.clone()),
            }
        }
        fn visit_item(&mut self, _: &syn::Item) {}
    }
    let mut f = Finder(false);
    f.visit_stmt(s);
    f.0
}

/// Whether macro tokens hold a path call `name(..)` (not a method call
/// `.name(..)`) or an `.await`.
fn tokens_call(tokens: TokenStream) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    // The previous token was an identifier not preceded by a dot / a dot.
    let (mut callee, mut dot) = (false, false);
    for t in tokens {
        let (next_callee, next_dot) = match &t {
            TokenTree::Group(g) => {
                if (callee && g.delimiter() == Delimiter::Parenthesis) || tokens_call(g.stream()) {
                    return true;
                }
                (false, false)
            }
            TokenTree::Ident(i) if dot && i == "await" => return true,
            TokenTree::Ident(_) => (!dot, false),
            TokenTree::Punct(p) => (false, p.as_char() == '.'),
            TokenTree::Literal(_) => (false, false),
        };
        (callee, dot) = (next_callee, next_dot);
    }
    false
}

/// Starts a closure's or `async` block's body with the [`Pins`] its reads
/// keep their values in.
///
/// [`Pins`]: ../../../../ctx_core/struct.Pins.html
pub(super) fn with_pins(body: &mut Expr) {
    let pins = hidden("__ctx_pins");
    let b = std::mem::replace(body, Expr::Verbatim(TokenStream::new()));
    // The body becomes a block's tail: one that starts with a block-like
    // expression (`if c { 1 } else { 2 } + n`) needs parentheses there.
    let b = super::syntax::parenthesized_if(b, super::syntax::starts_with_block);
    *body = syn::parse_quote_spanned!(b.span()=> {
        let #pins = ::ctx::__private::Pins::new();
        #b
    });
}

/// [`with_pins`] for an `async` block.
pub(super) fn async_with_pins(block: &mut syn::Block) {
    let pins = hidden("__ctx_pins");
    block.stmts.insert(
        0,
        syn::parse_quote!(let #pins = ::ctx::__private::Pins::new();),
    );
}
