//! Async propagated methods of an `#[async_trait]` trait: the trait stays
//! object-safe, calls through `dyn Trait` (and `Arc<dyn Trait>`) keep
//! method syntax, the context reaches the impl, its writes come back, and
//! a missing key is a compile error at the call (ui-tests).
#![cfg(feature = "tokio")]

mod common;
use common::*;
use std::sync::Arc;

#[async_trait::async_trait]
trait Repo: Send + Sync {
    #[ctx::propagate(user)]
    async fn owner(&self, id: u32) -> String;

    #[ctx::propagate(user, mut audit)]
    async fn record(&self, what: &str) -> usize;
}

struct Memory {
    prefix: String,
}

#[async_trait::async_trait]
impl Repo for Memory {
    #[ctx::propagate(user)]
    async fn owner(&self, id: u32) -> String {
        tokio::task::yield_now().await;
        format!("{}{id}:{}", self.prefix, *user)
    }

    #[ctx::propagate(user, mut audit)]
    async fn record(&self, what: &str) -> usize {
        tokio::task::yield_now().await;
        ctx::set!(audit, {
            let mut a = audit.clone();
            a.push(format!("{what} by {}", *user));
            a
        });
        audit.len()
    }
}

#[ctx::propagate(user, mut audit)]
async fn serve(repo: Arc<dyn Repo>, id: u32) -> (String, usize, Vec<String>) {
    let owner = repo.owner(id).await;
    let n = repo.record("read").await;
    let spawned = {
        let repo = Arc::clone(&repo);
        tokio::spawn(async move { repo.owner(id + 1).await })
            .await
            .unwrap()
    };
    (format!("{owner} {spawned}"), n, audit.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_trait_methods_through_dyn_receive_the_context() {
    let repo: Arc<dyn Repo> = Arc::new(Memory { prefix: "#".into() });
    let mut tasks = Vec::new();
    for i in 0..50u32 {
        let repo = Arc::clone(&repo);
        let name = format!("user{i}");
        tasks.push(tokio::spawn(async move {
            let out = req(&name, u64::from(i)).scope(serve(repo, i)).await;
            (name, i, out)
        }));
    }
    for t in tasks {
        let (name, i, (owners, n, audit)) = t.await.unwrap();
        assert_eq!(owners, format!("#{i}:{name} #{}:{name}", i + 1));
        assert_eq!(n, 1);
        assert_eq!(audit, [format!("read by {name}")]);
    }
}
