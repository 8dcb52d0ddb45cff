ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
struct Handler;

fn main() {}
