ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
async fn handler() -> usize { user.len() }

async fn plain() -> usize {
    handler().await
}

fn main() { let _ = plain(); }
