// Expansion snapshot `with_sync`: `ctx::with!` around a sync block.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     ctx::with!(root, {
//         let token = read_token();
//         authenticate(&token)
//     })
//
// Expansion (the expression, shown as `let _ = …;` in a fn):

fn __expansion() {
    let _ = {
        let __ctx_root = ::ctx::__private::RootStorage::new(root);
        #[allow(unused_mut)]
        let mut context = __ctx_root.cx();
        #[allow(unused_variables)]
        let __ctx_st = ::ctx::Cx::__storage(context);
        #[allow(unused_imports)]
        use ::ctx::__private::prelude::*;
        let __ctx_ambient = ::ctx::__private::enter_cx(&context);
        let token = (&&&::ctx::__private::Probe::new(read_token)).__call0(context.__m());
        (&&&::ctx::__private::Probe::new(authenticate)).__call1(context.__m(), &token)
    };
}
