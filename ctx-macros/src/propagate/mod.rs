//! `#[propagate(...)]`: parse the key list (`args`), check the item
//! (`validate`), rewrite the body (`rewrite`) and emit the function
//! (`expand`).

mod args;
mod expand;
pub(crate) mod rewrite;
mod validate;

use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) use args::KeyArg;

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let keys = args::parse(args);
    let item_fn = validate::parse_item(item.clone());
    match (keys, item_fn) {
        (Ok(keys), Ok(f)) => expand::expand(&keys, f),
        (Err(e1), Err(e2)) => {
            let mut e = e1;
            e.combine(e2);
            emit_error(e, item)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => emit_error(e, item),
    }
}

/// The error, and the item in a form that adds no follow-on errors: a
/// function keeps its signature (so its callers still type-check) and
/// loses its body, which names keys that are not in scope without the
/// rewrite; anything else is emitted as written.
fn emit_error(e: syn::Error, item: TokenStream) -> TokenStream {
    let mut out = e.into_compile_error();
    match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(mut f) => {
            f.block = Box::new(syn::parse_quote!({ ::core::unreachable!() }));
            f.attrs.push(syn::parse_quote!(#[allow(unused_variables)]));
            out.extend(f.into_token_stream());
        }
        Err(_) => out.extend(item),
    }
    out
}

/// `ctx::set!` / `ctx::bind!` reached the compiler unexpanded: they were
/// used outside a propagated body.
pub fn outside(name: &str, input: TokenStream) -> TokenStream {
    let span = input
        .clone()
        .into_iter()
        .next()
        .map_or_else(proc_macro2::Span::call_site, |t| t.span());
    syn::Error::new(
        span,
        format!(
            "`ctx::{name}!` only works directly inside a #[ctx::propagate] function or a `ctx::with!` block \
             (not inside another macro's arguments)"
        ),
    )
    .into_compile_error()
    .into_token_stream()
}

pub(crate) fn rewrite_cx_ident() -> proc_macro2::Ident {
    expand::cx_ident()
}
