// tokio's JoinSet would apply a child's changes when it completes, even if
// the set is then aborted: use ctx::JoinSet.
ctx::keys! { pub user: String; }

#[ctx::propagate(mut user)]
async fn rename() {
    ctx::set!(user, "bob".to_string());
}

#[ctx::propagate(mut user)]
async fn handler() {
    let mut set = tokio::task::JoinSet::new();
    set.spawn(rename());
    set.abort_all();
}

fn main() {}
