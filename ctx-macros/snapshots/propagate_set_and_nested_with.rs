// Expansion snapshot `propagate_set_and_nested_with`: `ctx::set!` on a `mut` key, and a `ctx::with!` inside a propagated body.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[ctx::propagate(mut user, request_id)]
//     fn login(token: &str) -> bool {
//         let id = lookup(token);
//         ctx::set!(user, Some(id));
//         ctx::with!(AdminRoot::new(), { audit_login(id) });
//         id.is_valid()
//     }
//
// Expansion:

fn login(
    context: ::ctx::Cx<'_, (::ctx::check::Mut<user>, request_id)>,
    token: &str,
) -> bool {
    #[allow(unused_imports)]
    use ::ctx::__private::prelude::*;
    #[allow(non_camel_case_types)]
    struct propagate {}
    impl ::ctx::check::Has<user> for propagate {}
    impl ::ctx::check::HasMut<user> for propagate {}
    impl ::ctx::check::Has<request_id> for propagate {}
    #[allow(unused_mut)]
    let mut context: ::ctx::Cx<'_, propagate> = context.__retype();
    #[allow(unused_variables)]
    let __ctx_st = ::ctx::Cx::__storage(context);
    let id = (&&&::ctx::__private::Probe::new(lookup)).__call1(context.__m(), token);
    {
        let __ctx_v = Some(id);
        ::ctx::__private::set::<user, _>(context.__m(), __ctx_v)
    };
    ::ctx::__private::with_keys!(
        [user : user, request_id : request_id] AdminRoot::new(), { audit_login(id) }
    );
    id.is_valid()
}
