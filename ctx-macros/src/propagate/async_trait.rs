//! Methods of an `#[async_trait]` trait or impl.
//!
//! `#[async_trait]` on the trait or impl expands first, so
//! `#[ctx::propagate]` on one of its methods sees
//!
//! ```text
//! fn get<'life0, 'async_trait>(&'life0 self, id: u32)
//!     -> Pin<Box<dyn Future<Output = Item> + Send + 'async_trait>>
//! where 'life0: 'async_trait, Self: 'async_trait
//! { Box::pin(async move { .. }) }
//! ```
//!
//! It is propagated as an `async fn` whose body is that `async` block and
//! whose `Requires` holds the body boxed for `'async_trait`: the trait stays
//! object-safe, calls keep method syntax (`repo.get(id).await` binds the
//! context as for any async propagated method), and the declaration and
//! the impls agree without a hidden parameter.

use syn::{
    Block, Expr, GenericArgument, GenericParam, Lifetime, PathArguments, ReturnType, Stmt, Type,
    TypeParamBound,
};

/// The parts of an `#[async_trait]` method that a propagated body needs.
pub(crate) struct AsyncTraitFn {
    /// `'async_trait`.
    pub(crate) lifetime: Lifetime,
    /// The future's `Output`.
    pub(crate) output: Type,
    /// The future is `Send` (not `#[async_trait(?Send)]`).
    pub(crate) send: bool,
}

/// Recognizes `#[async_trait]`'s expansion of a method from its signature,
/// and takes the `async` block out of its body (the block becomes the
/// body of an `async fn`).
pub(crate) fn recognize(
    sig: &syn::Signature,
    block: &mut Option<Block>,
) -> syn::Result<Option<AsyncTraitFn>> {
    if sig.asyncness.is_some() {
        return Ok(None);
    }
    let Some(lifetime) = sig.generics.params.iter().find_map(|p| match p {
        GenericParam::Lifetime(l) if l.lifetime.ident == "async_trait" => Some(l.lifetime.clone()),
        _ => None,
    }) else {
        return Ok(None);
    };
    let ReturnType::Type(_, ty) = &sig.output else {
        return Ok(None);
    };
    let Some((output, send)) = boxed_future(ty) else {
        return Ok(None);
    };
    if let Some(b) = block {
        let inner = match b.stmts.as_slice() {
            [Stmt::Expr(Expr::Call(call), None)] if call.args.len() == 1 => match &call.args[0] {
                Expr::Async(a) => Some(a.block.clone()),
                _ => None,
            },
            _ => None,
        };
        let Some(inner) = inner else {
            return Err(syn::Error::new_spanned(
                &sig.ident,
                "#[ctx::propagate] does not recognize this `#[async_trait]` method's body",
            ));
        };
        *b = inner;
    }
    Ok(Some(AsyncTraitFn {
        lifetime,
        output,
        send,
    }))
}

/// `Pin<Box<dyn Future<Output = T> (+ Send) + 'a>>`: `T` and whether the
/// future is `Send`.
fn boxed_future(ty: &Type) -> Option<(Type, bool)> {
    let pin = last_generic(ty, "Pin")?;
    let boxed = last_generic(pin, "Box")?;
    let Type::TraitObject(obj) = boxed else {
        return None;
    };
    let mut output = None;
    let mut send = false;
    for b in &obj.bounds {
        let TypeParamBound::Trait(t) = b else {
            continue;
        };
        let seg = t.path.segments.last()?;
        if seg.ident == "Send" {
            send = true;
        } else if seg.ident == "Future"
            && let PathArguments::AngleBracketed(args) = &seg.arguments
        {
            output = args.args.iter().find_map(|a| match a {
                GenericArgument::AssocType(at) if at.ident == "Output" => Some(at.ty.clone()),
                _ => None,
            });
        }
    }
    Some((output?, send))
}

/// The single type argument of `ty` when its last segment is `name`.
fn last_generic<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}
