//! `#[baggage(accept, send)]` on a `keys!` key: the directions in which the
//! key travels between services as W3C Baggage (`ctx::http`).

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::{Attribute, Ident};

/// The directions a key opted in to.
#[derive(Default)]
pub struct Baggage {
    /// Read from inbound requests.
    accept: Option<Ident>,
    /// Written to outbound requests.
    send: Option<Ident>,
}

const ACCEPTED: &str =
    "expected `#[baggage(accept)]`, `#[baggage(send)]` or `#[baggage(accept, send)]`";

/// Parses `#[baggage(accept, send)]` (either or both).
pub fn parse(attr: &Attribute) -> syn::Result<Baggage> {
    let mut out = Baggage::default();
    attr.parse_nested_meta(|meta| {
        let slot = if meta.path.is_ident("accept") {
            &mut out.accept
        } else if meta.path.is_ident("send") {
            &mut out.send
        } else {
            return Err(meta.error(ACCEPTED));
        };
        if slot.is_some() {
            return Err(meta.error("each direction once"));
        }
        *slot = meta.path.get_ident().cloned();
        Ok(())
    })?;
    if out.accept.is_none() && out.send.is_none() {
        return Err(syn::Error::new_spanned(attr, ACCEPTED));
    }
    Ok(out)
}

/// The marker impls of the key's directions, spanned at the words the
/// user wrote so that a value type without `BaggageValue` is reported
/// there.
pub fn expand(name: &Ident, b: &Baggage) -> TokenStream {
    let mut out = TokenStream::new();
    if let Some(a) = &b.accept {
        out.extend(quote_spanned! {a.span()=>
            #[automatically_derived]
            impl ::ctx::http::AcceptBaggage for #name {}
        });
    }
    if let Some(s) = &b.send {
        out.extend(quote_spanned! {s.span()=>
            #[automatically_derived]
            impl ::ctx::http::SendBaggage for #name {}
        });
    }
    out
}
