// `Location::caller()` cannot see through ctx's call dispatch: an error,
// not a location inside the standard library.
ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
#[track_caller]
fn whereami() -> &'static std::panic::Location<'static> {
    std::panic::Location::caller()
}

fn main() {}
