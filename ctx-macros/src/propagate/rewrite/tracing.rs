//! `tracing` (and `log`) event and span macros in a propagated body:
//! `info!(target: "t", user_id = id(), ?req, %peer, "{} {}", a, f())`. Each
//! comma-separated argument is rewritten like an expression: a field's
//! value (`name = value`, `?name = value`), a `?`/`%` expression, a format
//! argument. Field names and the `target:`/`parent:`/`name:` prefixes stay
//! as written; a bare key (`?user`, `%user`) is read through a binding
//! around the macro, so the field keeps the key's name.

use proc_macro2::{Spacing, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::visit_mut::VisitMut;
use syn::{Expr, Macro};

use super::Rewriter;

/// The event and span macros of `tracing` (and `log`'s event macros).
pub(super) fn is_tracing_macro(first: &str, last: &str, segments: usize) -> bool {
    (segments == 1 || matches!(first, "tracing" | "log"))
        && matches!(
            last,
            "trace"
                | "debug"
                | "info"
                | "warn"
                | "error"
                | "event"
                | "span"
                | "trace_span"
                | "debug_span"
                | "info_span"
                | "warn_span"
                | "error_span"
        )
}

/// `tokens` split at the commas outside any group.
fn split_commas(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut out = vec![Vec::new()];
    for t in tokens {
        match &t {
            TokenTree::Punct(p) if p.as_char() == ',' => out.push(Vec::new()),
            _ => out.last_mut().map_or((), |seg| seg.push(t)),
        }
    }
    out
}

/// How many leading tokens are kept as written: `target:` (not a path's
/// `::`), then a `?` or `%`.
fn prefix_len(seg: &[TokenTree]) -> usize {
    let mut n = 0;
    if let [TokenTree::Ident(_), TokenTree::Punct(c), ..] = seg
        && c.as_char() == ':'
        && c.spacing() == Spacing::Alone
    {
        n = 2;
    }
    if let Some(TokenTree::Punct(p)) = seg.get(n)
        && matches!(p.as_char(), '?' | '%')
    {
        n += 1;
    }
    n
}

/// The position of a field's `=` (`name = value`, `a.b = ?value`): an `=`
/// that is not part of `==`, `<=`, `>=`, `!=` or `=>`.
fn field_eq(seg: &[TokenTree]) -> Option<usize> {
    seg.iter().enumerate().position(|(i, t)| {
        let TokenTree::Punct(p) = t else { return false };
        let joined_before =
            i > 0 && matches!(&seg[i - 1], TokenTree::Punct(q) if q.spacing() == Spacing::Joint);
        p.as_char() == '=' && p.spacing() == Spacing::Alone && !joined_before
    })
}

impl Rewriter {
    /// The rewritten arguments of an event or span macro, or `None` when
    /// one does not parse (the macro is then treated as opaque).
    pub(super) fn rewrite_tracing(&mut self, mac: &Macro) -> Option<TokenStream> {
        let mut out = TokenStream::new();
        for (i, seg) in split_commas(mac.tokens.clone()).into_iter().enumerate() {
            if i > 0 {
                out.extend(quote!(,));
            }
            if seg.is_empty() {
                // After a trailing comma.
                continue;
            }
            let n = prefix_len(&seg);
            let (mut head, mut value): (TokenStream, &[TokenTree]) =
                (seg[..n].iter().cloned().collect(), &seg[n..]);
            if let Some(eq) = field_eq(value) {
                // `name = value`: the name stays; the value may have its
                // own `?`/`%`.
                let v = &value[eq + 1..];
                let m = prefix_len(v).min(1);
                head.extend(value[..=eq].iter().cloned());
                head.extend(v[..m].iter().cloned());
                value = &v[m..];
            }
            let mut e: Expr = syn::parse2(value.iter().cloned().collect()).ok()?;
            // A bare key keeps its name as the field's: bound around.
            if !matches!(&e, Expr::Path(p) if p.path.get_ident().is_some()) {
                self.visit_expr_mut(&mut e);
            }
            out.extend(quote!(#head #e));
        }
        Some(out.into_token_stream())
    }
}
