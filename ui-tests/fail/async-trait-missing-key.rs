// An `#[async_trait]` method called through `dyn Trait` checks its keys at
// the call like any propagated call.
ctx::keys! { pub user: String; pub request_id: u64; }

#[async_trait::async_trait]
trait Repo: Send + Sync {
    #[ctx::propagate(user)]
    async fn owner(&self, id: u32) -> String;
}

#[ctx::propagate(request_id)]
async fn handler(repo: &dyn Repo) -> String {
    repo.owner(1).await
}

fn main() {}
