//! Rule 4.1/4.2: calls receive the caller's context as a hidden parameter.

ctx::keys! {
    pub user: String;
    pub request_id: u64;
    #[merge(append)] pub audit: Vec<String>;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: String,
    request_id: u64,
    audit: Vec<String>,
}

fn req(u: &str, id: u64) -> Req {
    Req {
        user: u.into(),
        request_id: id,
        audit: Vec::new(),
    }
}

#[ctx::propagate(user)]
fn name_len() -> usize {
    user.len()
}

#[ctx::propagate(user, request_id)]
fn describe(prefix: &str) -> String {
    format!("{prefix}{}#{}:{}", *user, *request_id, name_len())
}

#[ctx::propagate(user)]
fn first_word(s: &str) -> &str {
    let _ = user.len();
    s.split(' ').next().unwrap_or(s)
}

struct Service {
    base: u64,
}

impl Service {
    #[ctx::propagate(request_id)]
    fn offset(&self, by: u64) -> u64 {
        self.base + *request_id + by
    }

    #[ctx::propagate(request_id, user)]
    fn both(&self) -> String {
        format!("{}:{}", *user, Self::offset(self, 1))
    }

    #[ctx::propagate(user)]
    fn make() -> Service {
        Service {
            base: user.len() as u64,
        }
    }

    #[ctx::propagate(request_id)]
    async fn fetch(&self) -> u64 {
        self.base * 100 + *request_id
    }
}

#[ctx::propagate(user, request_id)]
async fn handle(x: u64) -> String {
    let s = Service::make();
    let fetched = s.fetch().await;
    format!("{}|{}|{}|{}", describe(">"), x, fetched, Service::both(&s))
}

#[test]
fn sync_calls_receive_the_context() {
    let out = ctx::with!(req("alice", 7), { describe("u=") });
    assert_eq!(out, "u=alice#7:5");
}

#[test]
fn elided_output_lifetimes_still_work() {
    let s = String::from("hello world");
    let w = ctx::with!(req("a", 1), { first_word(&s) });
    assert_eq!(w, "hello");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_calls_and_methods_receive_the_context() {
    let out = req("bob", 3).scope(handle(9)).await;
    assert_eq!(out, ">bob#3:3|9|303|bob:7");
}
