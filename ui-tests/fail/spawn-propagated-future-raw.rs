ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
async fn handler() -> usize { user.len() }

fn plain() {
    let _ = tokio::spawn(handler());
}

fn main() { plain() }
