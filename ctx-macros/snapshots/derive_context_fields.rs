// Expansion snapshot `derive_context_fields`: `derive(ContextFields)` with a skipped field and a field mapped to a key by path.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[derive(ctx::ContextFields)]
//     pub struct RequestCtx {
//         user: Option<UserId>,
//         #[ctx(key = crate::keys::request_id)]
//         id: RequestId,
//         #[ctx(skip)]
//         started: std::time::Instant,
//     }
//
// Expansion:

#[doc(hidden)]
const _: () = {
    #[automatically_derived]
    impl ::ctx::__private::Root for RequestCtx {
        type Rest = (std::time::Instant,);
        fn __split(
            self,
        ) -> (::ctx::__private::Vec<::ctx::__private::Entry>, Self::Rest) {
            (
                ::ctx::__private::Vec::from([
                    ::ctx::__private::Entry::new::<user>(self.user),
                    ::ctx::__private::Entry::new::<crate::keys::request_id>(self.id),
                ]),
                (self.started,),
            )
        }
    }
    #[automatically_derived]
    impl ::ctx::__private::RootReturn for RequestCtx
    where
        for<'__ctx> Option<UserId>: ::core::clone::Clone,
        for<'__ctx> RequestId: ::core::clone::Clone,
    {
        fn __rebuild(
            __ctx_st: &::ctx::__private::Storage,
            __ctx_rest: Self::Rest,
        ) -> Self {
            let _ = &__ctx_rest;
            Self {
                user: ::ctx::__private::__take::<user>(__ctx_st),
                id: ::ctx::__private::__take::<crate::keys::request_id>(__ctx_st),
                started: __ctx_rest.0,
            }
        }
    }
    #[automatically_derived]
    impl ::ctx::check::Has<user> for RequestCtx {}
    #[automatically_derived]
    impl ::ctx::check::HasMut<user> for RequestCtx {}
    #[automatically_derived]
    impl ::ctx::check::Has<crate::keys::request_id> for RequestCtx {}
    #[automatically_derived]
    impl ::ctx::check::HasMut<crate::keys::request_id> for RequestCtx {}
    #[automatically_derived]
    impl RequestCtx {
        /// Runs a propagated future with this root's values as its
        /// context (layered over the current context, if any).
        #[allow(dead_code)]
        pub fn scope<__CtxN, __CtxB>(
            self,
            fut: ::ctx::__private::Requires<__CtxN, __CtxB>,
        ) -> impl ::core::future::Future<
            Output = <__CtxB::Fut as ::core::future::Future>::Output,
        >
        where
            __CtxN: ::ctx::check::Covered<Self>,
            __CtxB: ::ctx::__private::AsyncBody<__CtxN>,
        {
            ::ctx::__private::scope(self, fut)
        }
        /// Like `scope`, and also returns this root with every
        /// change made to its values inside.
        #[allow(dead_code)]
        pub fn scope_returning<__CtxN, __CtxB>(
            self,
            fut: ::ctx::__private::Requires<__CtxN, __CtxB>,
        ) -> impl ::core::future::Future<
            Output = (<__CtxB::Fut as ::core::future::Future>::Output, Self),
        >
        where
            Self: ::ctx::__private::RootReturn,
            __CtxN: ::ctx::check::Covered<Self>,
            __CtxB: ::ctx::__private::AsyncBody<__CtxN>,
        {
            ::ctx::__private::scope_returning(self, fut)
        }
    }
};
