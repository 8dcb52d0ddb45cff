//! Syntax helpers of the rewriter: splicing rewritten expressions into
//! templates, elided lifetimes, and whether a block awaits.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Lifetime, Macro, Token, Type};

/// The placeholder `__ctx_holeN` of a [`splice`] template.
pub(super) fn hole(i: usize) -> Ident {
    hole_span(i, Span::call_site())
}

fn hole_span(i: usize, span: Span) -> Ident {
    Ident::new(&format!("__ctx_hole{i}"), span)
}

pub(super) fn hole_at(i: usize, span: Span) -> Expr {
    let id = hole_span(i, span);
    syn::parse_quote!(#id)
}

/// Parses a small template and moves `parts` into its placeholders
/// (`__ctx_hole0`, `__ctx_hole1`, ..): the user's expressions, already
/// rewritten, are moved into the output instead of being printed and
/// parsed again at every enclosing level.
pub(super) fn splice(template: TokenStream, parts: Vec<Expr>) -> Expr {
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

/// The leftmost subexpression of `e`: what a parser meets first.
fn leftmost(e: &Expr) -> &Expr {
    match e {
        Expr::Binary(b) => leftmost(&b.left),
        Expr::Assign(a) => leftmost(&a.left),
        Expr::Cast(c) => leftmost(&c.expr),
        Expr::Range(r) => r.start.as_deref().map_or(e, leftmost),
        Expr::MethodCall(m) => leftmost(&m.receiver),
        Expr::Field(f) => leftmost(&f.base),
        Expr::Index(i) => leftmost(&i.expr),
        Expr::Try(t) => leftmost(&t.expr),
        Expr::Await(a) => leftmost(&a.base),
        Expr::Call(c) => leftmost(&c.func),
        _ => e,
    }
}

/// Whether `e`'s leftmost subexpression is block-like (`if`, `match`, a
/// loop or a block): in statement position it would end the statement.
pub(super) fn starts_with_block(e: &Expr) -> bool {
    matches!(
        leftmost(e),
        Expr::If(_)
            | Expr::Match(_)
            | Expr::Loop(_)
            | Expr::While(_)
            | Expr::ForLoop(_)
            | Expr::Block(_)
            | Expr::Unsafe(_)
            | Expr::Const(_)
            | Expr::TryBlock(_)
    )
}

/// Whether `e`'s leftmost token is a path's leading `::` (a rewritten read,
/// call or `with!`): after `break 'label` syn cannot parse it.
pub(super) fn starts_with_global_path(e: &Expr) -> bool {
    match leftmost(e) {
        Expr::Path(p) => p.qself.is_none() && p.path.leading_colon.is_some(),
        Expr::Macro(m) => m.mac.path.leading_colon.is_some(),
        _ => false,
    }
}

/// `e` in parentheses if `needs` says so.
pub(super) fn parenthesized_if(e: Expr, needs: fn(&Expr) -> bool) -> Expr {
    if needs(&e) {
        Expr::Paren(syn::ExprParen {
            attrs: Vec::new(),
            paren_token: syn::token::Paren::default(),
            expr: Box::new(e),
        })
    } else {
        e
    }
}
