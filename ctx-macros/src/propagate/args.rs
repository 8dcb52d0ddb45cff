//! Parsing `#[propagate(user, mut request_id, keys::tenant)]`.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Path, Token};

/// One listed key: its path (the key type), the binding name in the body
/// (the path's last segment) and whether the function may change it.
#[derive(Clone)]
pub(crate) struct KeyArg {
    pub is_mut: bool,
    pub path: Path,
    pub ident: Ident,
}

impl Parse for KeyArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let is_mut = input.parse::<Option<Token![mut]>>()?.is_some();
        let path: Path = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a key name: #[propagate(user, mut request_id)] lists keys declared with ctx::keys!",
            )
        })?;
        let Some(last) = path.segments.last() else {
            return Err(syn::Error::new_spanned(&path, "expected a key name"));
        };
        if !last.arguments.is_none() {
            return Err(syn::Error::new_spanned(
                &last.arguments,
                "a key takes no generic arguments: write the key's name, e.g. `user`",
            ));
        }
        let ident = last.ident.clone();
        Ok(KeyArg {
            is_mut,
            path,
            ident,
        })
    }
}

pub(crate) fn parse(args: TokenStream) -> syn::Result<Vec<KeyArg>> {
    let parser = |input: ParseStream| {
        let mut list = Punctuated::<KeyArg, Token![,]>::new();
        while !input.is_empty() {
            list.push_value(input.parse()?);
            if input.is_empty() {
                break;
            }
            let comma = input.parse::<Token![,]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected `,` or the end of the list: #[propagate] takes key names only, e.g. #[propagate(user, mut request_id)]",
                )
            })?;
            list.push_punct(comma);
        }
        Ok(list)
    };
    let list = parser.parse2(args)?;
    let mut keys: Vec<KeyArg> = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for k in list {
        if keys.iter().any(|x| x.ident == k.ident) {
            let e = syn::Error::new(
                k.ident.span(),
                format!(
                    "key `{}` is listed twice in #[propagate(...)]; list it once (with `mut` if the function changes it)",
                    k.ident
                ),
            );
            match &mut errors {
                Some(a) => a.combine(e),
                None => errors = Some(e),
            }
            continue;
        }
        keys.push(k);
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(keys),
    }
}
