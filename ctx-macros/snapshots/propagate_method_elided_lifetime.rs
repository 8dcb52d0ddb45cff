// Expansion snapshot `propagate_method_elided_lifetime`: a method with a `&self` receiver whose output borrows from `self`.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[ctx::propagate(user)]
//     fn display_name(&self, fallback: &str) -> &str {
//         let name = self.lookup(fallback);
//         audit(name);
//         name
//     }
//
// Expansion:

fn display_name(&self, context: ::ctx::Cx<'_, (user,)>, fallback: &str) -> &str {
    #[allow(unused_imports)]
    use ::ctx::__private::prelude::*;
    #[allow(non_camel_case_types)]
    struct propagate {}
    impl ::ctx::check::Has<user> for propagate {}
    #[allow(unused_mut)]
    let context: ::ctx::Cx<'_, propagate> = context.__retype();
    #[allow(unused_variables)]
    let __ctx_st = ::ctx::Cx::__storage(context);
    let name = self.lookup(fallback);
    (&&&::ctx::__private::Probe::new(audit)).__discard1(context, name);
    name
}
