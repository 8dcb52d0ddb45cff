// Expansion snapshot `propagate_sync_calls`: a sync associated fn with a `mut` key, calling a free fn, a path fn, an associated fn via `Self::` and a method.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[ctx::propagate(user, mut request_id)]
//     pub fn process(order: Order) -> Receipt {
//         let checked = validate(&order);
//         let total = pricing::total(&checked);
//         Self::record(&checked, total);
//         checked.finish(total)
//     }
//
// Expansion:

pub fn process(
    context: ::ctx::Cx<'_, (user, ::ctx::check::Mut<request_id>)>,
    order: Order,
) -> Receipt {
    #[allow(unused_imports)]
    use ::ctx::__private::prelude::*;
    #[allow(non_camel_case_types)]
    struct propagate {}
    impl ::ctx::check::Has<user> for propagate {}
    impl ::ctx::check::Has<request_id> for propagate {}
    impl ::ctx::check::HasMut<request_id> for propagate {}
    #[allow(unused_mut)]
    let mut context: ::ctx::Cx<'_, propagate> = context.__retype();
    #[allow(unused_variables)]
    let __ctx_st = ::ctx::Cx::__storage(context);
    let checked = (&&&::ctx::__private::Probe::new(validate))
        .__call1(context.__m(), &order);
    let total = (&&&::ctx::__private::Probe::new(pricing::total))
        .__call1(context.__m(), &checked);
    (&&&::ctx::__private::Probe::new(Self::record))
        .__discard2(context.__m(), &checked, total);
    checked.finish(total)
}
