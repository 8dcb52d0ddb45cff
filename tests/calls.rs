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

#[ctx::propagate(user)]
fn takes_str(s: &str) -> usize {
    s.len() + user.len()
}

#[ctx::propagate(user)]
fn takes_slice(b: &[u8]) -> usize {
    b.len()
}

#[ctx::propagate(user)]
fn takes_dyn(d: Box<dyn std::fmt::Debug>) -> String {
    format!("{d:?}")
}

#[ctx::propagate(user)]
fn apply(f: impl Fn(u32) -> u32, x: u32) -> u32 {
    f(x)
}

#[ctx::propagate(user)]
fn push_twice(v: &mut Vec<u8>, b: u8) {
    v.push(b);
}

#[ctx::propagate(user)]
fn make<T: Default>() -> T {
    T::default()
}

fn plain_str(s: &str) -> usize {
    s.len()
}

fn plain_u8(b: u8) -> u8 {
    b
}

/// Calls pass through a probe; the argument still meets the callee's own
/// signature: coercions, closure-parameter inference, reborrows and
/// literal and result inference work as in a plain call, for propagated
/// and plain callees alike.
#[ctx::propagate(user)]
fn call_shapes() -> (usize, usize, String, u32, Vec<u8>, u32, u8) {
    let owned = String::from("abc");
    let bytes = vec![1u8, 2, 3];
    let s = takes_str(&owned) + plain_str(&owned);
    let b = takes_slice(&bytes);
    let d = takes_dyn(Box::new(7));
    let f = apply(|x| x * 2, 21);
    let mut v = Vec::new();
    let r = &mut v;
    push_twice(r, 1);
    push_twice(r, 2);
    let c: u32 = make();
    let l = plain_u8(255);
    (s, b, d, f, v, c, l)
}

#[test]
fn call_arguments_behave_as_in_a_plain_call() {
    let out = ctx::with!(req("ann", 1), { call_shapes() });
    assert_eq!(out, (9, 3, "7".to_string(), 42, vec![1, 2], 0, 255));
}

#[ctx::propagate(user)]
fn asserts_user_is(name: &str) {
    assert!(*user == name);
}

#[test]
fn a_failing_assert_prints_the_condition_as_written() {
    let r = std::panic::catch_unwind(|| ctx::with!(req("ann", 1), { asserts_user_is("bob") }));
    let msg = r.expect_err("the assertion fails");
    let msg = msg
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| msg.downcast_ref::<&str>().map(ToString::to_string))
        .unwrap_or_default();
    assert_eq!(msg, "assertion failed: *user == name");
}

// An early `return` in an async body coerces to the declared output, as
// in a plain async fn (`&String` to `&str`, `Box<u32>` to `Box<dyn _>`).
struct Named {
    name: String,
}

impl Named {
    #[ctx::propagate(user)]
    async fn pick<'a>(&'a self, other: &'a str) -> &'a str {
        if user.len() == 3 {
            return &self.name;
        }
        other
    }
}

#[ctx::propagate(user)]
async fn boxed(n: u32) -> Box<dyn std::fmt::Display> {
    if n == 0 {
        return Box::new(user.clone());
    }
    Box::new(n)
}

#[ctx::propagate(user)]
async fn early_returns(named: &Named) -> (String, String, String) {
    let picked = named.pick("other").await.to_string();
    (
        picked,
        boxed(0).await.to_string(),
        boxed(2).await.to_string(),
    )
}

#[test]
fn early_returns_in_async_bodies_coerce_to_the_declared_output() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let named = Named { name: "nm".into() };
    let out = rt.block_on(req("ann", 1).scope(early_returns(&named)));
    assert_eq!(out, ("nm".into(), "ann".into(), "2".into()));
    let out = rt.block_on(req("bobby", 1).scope(early_returns(&named)));
    assert_eq!(out, ("other".into(), "bobby".into(), "2".into()));
}

#[ctx::propagate(user)]
fn tag(n: u32) -> String {
    format!("{}#{n}", *user)
}

#[ctx::propagate(user)]
fn add_len(acc: usize, s: &str) -> usize {
    acc + s.len() + user.len()
}

#[ctx::propagate(mut audit)]
fn note(what: &str) {
    ctx::set!(audit, {
        let mut a = audit.clone();
        a.push(what.to_string());
        a
    });
}

fn plain_double(n: u32) -> u32 {
    n * 2
}

/// Propagated functions passed as values get the context; plain and
/// generic functions passed as values stay as written.
#[allow(clippy::type_complexity)]
#[ctx::propagate(user, mut audit)]
fn functions_as_values() -> (
    Vec<String>,
    usize,
    Vec<String>,
    Vec<u32>,
    Vec<u64>,
    Vec<Box<u32>>,
) {
    let tags: Vec<String> = [1, 2].into_iter().map(tag).collect();
    let total = ["ab", "c"].into_iter().fold(0, add_len);
    ["x", "y"].into_iter().for_each(note);
    let doubled: Vec<u32> = [1, 2].into_iter().map(plain_double).collect();
    let widened: Vec<u64> = [3u32].into_iter().map(u64::from).collect();
    let boxed: Vec<Box<u32>> = [4].into_iter().map(Box::new).collect();
    [String::new()].into_iter().for_each(drop);
    let later = tag;
    let first = "5".parse().ok().map(later).unwrap_or_default();
    (
        tags.into_iter().chain([first]).collect(),
        total,
        audit.clone(),
        doubled,
        widened,
        boxed,
    )
}

#[test]
fn propagated_functions_passed_as_values_receive_the_context() {
    let (tags, total, audit, doubled, widened, boxed) =
        ctx::with!(req("ann", 1), { functions_as_values() });
    assert_eq!(tags, ["ann#1", "ann#2", "ann#5"]);
    assert_eq!(total, 3 + 3 + 3);
    assert_eq!(audit, ["x", "y"]);
    assert_eq!(doubled, [2, 4]);
    assert_eq!(widened, [3]);
    assert_eq!(boxed, [Box::new(4)]);
}
