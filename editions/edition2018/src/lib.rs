//! The shapes of `editions/shapes.rs` in an edition-2018 crate.

#[path = "../../shapes.rs"]
pub mod shapes;

#[test]
fn shapes_compile_and_run_in_edition_2018() {
    shapes::check();
}
