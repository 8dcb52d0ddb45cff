// A key declared `#[trace]` has its value shown on `tracing` spans, so the
// value must be `Debug`; the error points at the type written in `keys!`.
//
// (This header keeps the lines below two digits long, so that the width of
// the suggestion's line numbers does not depend on where ctx-core's
// sources are.)
//
//
//
struct Token;

ctx::keys! {
    #[trace] pub token: Token;
}

fn main() {}
