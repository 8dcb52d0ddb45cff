//! Procedural macros of [`ctx`](https://docs.rs/ctx). Use them through the
//! `ctx` crate, which documents them with examples.

mod baggage;
mod derive;
mod keys;
mod propagate;
#[cfg(test)]
mod snapshots;
#[cfg(test)]
mod sweep_tests;
mod with;

use proc_macro::TokenStream;

/// Declares context keys. See the `ctx` crate documentation.
#[proc_macro]
pub fn keys(input: TokenStream) -> TokenStream {
    keys::expand(input.into()).into()
}

/// Makes a function receive the listed context values. See the `ctx` crate
/// documentation.
#[proc_macro_attribute]
pub fn propagate(args: TokenStream, item: TokenStream) -> TokenStream {
    propagate::expand(args.into(), item.into()).into()
}

/// Makes a struct a root: the values a request starts with. See the `ctx`
/// crate documentation.
#[proc_macro_derive(ContextFields, attributes(ctx))]
pub fn derive_context_fields(input: TokenStream) -> TokenStream {
    derive::expand(input.into()).into()
}

/// Runs a block in the context of a root. See the `ctx` crate documentation.
#[proc_macro]
pub fn with(input: TokenStream) -> TokenStream {
    with::expand(input.into(), false).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn with_keys(input: TokenStream) -> TokenStream {
    with::expand(input.into(), true).into()
}

/// Changes a `mut` context value. See the `ctx` crate documentation.
#[proc_macro]
pub fn set(input: TokenStream) -> TokenStream {
    propagate::outside("set", input.into()).into()
}

/// Binds a propagated future to the current context without awaiting it.
/// See the `ctx` crate documentation.
#[proc_macro]
pub fn bind(input: TokenStream) -> TokenStream {
    propagate::outside("bind", input.into()).into()
}
