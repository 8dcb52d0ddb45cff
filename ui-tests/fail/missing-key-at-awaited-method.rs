ctx::keys! { pub user: String; pub request_id: u64; }

struct Repo;

impl Repo {
    #[ctx::propagate(request_id)]
    async fn save(&self) -> u64 { *request_id }
}

#[ctx::propagate(user)]
async fn handler(repo: &Repo) -> u64 { repo.save().await }

fn main() {}
