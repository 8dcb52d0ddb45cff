ctx::keys! { pub user: String; }

#[ctx::propagate(user, mut user)]
fn handler() {}

fn main() {}
