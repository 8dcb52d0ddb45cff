// Expansion snapshot `propagate_spawn_boundaries`: a body crossing every kind of boundary: `tokio::spawn`, `spawn_blocking`, `std::thread::spawn` and a rayon `par_iter` closure.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[ctx::propagate(user, request_id)]
//     async fn fan_out(items: Vec<Item>) -> Vec<Score> {
//         let first = tokio::spawn(async move { fetch().await }).await.unwrap();
//         let blocking = tokio::task::spawn_blocking(|| compress(first)).await.unwrap();
//         let thread = std::thread::spawn(move || checksum(blocking)).join().unwrap();
//         items.par_iter().map(|item| score(item, thread)).collect()
//     }
//
// Expansion:

#[allow(clippy::type_complexity)]
fn fan_out(
    items: Vec<Item>,
) -> ::ctx::__private::Requires<
    (user, request_id),
    impl ::ctx::__private::AsyncBody<
        (user, request_id),
        Fut = impl ::core::future::Future<Output = Vec<Score>>,
    >,
> {
    ::ctx::__private::Requires::new(move |
        __own: ::ctx::__private::Owned<(user, request_id)>|
    ::ctx::__private::typed::<
        Vec<Score>,
        _,
    >(async move {
        #[allow(unreachable_code)]
        if false {
            return ::ctx::__private::never::<Vec<Score>>();
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
        let first = {
            let __ctx_fork = ::ctx::__private::fork(&context);
            let __ctx_own = ::core::clone::Clone::clone(&__ctx_fork);
            #[allow(clippy::disallowed_methods)]
            let __ctx_spawn = tokio::spawn;
            let __ctx_handle = __ctx_spawn(
                ::ctx::__private::instrument(
                    &__ctx_fork,
                    async move {
                        let __ctx_own = __ctx_own;
                        #[allow(unused_mut)]
                        let context = __ctx_own.cx_same();
                        #[allow(unused_variables)]
                        let __ctx_st = ::ctx::Cx::__storage(context);
                        (match (
                            context,
                            ::ctx::__private::AwaitProbe::new(
                                (&&&::ctx::__private::Probe::new(fetch)).__call0(context),
                            ),
                        ) {
                            (__ctx_c, __ctx_p) => (&&__ctx_p).__bind_await(__ctx_c),
                        })
                            .await
                    },
                ),
            );
            __ctx_fork.__join_tokio(__ctx_handle)
        }
            .await
            .unwrap();
        let blocking = {
            let __ctx_fork = ::ctx::__private::fork(&context);
            let __ctx_own = ::core::clone::Clone::clone(&__ctx_fork);
            #[allow(clippy::disallowed_methods)]
            let __ctx_spawn = tokio::task::spawn_blocking;
            let __ctx_handle = __ctx_spawn(move || {
                let __ctx_own = __ctx_own;
                let __ctx_span = __ctx_own.__enter_span();
                #[allow(unused_mut)]
                let context = __ctx_own.cx_same();
                #[allow(unused_variables)]
                let __ctx_st = ::ctx::Cx::__storage(context);
                ::ctx::__private::mirrored(
                    __ctx_st,
                    || {
                        (&&&::ctx::__private::Probe::new(compress))
                            .__call1(context, first)
                    },
                )
            });
            __ctx_fork.__join_tokio(__ctx_handle)
        }
            .await
            .unwrap();
        let thread = {
            let __ctx_fork = ::ctx::__private::fork(&context);
            let __ctx_own = ::core::clone::Clone::clone(&__ctx_fork);
            #[allow(clippy::disallowed_methods)]
            let __ctx_spawn = std::thread::spawn;
            let __ctx_handle = __ctx_spawn(move || {
                let __ctx_own = __ctx_own;
                let __ctx_span = __ctx_own.__enter_span();
                #[allow(unused_mut)]
                let context = __ctx_own.cx_same();
                #[allow(unused_variables)]
                let __ctx_st = ::ctx::Cx::__storage(context);
                ::ctx::__private::mirrored(
                    __ctx_st,
                    || {
                        (&&&::ctx::__private::Probe::new(checksum))
                            .__call1(context, blocking)
                    },
                )
            });
            __ctx_fork.__join_thread(__ctx_handle)
        }
            .join()
            .unwrap();
        {
            ::ctx::__private::unmirrored_with(
                {
                    static __CTX_STAGE_SITE: ::ctx::__private::StageSite = ::ctx::__private::StageSite::new();
                    ::ctx::__private::stage_here(__ctx_st, &__CTX_STAGE_SITE);
                    ::ctx::__private::unmirrored_with(
                        items.par_iter(),
                        |__ctx_recv| {
                            __ctx_recv
                                .map(|item| {
                                    let __ctx_span = ::ctx::__private::enter_stage(
                                        __ctx_st,
                                        &__CTX_STAGE_SITE,
                                    );
                                    ::ctx::__private::mirrored(
                                        __ctx_st,
                                        || {
                                            (&&&::ctx::__private::Probe::new(score))
                                                .__call2(::ctx::Cx::__readonly(context), item, thread)
                                        },
                                    )
                                })
                        },
                    )
                },
                |__ctx_recv| __ctx_recv.collect(),
            )
        }
    }))
}
