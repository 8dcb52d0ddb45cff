ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
const fn handler() -> u32 { 1 }

fn main() {}
