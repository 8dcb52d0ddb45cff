// Expansion snapshot `with_async`: `ctx::with!` around a block that awaits.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     ctx::with!(RequestCtx::new(user_id), {
//         let order = load_order(id).await;
//         handle(order).await
//     })
//
// Expansion (the expression, shown as `let _ = …;` in a fn):

fn __expansion() {
    let _ = {
        let __ctx_root = ::ctx::__private::RootStorage::new(RequestCtx::new(user_id));
        #[allow(unused_mut)]
        let mut context = __ctx_root.cx();
        #[allow(unused_variables)]
        let __ctx_st = ::ctx::Cx::__storage(context);
        #[allow(unused_imports)]
        use ::ctx::__private::prelude::*;
        __ctx_root
            .instrument(async {
                let order = (match (
                    context.__m(),
                    ::ctx::__private::AwaitProbe::new(
                        (&&&::ctx::__private::Probe::new(load_order))
                            .__call1(context.__m(), id),
                    ),
                ) {
                    (__ctx_c, __ctx_p) => (&&__ctx_p).__bind_await(__ctx_c),
                })
                    .await;
                (match (
                    context.__m(),
                    ::ctx::__private::AwaitProbe::new(
                        (&&&::ctx::__private::Probe::new(handle))
                            .__call1(context.__m(), order),
                    ),
                ) {
                    (__ctx_c, __ctx_p) => (&&__ctx_p).__bind_await(__ctx_c),
                })
                    .await
            })
            .await
    };
}
