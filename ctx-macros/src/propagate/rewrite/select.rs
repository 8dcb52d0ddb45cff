//! `tokio::select!` in a propagated body: each branch's future is bound to
//! the context like `ctx::bind!` (the branches are polled beside each
//! other), its precondition and handler are rewritten as ordinary code,
//! and the branch pattern's bindings shadow keys in the handler.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::{ParseStream, Parser};
use syn::visit_mut::VisitMut;
use syn::{Expr, ExprBlock, Macro, Pat, Token};

use super::Rewriter;

/// One `pattern = future, if precondition => handler` branch.
struct Branch {
    pat: Pat,
    fut: Expr,
    cond: Option<Expr>,
    body: Expr,
}

/// `select!`'s input: an optional `biased;`, the branches and an optional
/// `else => handler`.
struct Select {
    biased: bool,
    branches: Vec<Branch>,
    otherwise: Option<Expr>,
}

/// A handler: a block needs no comma after it, any other expression does.
fn handler(input: ParseStream) -> syn::Result<Expr> {
    let body = if input.peek(syn::token::Brace) {
        Expr::Block(ExprBlock {
            attrs: Vec::new(),
            label: None,
            block: input.parse()?,
        })
    } else {
        input.parse()?
    };
    if !input.is_empty() {
        if matches!(body, Expr::Block(_)) {
            input.parse::<Option<Token![,]>>()?;
        } else {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(body)
}

fn parse(input: ParseStream) -> syn::Result<Select> {
    let biased = input.peek(syn::Ident) && input.fork().parse::<syn::Ident>()? == "biased" && {
        input.parse::<syn::Ident>()?;
        input.parse::<Token![;]>()?;
        true
    };
    let mut branches = Vec::new();
    let mut otherwise = None;
    while !input.is_empty() {
        if input.peek(Token![else]) {
            input.parse::<Token![else]>()?;
            input.parse::<Token![=>]>()?;
            otherwise = Some(handler(input)?);
            continue;
        }
        let pat = Pat::parse_multi_with_leading_vert(input)?;
        input.parse::<Token![=]>()?;
        let fut: Expr = input.parse()?;
        let cond = if input.peek(Token![,]) && input.peek2(Token![if]) {
            input.parse::<Token![,]>()?;
            input.parse::<Token![if]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        input.parse::<Token![=>]>()?;
        let body = handler(input)?;
        branches.push(Branch {
            pat,
            fut,
            cond,
            body,
        });
    }
    Ok(Select {
        biased,
        branches,
        otherwise,
    })
}

impl Rewriter {
    /// The rewritten input of a `select!`, or `None` when it does not
    /// parse as one (the macro is then left to report it).
    pub(super) fn rewrite_select(&mut self, mac: &Macro) -> Option<TokenStream> {
        let Select {
            biased,
            branches,
            otherwise,
        } = parse.parse2(mac.tokens.clone()).ok()?;
        let mut out = TokenStream::new();
        if biased {
            out.extend(quote!(biased;));
        }
        for Branch {
            pat,
            fut,
            cond,
            mut body,
        } in branches
        {
            let fut = self.bound_branch(fut);
            let cond = cond.map(|mut c| {
                self.visit_expr_mut(&mut c);
                quote!(, if #c)
            });
            let mark = self.scope_start();
            self.bind(&pat);
            self.visit_expr_mut(&mut body);
            self.scope_end(mark);
            out.extend(quote!(#pat = #fut #cond => #body,));
        }
        if let Some(mut body) = otherwise {
            self.visit_expr_mut(&mut body);
            out.extend(quote!(else => #body,));
        }
        Some(out.into_token_stream())
    }
}
