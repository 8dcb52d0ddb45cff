//! The shape corpus of `editions/shapes/` in the root crate (edition 2024);
//! the `ctx-edition2018` and `ctx-edition2021` crates build it in the older
//! editions.
#![cfg(feature = "tokio")]

#[path = "../editions/shapes/mod.rs"]
mod shapes;

#[test]
fn shapes_compile_and_run_in_edition_2024() {
    shapes::check();
}
