ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
const fn handler() -> usize { user.len() }

fn main() {}
