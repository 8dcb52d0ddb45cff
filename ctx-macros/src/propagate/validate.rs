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
    check_fixed_signature(&f.sig)?;
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

/// The last path segment of a type, through references.
fn type_name(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Reference(r) => type_name(&r.elem),
        syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
        _ => None,
    }
}

/// The methods of standard traits whose signature the trait fixes
/// (`Display::fmt`, `Drop::drop`, `Future::poll`, `Clone::clone`,
/// `Deref::deref`, `Hash::hash`): a hidden parameter would not match the
/// trait's declaration, so rustc would only say "has 3 parameters but the
/// declaration in trait has 2".
fn check_fixed_signature(sig: &Signature) -> syn::Result<()> {
    let name = sig.ident.to_string();
    let typed: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|a| match a {
            syn::FnArg::Typed(t) => type_name(&t.ty),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let receiver = sig.receiver().is_some();
    let output = match &sig.output {
        syn::ReturnType::Type(_, t) => quote::ToTokens::to_token_stream(t).to_string(),
        syn::ReturnType::Default => String::new(),
    };
    let generics = quote::ToTokens::to_token_stream(&sig.generics).to_string();
    let fixed_by = match name.as_str() {
        "fmt" if typed.iter().any(|t| t == "Formatter") => Some("`Display`/`Debug`"),
        "drop" if receiver && typed.is_empty() => Some("`Drop`"),
        n if n.starts_with("poll") && receiver && typed.iter().any(|t| t == "Context") => {
            Some("`Future`/`Stream`/`AsyncRead`/...")
        }
        "clone" if receiver && typed.is_empty() && output == "Self" => Some("`Clone`"),
        "deref" | "deref_mut" if receiver && output.contains("Target") => Some("`Deref`"),
        "hash" if receiver && generics.contains("Hasher") => Some("`Hash`"),
        _ => None,
    };
    match fixed_by {
        Some(t) => Err(syn::Error::new_spanned(
            &sig.ident,
            format!(
                "#[propagate] cannot be used on `{name}`: it implements a method of {t}, whose \
                 signature the trait fixes, so it cannot take the context as a hidden parameter; \
                 remove #[propagate] and read values with `ctx::current::<key>()`, which sees \
                 the context the caller runs in"
            ),
        )),
        None => Ok(()),
    }
}
