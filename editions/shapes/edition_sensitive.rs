//! The first ten shapes: those whose expansion depends on the user's edition
//! (the capture rules of `impl Trait`, elided lifetimes). They keep their own
//! key and root.

use std::future::Future;
use std::pin::Pin;

ctx::keys! { pub user: String; }

#[derive(ctx::ContextFields)]
pub struct Root {
    pub user: String,
}

pub struct Repo {
    pub prefix: String,
    pub words: Vec<String>,
}

impl Repo {
    #[ctx::propagate(user)]
    pub async fn name(&self, suffix: &str) -> String {
        format!("{}{}{}", self.prefix, *user, suffix)
    }

    #[ctx::propagate(user)]
    pub async fn first_word(&self) -> &str {
        self.words.first().map_or("", |w| w.as_str())
    }

    #[ctx::propagate(user)]
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.words.iter().map(|w| w.as_str())
    }

    #[ctx::propagate(user)]
    pub fn counter(&self) -> Box<dyn Fn() -> usize + '_> {
        Box::new(move || self.words.len())
    }

    #[ctx::propagate(user)]
    pub fn pinned(&self) -> Pin<Box<dyn Future<Output = usize> + '_>> {
        Box::pin(async move { self.words.len() })
    }
}

#[ctx::propagate(user)]
pub async fn head(s: &str) -> &str {
    s.split(' ').next().unwrap_or("")
}

#[ctx::propagate(user)]
pub fn split(s: &str) -> impl Iterator<Item = &str> + '_ {
    s.split(' ')
}

#[ctx::propagate(user)]
pub fn adder(n: usize) -> impl Fn(usize) -> usize {
    move |x| x + n
}

#[ctx::propagate(user)]
pub fn later(n: usize) -> impl Future<Output = usize> {
    async move { n }
}

#[ctx::propagate(user)]
pub async fn run(repo: &Repo) -> String {
    let name = repo.name("!").await;
    let first = repo.first_word().await.to_string();
    let n = Repo::iter(repo).count() + split("a b c").count();
    let boxed = Repo::counter(repo)() + Repo::pinned(repo).await;
    let head = head("x y").await.to_string();
    let sum = adder(1)(2) + later(4).await;
    format!("{name} {first} {n} {boxed} {head} {sum}")
}

pub fn check() {
    let repo = Repo {
        prefix: "p-".into(),
        words: vec!["w1".into(), "w2".into()],
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = rt.block_on(Root { user: "ann".into() }.scope(run(&repo)));
    assert_eq!(out, "p-ann! w1 5 4 x 7");
}
