//! `ctx::with!(root, { block })`: the block runs with the root's values,
//! layered over the current context; its calls are rewritten like a
//! propagated body's. A block that awaits becomes an instrumented async
//! block, so the mirror follows the task rather than the thread.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Block, Expr, Ident, Path, Token};

use crate::propagate::KeyArg;
use crate::propagate::rewrite::{Rewriter, contains_await};

struct WithInput {
    keys: Vec<KeyArg>,
    root: Expr,
    block: Block,
}

struct KeyPair(Ident, Path);

impl Parse for KeyPair {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let id = input.parse()?;
        input.parse::<Token![:]>()?;
        Ok(KeyPair(id, input.parse()?))
    }
}

fn parse(input: ParseStream, nested: bool) -> syn::Result<WithInput> {
    let mut keys = Vec::new();
    if nested {
        let content;
        syn::bracketed!(content in input);
        for KeyPair(ident, path) in Punctuated::<KeyPair, Token![,]>::parse_terminated(&content)? {
            keys.push(KeyArg {
                is_mut: true,
                path,
                ident,
            });
        }
    }
    let root: Expr = input.parse()?;
    input.parse::<Token![,]>().map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected `ctx::with!(root, { ... })`: a root value, a comma, then a block",
        )
    })?;
    let block: Block = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), "expected a block: `ctx::with!(root, { ... })`"))?;
    input.parse::<Option<Token![,]>>()?;
    Ok(WithInput { keys, root, block })
}

pub fn expand(input: TokenStream, nested: bool) -> TokenStream {
    let parsed = syn::parse::Parser::parse2(|i: ParseStream| parse(i, nested), input);
    let WithInput {
        keys,
        root,
        mut block,
    } = match parsed {
        Ok(p) => p,
        Err(e) => return e.into_compile_error(),
    };
    let is_async = contains_await(&block);
    let mut rw = Rewriter::new(keys, true, false);
    rw.collect_locals_block(&block);
    rw.visit_block_mut(&mut block);
    let errors = rw.into_errors();
    let st = Ident::new("__ctx_root", Span::mixed_site());
    let cx = crate::propagate::rewrite_cx_ident();
    let st_binding = crate::propagate::rewrite::storage_binding();
    let guard = Ident::new("__ctx_ambient", Span::mixed_site());
    let head = quote! {
        #errors
        let #st = ::ctx::__private::RootStorage::new(#root);
        #[allow(unused_mut)]
        let mut #cx = #st.cx();
        #st_binding
        #[allow(unused_imports)]
        use ::ctx::__private::prelude::*;
    };
    let stmts = &block.stmts;
    if is_async {
        quote! {{
            #head
            #st.instrument(async #block).await
        }}
    } else {
        quote! {{
            #head
            let #guard = ::ctx::__private::enter_cx(&#cx);
            #(#stmts)*
        }}
    }
}
