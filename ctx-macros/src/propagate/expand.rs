//! Emitting a propagated function.
//!
//! Sync: a hidden first parameter (after the receiver) of type
//! `Cx<'_, (k1, Mut<k2>)>`. Async: no hidden parameter; the function
//! returns `Requires<N, impl FnOnce(Owned<N>) -> impl Future<Output = R>>`,
//! which only becomes a future when bound to a context.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{AttrStyle, FnArg, Ident, Lifetime, ReturnType, Token, Type};

use super::KeyArg;
use super::rewrite::{self, Rewriter};
use super::validate::FnItem;

pub(crate) fn cx_ident() -> Ident {
    cx_at(Span::call_site())
}

/// The hidden context parameter, `context` (the name rustc shows in a
/// borrow error; hygiene keeps it apart from any user `context`), located
/// at a use in the user's code: a borrow error then points there.
pub(crate) fn cx_at(at: Span) -> Ident {
    Ident::new("context", Span::mixed_site().located_at(at))
}

/// The key-set type `(k1, Mut<k2>, )` of a function's hidden parameter.
pub(crate) fn key_set(keys: &[KeyArg]) -> TokenStream {
    let elems = keys.iter().map(|k| {
        let p = &k.path;
        if k.is_mut {
            quote_spanned!(k.ident.span()=> ::ctx::check::Mut<#p>)
        } else {
            quote!(#p)
        }
    });
    quote!((#(#elems,)*))
}

/// The name of a body's witness type. rustc shows it in a missing-key
/// error as `handler::propagate` ("the trait `Has<request_id>` is not
/// implemented for `handler::propagate`"); a braced struct occupies only
/// the type namespace, where lowercase names are not used.
pub(crate) fn witness_ident() -> Ident {
    Ident::new("propagate", Span::mixed_site())
}

/// `struct propagate {}` and its `Has`/`HasMut` impls: the body's witness.
pub(crate) fn witness(keys: &[KeyArg]) -> TokenStream {
    let w = witness_ident();
    let impls = keys.iter().map(|k| {
        let p = &k.path;
        let has = quote_spanned!(k.path.span()=> impl ::ctx::check::Has<#p> for #w {});
        let has_mut = k
            .is_mut
            .then(|| quote_spanned!(k.path.span()=> impl ::ctx::check::HasMut<#p> for #w {}));
        quote!(#has #has_mut)
    });
    quote! {
        #[allow(non_camel_case_types)]
        struct #w {}
        #(#impls)*
    }
}

pub(crate) fn expand(keys: &[KeyArg], f: FnItem) -> TokenStream {
    let FnItem {
        attrs,
        vis,
        mut sig,
        mut block,
    } = f;
    let boxed = match super::async_trait::recognize(&sig, &mut block) {
        Ok(boxed) => boxed,
        Err(e) => return e.into_compile_error(),
    };
    if let Some(b) = &boxed {
        sig.asyncness = Some(Token![async](sig.fn_token.span));
        let out = &b.output;
        sig.output = syn::parse_quote!(-> #out);
    }
    let (outer, inner): (Vec<_>, Vec<_>) = attrs
        .into_iter()
        .partition(|a| matches!(a.style, AttrStyle::Outer));
    // A `#[must_use]` function's key set is marked, so that a call
    // statement discarding its result (or awaited output) still warns: the
    // call goes through a probe, where rustc's lint does not see the
    // function. A declaration without a body is a trait's, whose impls do
    // not repeat the attribute: it stays unmarked, as they do.
    let n = key_set(keys);
    let n = if block.is_some() && outer.iter().any(|a| a.path().is_ident("must_use")) {
        quote!(::ctx::check::MustUse<#n>)
    } else {
        n
    };
    let cx = cx_ident();
    let is_async = sig.asyncness.is_some();
    let mutable = keys.iter().any(|k| k.is_mut);

    let block = block.map(|mut b| {
        let mut rw = Rewriter::new(keys.to_vec(), mutable, true);
        rw.collect_locals_sig(&sig);
        rw.collect_locals_block(&b);
        rw.visit_block_mut(&mut b);
        (b, rw.into_errors())
    });

    let witness = witness(keys);
    let w = witness_ident();
    let st = rewrite::storage_binding();
    let mut_kw = mutable.then(|| quote!(mut));
    let prelude = quote!(
        #[allow(unused_imports)]
        use ::ctx::__private::prelude::*;
    );

    if is_async {
        sig.asyncness = None;
        let never = matches!(&sig.output, ReturnType::Type(_, t) if matches!(**t, Type::Never(_)));
        let output = match &sig.output {
            ReturnType::Default => quote!(()),
            // `!` may only be written as a return type on stable Rust; as
            // the future's `Output` it is named through a function pointer.
            ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => {
                quote_spanned!(ty.span()=> <fn() -> #ty as ::ctx::__private::Ret>::Out)
            }
            ReturnType::Type(_, ty) => quote!(#ty),
        };
        let ret_span = sig.output.span();
        // The `impl` types get this crate's edition (2024), located at the
        // return type: an `async fn` captures every lifetime in scope, and
        // so must they, whatever the user's crate's edition.
        let at = Span::mixed_site().located_at(ret_span);
        let imp = quote_spanned!(at=> impl);
        // An `#[async_trait]` method: the body boxed for `'async_trait`.
        let boxed = boxed.map(|b| {
            let (lt, send) = (&b.lifetime, b.send.then(|| quote!(+ ::core::marker::Send)));
            let fut = quote! {
                ::core::pin::Pin<::std::boxed::Box<
                    dyn ::core::future::Future<Output = #output> #send + #lt
                >>
            };
            let body = quote! {
                ::std::boxed::Box<
                    dyn ::core::ops::FnOnce(::ctx::__private::Owned<#n>) -> #fut #send + #lt
                >
            };
            (fut, body)
        });
        sig.output = match &boxed {
            Some((_, body)) => syn::parse_quote_spanned! {ret_span=>
                -> ::ctx::__private::Requires<#n, #body>
            },
            None => syn::parse_quote_spanned! {ret_span=>
                -> ::ctx::__private::Requires<
                    #n,
                    #imp ::ctx::__private::AsyncBody<
                        #n,
                        Fut = #imp ::core::future::Future<Output = #output>,
                    >,
                >
            },
        };
        let inner_as_outer = inner.iter().map(|a| {
            let mut a = a.clone();
            a.style = AttrStyle::Outer;
            a
        });
        let body = block.map(|(b, errors)| {
            let own = Ident::new("__own", Span::mixed_site());
            // Tell inference the body's output type before it checks the
            // body, so `?` and `.into()` resolve as in a plain async fn.
            let opaque = rewrite::contains_impl_trait(&sig_output_type(&output));
            let typed = if opaque {
                quote!(::ctx::__private::typed::<_, _>)
            } else {
                quote_spanned!(ret_span=> ::ctx::__private::typed::<#output, _>)
            };
            // The first `return` of an `async` block fixes its type; this
            // one, never taken, fixes it to the declared output, so later
            // `return`s coerce (`&String` to `&str`, `Box<T>` to
            // `Box<dyn Trait>`) as in a plain async fn.
            let first_return = (!opaque && !never).then(|| {
                quote_spanned! {ret_span=>
                    #[allow(unreachable_code)]
                    if false {
                        return ::ctx::__private::never::<#output>();
                    }
                }
            });
            let stmts = &b.stmts;
            let fut = quote! {
                #typed(async move {
                    #first_return
                    #prelude
                    #witness
                    #[allow(unused_mut)]
                    let #mut_kw #cx = #own.cx::<#w>();
                    #st
                    #(#stmts)*
                })
            };
            let body = match &boxed {
                Some((fut_ty, body_ty)) => quote! {{
                    let __ctx_body: #body_ty = ::std::boxed::Box::new(
                        move |#own: ::ctx::__private::Owned<#n>| -> #fut_ty { ::std::boxed::Box::pin(#fut) }
                    );
                    __ctx_body
                }},
                None => quote!(move |#own: ::ctx::__private::Owned<#n>| #fut),
            };
            quote! {{
                #errors
                ::ctx::__private::Requires::new(#body)
            }}
        });
        let body = body.unwrap_or_else(|| quote!(;));
        return quote! {
            #(#outer)*
            #(#inner_as_outer)*
            #[allow(clippy::type_complexity)]
            #vis #sig #body
        };
    }

    fix_elision(&mut sig);
    let param: FnArg = syn::parse_quote!(#cx: ::ctx::Cx<'_, #n>);
    let at = usize::from(matches!(sig.inputs.first(), Some(FnArg::Receiver(_))));
    sig.inputs.insert(at, param);
    let body = block.map(|(b, errors)| {
        let stmts = &b.stmts;
        quote! {{
            #(#inner)*
            #errors
            #prelude
            #witness
            #[allow(unused_mut)]
            let #mut_kw #cx: ::ctx::Cx<'_, #w> = #cx.__retype();
            #st
            #(#stmts)*
        }}
    });
    let body = body.unwrap_or_else(|| quote!(;));
    quote! {
        #(#outer)*
        #vis #sig #body
    }
}

fn sig_output_type(t: &TokenStream) -> Type {
    syn::parse2(t.clone()).unwrap_or(Type::Verbatim(t.clone()))
}

/// Adding `Cx<'_, N>` adds an input lifetime, which would make an elided
/// output lifetime ambiguous (`fn f(s: &str) -> &str`). When the output
/// elides a lifetime and no `&self` decides it, name the single elided
/// input lifetime and use it in the output.
fn fix_elision(sig: &mut syn::Signature) {
    let has_ref_receiver = matches!(sig.inputs.first(), Some(FnArg::Receiver(r)) if r.reference.is_some() || matches!(&*r.ty, Type::Reference(_)));
    if has_ref_receiver {
        return;
    }
    let ReturnType::Type(_, out) = &mut sig.output else {
        return;
    };
    if rewrite::count_elided(out) == 0 {
        return;
    }
    let inputs: usize = sig
        .inputs
        .iter()
        .map(|a| match a {
            FnArg::Typed(t) => rewrite::count_elided(&t.ty),
            FnArg::Receiver(_) => 0,
        })
        .sum();
    if inputs != 1 {
        return;
    }
    let lt = Lifetime {
        apostrophe: Span::call_site(),
        ident: format_ident!("__ctx_elided"),
    };
    for a in &mut sig.inputs {
        if let FnArg::Typed(t) = a {
            rewrite::name_elided(&mut t.ty, &lt);
        }
    }
    rewrite::name_elided(out, &lt);
    sig.generics.params.insert(0, syn::parse_quote!(#lt));
}
