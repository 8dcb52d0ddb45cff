// A discarded `Result` of a propagated call still warns: the type is
// `#[must_use]`, whatever the call goes through.
#![deny(unused_must_use)]

ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
fn check() -> Result<(), String> {
    if user.is_empty() { Err("no user".into()) } else { Ok(()) }
}

#[ctx::propagate(user)]
fn handler() {
    check();
}

fn main() {}
