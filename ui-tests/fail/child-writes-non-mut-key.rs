ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
async fn handler() {
    tokio::task::spawn_blocking(move || ctx::set!(user, "ann".to_string()))
        .await
        .unwrap();
}

fn main() {}
