// Expansion snapshot `propagate_async_await`: an async fn awaiting propagated calls, with `?` and an inner attribute.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[ctx::propagate(user, request_id)]
//     async fn handle(order: Order) -> Result<Receipt, Error> {
//         #![allow(clippy::needless_question_mark)]
//         let account = load_account(order.account).await?;
//         let receipt = charge(&account, order.amount).await?;
//         notify(&receipt);
//         Ok(receipt)
//     }
//
// Expansion:

#[allow(clippy::needless_question_mark)]
#[allow(clippy::type_complexity)]
fn handle(
    order: Order,
) -> ::ctx::__private::Requires<
    (user, request_id),
    impl ::ctx::__private::AsyncBody<
        (user, request_id),
        Fut = impl ::core::future::Future<Output = Result<Receipt, Error>>,
    >,
> {
    ::ctx::__private::Requires::new(move |
        __own: ::ctx::__private::Owned<(user, request_id)>|
    ::ctx::__private::typed::<
        Result<Receipt, Error>,
        _,
    >(async move {
        #[allow(unreachable_code)]
        if false {
            return ::ctx::__private::never::<Result<Receipt, Error>>();
        }
        #[allow(unused_imports)]
        use ::ctx::__private::prelude::*;
        #[allow(non_camel_case_types)]
        struct propagate {}
        impl ::ctx::check::Has<user> for propagate {}
        impl ::ctx::check::Has<request_id> for propagate {}
        #[allow(unused_mut)]
        let context = __own.cx::<propagate>();
        #[allow(unused_variables)]
        let __ctx_st = ::ctx::Cx::__storage(context);
        let account = (match (
            context,
            ::ctx::__private::AwaitProbe::new(
                (&&&::ctx::__private::Probe::new(load_account))
                    .__call1(context, order.account),
            ),
        ) {
            (__ctx_c, __ctx_p) => (&&__ctx_p).__bind_await(__ctx_c),
        })
            .await?;
        let receipt = (match (
            context,
            ::ctx::__private::AwaitProbe::new(
                (&&&::ctx::__private::Probe::new(charge))
                    .__call2(context, &account, order.amount),
            ),
        ) {
            (__ctx_c, __ctx_p) => (&&__ctx_p).__bind_await(__ctx_c),
        })
            .await?;
        (&&&::ctx::__private::Probe::new(notify)).__discard1(context, &receipt);
        Ok(receipt)
    }))
}
