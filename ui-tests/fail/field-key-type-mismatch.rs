ctx::keys! { pub user: String; }

#[derive(ctx::ContextFields)]
struct Root { user: u64 }

fn main() {}
