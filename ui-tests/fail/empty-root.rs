ctx::keys! { pub user: String; }

#[derive(ctx::ContextFields)]
struct Empty {}

#[ctx::propagate(user)]
async fn handler() -> usize { user.len() }

async fn plain() -> usize { Empty {}.scope(handler()).await }

fn main() { let _ = plain(); }
