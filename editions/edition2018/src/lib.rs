//! The shapes of `editions/shapes/` in an edition-2018 crate.

#[path = "../../shapes/mod.rs"]
pub mod shapes;

#[test]
fn shapes_compile_and_run_in_edition_2018() {
    shapes::check();
}
