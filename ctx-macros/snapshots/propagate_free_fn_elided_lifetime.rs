// Expansion snapshot `propagate_free_fn_elided_lifetime`: a free fn whose output lifetime is elided from its only reference input.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[ctx::propagate(user)]
//     fn first_word(s: &str) -> &str {
//         trace(s);
//         s.split(' ').next().unwrap_or(s)
//     }
//
// Expansion:

fn first_word<'__ctx_elided>(
    context: ::ctx::Cx<'_, (user,)>,
    s: &'__ctx_elided str,
) -> &'__ctx_elided str {
    #[allow(unused_imports)]
    use ::ctx::__private::prelude::*;
    #[allow(non_camel_case_types)]
    struct propagate {}
    impl ::ctx::check::Has<user> for propagate {}
    #[allow(unused_mut)]
    let context: ::ctx::Cx<'_, propagate> = context.__retype();
    #[allow(unused_variables)]
    let __ctx_st = ::ctx::Cx::__storage(context);
    (&&&::ctx::__private::Probe::new(trace)).__discard1(context, s);
    s.split(' ').next().unwrap_or(s)
}
