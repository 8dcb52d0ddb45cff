//! The shapes of `editions/shapes/` in an edition-2021 crate.

#[path = "../../shapes/mod.rs"]
pub mod shapes;

#[test]
fn shapes_compile_and_run_in_edition_2021() {
    shapes::check();
}
