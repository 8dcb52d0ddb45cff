// Expansion snapshot `with_nested_in_propagate`: the second stage of a `ctx::with!` inside a propagated body (see `propagate_set_and_nested_with`): the body's keys are forwarded.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     ::ctx::__private::with_keys!([user: user, request_id: request_id] AdminRoot::new(), {
//         audit_login(id)
//     })
//
// Expansion (the expression, shown as `let _ = …;` in a fn):

fn __expansion() {
    let _ = {
        let __ctx_root = ::ctx::__private::RootStorage::new(AdminRoot::new());
        #[allow(unused_mut)]
        let mut context = __ctx_root.cx();
        #[allow(unused_variables)]
        let __ctx_st = ::ctx::Cx::__storage(context);
        #[allow(unused_imports)]
        use ::ctx::__private::prelude::*;
        let __ctx_ambient = ::ctx::__private::enter_cx(&context);
        (&&&::ctx::__private::Probe::new(audit_login)).__call1(context.__m(), id)
    };
}
