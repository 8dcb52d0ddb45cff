//! Which items `#[propagate]` accepts, with one spanned error for each
//! that it does not.

use proc_macro2::TokenStream;
use syn::{Attribute, Block, Signature, Visibility};

/// A function with or without a body (a trait method declaration).
pub(crate) struct FnItem {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub block: Option<Block>,
}

pub(crate) fn parse_item(item: TokenStream) -> syn::Result<FnItem> {
    let f = if let Ok(f) = syn::parse2::<syn::ItemFn>(item.clone()) {
        FnItem {
            attrs: f.attrs,
            vis: f.vis,
            sig: f.sig,
            block: Some(*f.block),
        }
    } else if let Ok(f) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        FnItem {
            attrs: f.attrs,
            vis: Visibility::Inherited,
            sig: f.sig,
            block: f.default,
        }
    } else {
        return Err(syn::Error::new_spanned(
            item,
            "#[propagate] applies to functions and methods (sync or async)",
        ));
    };
    check(&f.sig)?;
    check_attrs(&f.attrs)?;
    check_entry_point(&f)?;
    Ok(f)
}

/// `main`, `#[test]`, `#[tokio::main]`, `#[tokio::test]`: nothing calls an
/// entry point with a context.
fn check_entry_point(f: &FnItem) -> syn::Result<()> {
    let attr = f.attrs.iter().find(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "test" || s.ident == "main")
    });
    let tokens = match attr {
        Some(a) => quote::ToTokens::to_token_stream(a),
        None if f.sig.ident == "main" => quote::ToTokens::to_token_stream(&f.sig.ident),
        None => return Ok(()),
    };
    Err(syn::Error::new_spanned(
        tokens,
        format!(
            "`{}` is an entry point: nothing calls it with a context, so it cannot be \
             #[propagate]; remove #[propagate] here and enter the context inside it, with \
             `Root {{ .. }}.scope(handler()).await` or `ctx::with!(root, {{ .. }})`",
            f.sig.ident
        ),
    ))
}

fn check_attrs(attrs: &[Attribute]) -> syn::Result<()> {
    if let Some(a) = attrs.iter().find(|a| a.path().is_ident("track_caller")) {
        return Err(syn::Error::new_spanned(
            a,
            "#[track_caller] does not work on a #[propagate] function: calls reach it through \
             ctx's dispatch, so `Location::caller()` would point into the standard library; \
             remove it, or pass `std::panic::Location::caller()` from the call site as a parameter",
        ));
    }
    Ok(())
}

fn check(sig: &Signature) -> syn::Result<()> {
    if let Some(c) = &sig.constness {
        return Err(syn::Error::new_spanned(
            c,
            "#[propagate] cannot be used on a `const fn`: context values exist only at run time; remove `const`",
        ));
    }
    if let Some(abi) = &sig.abi {
        return Err(syn::Error::new_spanned(
            abi,
            "#[propagate] cannot be used on an `extern` fn: foreign callers cannot pass the context; \
             call a propagated Rust function from inside a `ctx::with!` block instead",
        ));
    }
    if let Some(u) = &sig.unsafety {
        return Err(syn::Error::new_spanned(
            u,
            "#[propagate] cannot be used on an `unsafe fn`: calls inside `unsafe` blocks are \
             left as written, so it could not receive the context; make it safe and move the \
             unsafe operation into a plain `unsafe fn` that it calls",
        ));
    }
    if let Some(v) = &sig.variadic {
        return Err(syn::Error::new_spanned(
            v,
            "#[propagate] cannot be used on a variadic function",
        ));
    }
    Ok(())
}
