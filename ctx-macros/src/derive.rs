//! `#[derive(ContextFields)]`: a struct whose fields are the values a
//! request starts with. Each field maps to the key of the same name (or
//! `#[ctx(key = path)]`); `#[ctx(skip)]` fields are not context values.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Path, Type};

struct Field {
    member: syn::Member,
    ty: Type,
    key: Option<Path>,
}

fn parse_field(f: &syn::Field, i: usize) -> syn::Result<Field> {
    let member = match &f.ident {
        Some(id) => syn::Member::Named(id.clone()),
        None => syn::Member::Unnamed(i.into()),
    };
    let mut key: Option<Path> = f.ident.clone().map(Path::from);
    let mut skip = false;
    let mut seen = false;
    for attr in f.attrs.iter().filter(|a| a.path().is_ident("ctx")) {
        attr.parse_nested_meta(|meta| {
            if seen {
                return Err(meta.error("one #[ctx(...)] setting per field: `skip` or `key = path`"));
            }
            seen = true;
            if meta.path.is_ident("skip") {
                skip = true;
                Ok(())
            } else if meta.path.is_ident("key") {
                key = Some(meta.value()?.parse()?);
                Ok(())
            } else {
                Err(meta.error("expected `#[ctx(skip)]` or `#[ctx(key = path::to::key)]`"))
            }
        })?;
    }
    if skip {
        key = None;
    } else if key.is_none() {
        return Err(syn::Error::new_spanned(
            f,
            "a tuple field needs its key: `#[ctx(key = path::to::key)]` (or `#[ctx(skip)]`)",
        ));
    }
    Ok(Field {
        member,
        ty: f.ty.clone(),
        key,
    })
}

pub fn expand(input: TokenStream) -> TokenStream {
    match syn::parse2::<DeriveInput>(input).and_then(|d| derive(&d)) {
        Ok(t) => t,
        Err(e) => e.into_compile_error(),
    }
}

fn derive(d: &DeriveInput) -> syn::Result<TokenStream> {
    let Data::Struct(s) = &d.data else {
        return Err(syn::Error::new_spanned(
            &d.ident,
            "#[derive(ContextFields)] applies to structs whose fields are context values",
        ));
    };
    let mut fields = Vec::new();
    let mut errors: Option<syn::Error> = None;
    for (i, f) in s.fields.iter().enumerate() {
        match parse_field(f, i) {
            Ok(f) => fields.push(f),
            Err(e) => match &mut errors {
                Some(a) => a.combine(e),
                None => errors = Some(e),
            },
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let name = &d.ident;
    let vis = &d.vis;
    let (impl_g, ty_g, where_c) = d.generics.split_for_impl();
    let p = quote!(::ctx::__private);
    let (values, skipped): (Vec<&Field>, Vec<&Field>) =
        fields.iter().partition(|f| f.key.is_some());

    let entries = values.iter().map(|f| {
        let (m, key) = (&f.member, f.key.as_ref());
        quote_spanned!(f.ty.span()=> #p::Entry::new::<#key>(self.#m))
    });
    let rest_tys = skipped.iter().map(|f| &f.ty);
    let rest_vals = skipped.iter().map(|f| {
        let m = &f.member;
        quote!(self.#m)
    });
    let rebuild = values.iter().map(|f| {
        let (m, key) = (&f.member, f.key.as_ref());
        quote!(#m: #p::__take::<#key>(__ctx_st))
    });
    let rebuild_rest = skipped.iter().enumerate().map(|(i, f)| {
        let m = &f.member;
        let i = syn::Index::from(i);
        quote!(#m: __ctx_rest.#i)
    });
    let clone_bounds = values.iter().map(|f| {
        let ty = &f.ty;
        quote!(for<'__ctx> #ty: ::core::clone::Clone)
    });
    let has = values.iter().map(|f| {
        let key = f.key.as_ref();
        quote_spanned! {f.ty.span()=>
            #[automatically_derived]
            impl #impl_g ::ctx::check::Has<#key> for #name #ty_g #where_c {}
            #[automatically_derived]
            impl #impl_g ::ctx::check::HasMut<#key> for #name #ty_g #where_c {}
        }
    });
    let extra_where = where_c.map(|w| &w.predicates);
    let n = format_ident!("__CtxN");
    Ok(quote! {
        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl #impl_g #p::Root for #name #ty_g #where_c {
                type Rest = (#(#rest_tys,)*);
                fn __split(self) -> (#p::Vec<#p::Entry>, Self::Rest) {
                    (#p::Vec::from([#(#entries),*]), (#(#rest_vals,)*))
                }
            }

            #[automatically_derived]
            impl #impl_g #p::RootReturn for #name #ty_g
            where
                #(#clone_bounds,)*
                #extra_where
            {
                fn __rebuild(__ctx_st: &#p::Storage, __ctx_rest: Self::Rest) -> Self {
                    let _ = &__ctx_rest;
                    Self { #(#rebuild,)* #(#rebuild_rest,)* }
                }
            }

            #(#has)*

            #[automatically_derived]
            impl #impl_g #name #ty_g #where_c {
                /// Runs a propagated future with this root's values as its
                /// context (layered over the current context, if any).
                #[allow(dead_code)]
                #vis fn scope<#n, __CtxB>(
                    self,
                    fut: #p::Requires<#n, __CtxB>,
                ) -> impl ::core::future::Future<
                    Output = <__CtxB::Fut as ::core::future::Future>::Output,
                >
                where
                    #n: ::ctx::check::Covered<Self>,
                    __CtxB: #p::AsyncBody<#n>,
                {
                    #p::scope(self, fut)
                }

                /// Like `scope`, and also returns this root with every
                /// change made to its values inside.
                #[allow(dead_code)]
                #vis fn scope_returning<#n, __CtxB>(
                    self,
                    fut: #p::Requires<#n, __CtxB>,
                ) -> impl ::core::future::Future<
                    Output = (<__CtxB::Fut as ::core::future::Future>::Output, Self),
                >
                where
                    Self: #p::RootReturn,
                    #n: ::ctx::check::Covered<Self>,
                    __CtxB: #p::AsyncBody<#n>,
                {
                    #p::scope_returning(self, fut)
                }
            }
        };
    })
}
