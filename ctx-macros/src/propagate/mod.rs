//! `#[propagate(...)]`: parse the key list (`args`), check the item
//! (`validate`), rewrite the body (`rewrite`) and emit the function
//! (`expand`).

mod args;
mod async_trait;
mod expand;
pub(crate) mod rewrite;
mod validate;

use proc_macro2::TokenStream;
use quote::ToTokens;

pub(crate) use args::KeyArg;

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let keys = args::parse(args.clone());
    let item_fn = validate::parse_item(item.clone());
    match (keys, item_fn) {
        (Ok(_), Ok(f)) if let Some(at) = instrument_below(&f) => reorder(&args, f, at),
        (Ok(keys), Ok(f)) => expand::expand(&keys, f),
        (Err(e1), Err(e2)) => {
            let mut e = e1;
            e.combine(e2);
            emit_error(e, item)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => emit_error(e, item),
    }
}

/// The position of a `#[tracing::instrument]` (or `#[instrument]`) among
/// the attributes still on the item: it is written below `#[propagate]`,
/// so it has not run yet.
fn instrument_below(f: &validate::FnItem) -> Option<usize> {
    f.attrs.iter().rposition(|a| {
        matches!(a.style, syn::AttrStyle::Outer)
            && a.path()
                .segments
                .last()
                .is_some_and(|s| s.ident == "instrument")
    })
}

/// `#[propagate]` above `#[instrument]`: emits the item again with
/// `#[propagate]` just below `#[instrument]`, so the span wraps the body
/// the user wrote (and does not try to record the hidden context), as
/// when the attributes are written the other way round.
fn reorder(args: &TokenStream, f: validate::FnItem, at: usize) -> TokenStream {
    let validate::FnItem {
        attrs,
        vis,
        sig,
        block,
    } = f;
    let (above, below) = attrs.split_at(at + 1);
    // A body's inner attributes (`#![allow(..)]`) stay inside it.
    let (inner, below): (Vec<_>, Vec<_>) = below
        .iter()
        .partition(|a| matches!(a.style, syn::AttrStyle::Inner(_)));
    let body = block.map_or_else(
        || quote::quote!(;),
        |b| {
            let stmts = &b.stmts;
            quote::quote!({ #(#inner)* #(#stmts)* })
        },
    );
    quote::quote! {
        #(#above)*
        #[::ctx::propagate(#args)]
        #(#below)*
        #vis #sig #body
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
