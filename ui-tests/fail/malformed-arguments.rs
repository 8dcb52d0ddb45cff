ctx::keys! { pub user: String; }

#[ctx::propagate(user = "ann")]
fn handler() {}

fn main() {}
