//! `keys!`: parse the key list, validate it, and emit one uninhabited type
//! per key with its `Key` impl.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, Path, Token, Type, Visibility};

enum Merge {
    Replace,
    Keep,
    Append,
    With(Path),
}

struct KeyDecl {
    attrs: Vec<Attribute>,
    vis: Visibility,
    name: Ident,
    ty: Type,
    merge: Merge,
    baggage: Option<crate::baggage::Baggage>,
    /// `#[trace]`: the value is a field of ctx's `tracing` spans.
    trace: bool,
}

struct Keys(Vec<KeyDecl>);

fn parse_merge(attr: &Attribute) -> syn::Result<Merge> {
    const ACCEPTED: &str = "expected `#[merge(replace)]`, `#[merge(keep)]`, `#[merge(append)]` or `#[merge(with = path::to::fn)]`";
    let mut out = None;
    attr.parse_nested_meta(|meta| {
        if out.is_some() {
            return Err(meta.error("only one merge policy per key"));
        }
        out = Some(if meta.path.is_ident("replace") {
            Merge::Replace
        } else if meta.path.is_ident("keep") {
            Merge::Keep
        } else if meta.path.is_ident("append") {
            Merge::Append
        } else if meta.path.is_ident("with") {
            Merge::With(meta.value()?.parse()?)
        } else {
            return Err(meta.error(ACCEPTED));
        });
        Ok(())
    })?;
    out.ok_or_else(|| syn::Error::new_spanned(attr, ACCEPTED))
}

impl Parse for Keys {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut keys: Vec<KeyDecl> = Vec::new();
        let mut errors: Option<syn::Error> = None;
        while !input.is_empty() {
            let mut attrs = input.call(Attribute::parse_outer)?;
            let vis: Visibility = input.parse()?;
            let name: Ident = input.parse()?;
            input.parse::<Token![:]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected `: Type` after key `{name}`, e.g. `pub {name}: String;`"),
                )
            })?;
            let ty: Type = input.parse()?;
            input.parse::<Token![;]>()?;
            let mut merge = Merge::Replace;
            let mut baggage = None;
            let mut trace = false;
            let mut kept = Vec::new();
            for attr in attrs.drain(..) {
                if attr.path().is_ident("trace") {
                    if let Err(e) = attr.meta.require_path_only() {
                        combine(
                            &mut errors,
                            syn::Error::new(e.span(), "expected `#[trace]`, without arguments"),
                        );
                    } else if trace {
                        combine(
                            &mut errors,
                            syn::Error::new_spanned(&attr, "`#[trace]` is given twice"),
                        );
                    }
                    trace = true;
                } else if attr.path().is_ident("merge") {
                    match parse_merge(&attr) {
                        Ok(m) => merge = m,
                        Err(e) => combine(&mut errors, e),
                    }
                } else if attr.path().is_ident("baggage") {
                    match crate::baggage::parse(&attr) {
                        Ok(b) => baggage = Some(b),
                        Err(e) => combine(&mut errors, e),
                    }
                } else {
                    kept.push(attr);
                }
            }
            if keys.iter().any(|k| k.name == name) {
                combine(
                    &mut errors,
                    syn::Error::new(
                        name.span(),
                        format!("key `{name}` is declared twice in this `keys!`"),
                    ),
                );
            }
            keys.push(KeyDecl {
                attrs: kept,
                vis,
                name,
                ty,
                merge,
                baggage,
                trace,
            });
        }
        match errors {
            Some(e) => Err(e),
            None => Ok(Keys(keys)),
        }
    }
}

fn combine(acc: &mut Option<syn::Error>, e: syn::Error) {
    match acc {
        Some(a) => a.combine(e),
        None => *acc = Some(e),
    }
}

pub fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<Keys>(input) {
        Ok(keys) => keys.0.iter().map(expand_key).collect(),
        Err(e) => e.into_compile_error(),
    }
}

fn expand_key(k: &KeyDecl) -> TokenStream {
    let KeyDecl {
        attrs,
        vis,
        name,
        ty,
        merge,
        baggage,
        trace,
    } = k;
    let private = quote!(::ctx::__private);
    let merge_fn = match merge {
        Merge::Replace => quote!(#private::merge_replace),
        Merge::Keep => quote!(#private::merge_keep),
        Merge::Append => quote_spanned!(ty.span()=> #private::merge_append::<#ty>),
        Merge::With(path) => {
            let f = Ident::new("__ctx_merge", Span::mixed_site());
            quote_spanned! {path.span()=> {
                fn #f(
                    parent: ::core::option::Option<&#private::Value>,
                    child: &#private::Value,
                    _base: ::core::option::Option<&#private::Value>,
                ) -> #private::Value {
                    #private::merge_with::<#ty>(parent, child, #path)
                }
                #f
            }}
        }
    };
    // Spanned at the type: a value that is not `Debug` is reported there.
    let traced = trace.then(|| quote_spanned!(ty.span()=> .traced::<#ty>()));
    let doc = format!(" Context key `{name}`.");
    let has_doc = attrs.iter().any(|a| a.path().is_ident("doc"));
    let default_doc = (!has_doc).then(|| quote!(#[doc = #doc]));
    let w = Ident::new("__W", Span::mixed_site());
    let info = Ident::new("INFO", Span::mixed_site());
    let baggage = baggage.as_ref().map(|b| crate::baggage::expand(name, b));
    quote! {
        #(#attrs)*
        #default_doc
        #[allow(non_camel_case_types)]
        #vis enum #name {}

        #[automatically_derived]
        impl #private::Key for #name {
            type Value = #ty;
            #[inline]
            fn info() -> &'static #private::KeyInfo {
                static #info: #private::KeyInfo =
                    #private::KeyInfo::new::<#name>(::core::stringify!(#name), #merge_fn)#traced;
                &#info
            }
        }

        #[automatically_derived]
        impl<#w: ::ctx::check::Has<#name>> ::ctx::check::Need<#w> for #name {}

        #baggage
    }
}
