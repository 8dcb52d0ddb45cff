ctx::keys! { pub user: String; }

#[ctx::propagate(usr)]
fn handler() {}

fn main() {}
