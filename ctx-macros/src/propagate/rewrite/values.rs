//! Functions passed as values: `.map(tag)`, `.fold(0, add)`.
//!
//! A path argument that may name a function becomes
//! `{ let v = ValueProbe::new(tag).__value(&context); v }`: a propagated
//! function (one whose first parameter is the context, followed by one to
//! six more) becomes a closure that passes the context, as `|n| tag(n)`
//! would; anything else is handed on unchanged. Functions taking only the
//! context are not probed: a generic one-parameter function passed as a
//! value (`.for_each(drop)`, `.map(Box::new)`) would unify with them.

use proc_macro2::TokenStream;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Token};

use super::{Rewriter, hidden};
use crate::propagate::expand::cx_at;

/// Generic standard functions, commonly imported by their bare name, whose
/// first parameter would unify with the context.
const GENERIC: &[&str] = &[
    "drop", "identity", "forget", "replace", "swap", "take", "max", "min", "zip",
];

impl Rewriter {
    /// Probes the path arguments of a call that is not a spawn.
    pub(super) fn probe_values(&self, args: &mut Punctuated<Expr, Token![,]>) {
        for a in args.iter_mut() {
            self.probe_value(a);
        }
    }

    /// Probes `e` if it is a path that may name a function (a call's
    /// argument, a `let` initializer).
    pub(super) fn probe_value(&self, e: &mut Expr) {
        if self.readonly > 0 || self.in_unsafe > 0 || !self.may_name_fn(e) {
            return;
        }
        let path = std::mem::replace(e, Expr::Verbatim(TokenStream::new()));
        *e = self.value_probe(path);
    }

    /// A path that may name a function. Not probed: locals, keys (already
    /// reads here), single names in a `with!` block, capitalized names (types, variants, constants), the
    /// standard library's functions, and inside the closures of a parallel
    /// iterator, whose read-only copy of the context a closure cannot
    /// borrow past the statement.
    fn may_name_fn(&self, e: &Expr) -> bool {
        let Expr::Path(p) = e else { return false };
        if p.qself.is_some() || !p.attrs.is_empty() {
            return false;
        }
        let segs = &p.path.segments;
        let Some(last) = segs.last() else {
            return false;
        };
        let name = last.ident.to_string();
        if !name.starts_with(|c: char| c.is_lowercase() || c == '_') || name == "self" {
            return false;
        }
        // A `with!` block does not see the locals bound outside it: there,
        // only paths of two or more segments (`handlers::tag`) are probed.
        if segs.len() == 1
            && (!self.checked || self.locals.contains(&name) || GENERIC.contains(&name.as_str()))
        {
            return false;
        }
        let first = segs[0].ident.to_string();
        !(segs.len() > 1 && matches!(first.as_str(), "std" | "core" | "alloc" | "ctx"))
    }

    fn value_probe(&self, e: Expr) -> Expr {
        self.used();
        let span = e.span();
        let cx = cx_at(span);
        let v = hidden("__ctx_v");
        syn::parse_quote_spanned! {span=>
            { let #v = ::ctx::__private::ValueProbe::new(#e).__value(&#cx); #v }
        }
    }
}
