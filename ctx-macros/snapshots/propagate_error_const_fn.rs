// Expansion snapshot `propagate_error_const_fn`: a validation error: `#[propagate]` on a `const fn` emits the error and the original item.
// Compared by `cargo test -p ctx-macros`; rewrite with `CTX_BLESS=1 cargo test -p ctx-macros`.
//
// Input:
//
//     #[ctx::propagate(user)]
//     const fn limit() -> usize {
//         16
//     }
//
// Expansion:

::core::compile_error! {
    "#[propagate] cannot be used on a `const fn`: context values exist only at run time; remove `const`"
}
#[allow(unused_variables)]
const fn limit() -> usize {
    ::core::unreachable!()
}
