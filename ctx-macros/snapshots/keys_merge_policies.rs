// Expansion snapshot `keys_merge_policies`: `ctx::keys!` with a doc comment and every merge policy.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     ctx::keys! {
//         /// The authenticated user, if any.
//         pub user: Option<UserId>;
//         pub request_id: RequestId;
//         #[merge(keep)] pub first_seen: Instant;
//         #[merge(append)] pub audit: Vec<AuditEvent>;
//         #[merge(with = crate::metrics::add)] pub(crate) db_calls: u64;
//     }
//
// Expansion:

/// The authenticated user, if any.
#[allow(non_camel_case_types)]
pub enum user {}
#[automatically_derived]
impl ::ctx::__private::Key for user {
    type Value = Option<UserId>;
    #[inline]
    fn info() -> &'static ::ctx::__private::KeyInfo {
        static INFO: ::ctx::__private::KeyInfo = ::ctx::__private::KeyInfo::new::<
            user,
        >(::core::stringify!(user), ::ctx::__private::merge_replace);
        &INFO
    }
}
#[automatically_derived]
impl<__W: ::ctx::check::Has<user>> ::ctx::check::Need<__W> for user {}
/// Context key `request_id`.
#[allow(non_camel_case_types)]
pub enum request_id {}
#[automatically_derived]
impl ::ctx::__private::Key for request_id {
    type Value = RequestId;
    #[inline]
    fn info() -> &'static ::ctx::__private::KeyInfo {
        static INFO: ::ctx::__private::KeyInfo = ::ctx::__private::KeyInfo::new::<
            request_id,
        >(::core::stringify!(request_id), ::ctx::__private::merge_replace);
        &INFO
    }
}
#[automatically_derived]
impl<__W: ::ctx::check::Has<request_id>> ::ctx::check::Need<__W> for request_id {}
/// Context key `first_seen`.
#[allow(non_camel_case_types)]
pub enum first_seen {}
#[automatically_derived]
impl ::ctx::__private::Key for first_seen {
    type Value = Instant;
    #[inline]
    fn info() -> &'static ::ctx::__private::KeyInfo {
        static INFO: ::ctx::__private::KeyInfo = ::ctx::__private::KeyInfo::new::<
            first_seen,
        >(::core::stringify!(first_seen), ::ctx::__private::merge_keep);
        &INFO
    }
}
#[automatically_derived]
impl<__W: ::ctx::check::Has<first_seen>> ::ctx::check::Need<__W> for first_seen {}
/// Context key `audit`.
#[allow(non_camel_case_types)]
pub enum audit {}
#[automatically_derived]
impl ::ctx::__private::Key for audit {
    type Value = Vec<AuditEvent>;
    #[inline]
    fn info() -> &'static ::ctx::__private::KeyInfo {
        static INFO: ::ctx::__private::KeyInfo = ::ctx::__private::KeyInfo::new::<
            audit,
        >(::core::stringify!(audit), ::ctx::__private::merge_append::<Vec<AuditEvent>>);
        &INFO
    }
}
#[automatically_derived]
impl<__W: ::ctx::check::Has<audit>> ::ctx::check::Need<__W> for audit {}
/// Context key `db_calls`.
#[allow(non_camel_case_types)]
pub(crate) enum db_calls {}
#[automatically_derived]
impl ::ctx::__private::Key for db_calls {
    type Value = u64;
    #[inline]
    fn info() -> &'static ::ctx::__private::KeyInfo {
        static INFO: ::ctx::__private::KeyInfo = ::ctx::__private::KeyInfo::new::<
            db_calls,
        >(
            ::core::stringify!(db_calls),
            {
                fn __ctx_merge(
                    parent: ::core::option::Option<&::ctx::__private::Value>,
                    child: &::ctx::__private::Value,
                    _base: ::core::option::Option<&::ctx::__private::Value>,
                ) -> ::ctx::__private::Value {
                    ::ctx::__private::merge_with::<
                        u64,
                    >(parent, child, crate::metrics::add)
                }
                __ctx_merge
            },
        );
        &INFO
    }
}
#[automatically_derived]
impl<__W: ::ctx::check::Has<db_calls>> ::ctx::check::Need<__W> for db_calls {}
