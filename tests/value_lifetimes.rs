//! A `&V` read from the context stays valid for as long as the borrow
//! checker lets it live, whatever writes meanwhile: writes that could run
//! while a `&V` is held (from a closure, a callback, a future polled beside
//! the body, another thread) keep what they replace until the next
//! top-level write. These tests hold references across every such write;
//! under valgrind (`.ci/valgrind`) a released value would be an invalid
//! read. Each held value is written first, so that only the current frame
//! keeps it (the value a context started with stays in its base frame).

use std::sync::Barrier;

ctx::keys! {
    pub user: String;
    pub count: u64;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: String,
    count: u64,
}

fn req(user: &str) -> Req {
    Req {
        user: user.into(),
        count: 0,
    }
}

#[ctx::propagate(user)]
fn user_now() -> String {
    user.clone()
}

// A `move` closure writes while the body holds a `&str` into the old value.
#[ctx::propagate(mut user)]
fn closure_writes_while_a_read_is_held() -> (String, String) {
    ctx::set!(user, format!("{}!", *user));
    let before = user.as_str();
    let rename = move || ctx::set!(user, "bob".to_string());
    rename();
    rename();
    (before.to_string(), user.clone())
}

#[test]
fn a_closure_write_keeps_the_value_a_read_points_to() {
    let (before, after) = ctx::with!(req("ann"), { closure_writes_while_a_read_is_held() });
    assert_eq!((before.as_str(), after.as_str()), ("ann!", "bob"));
}

// A callee holds a `&str` while the callback it was given writes.
#[ctx::propagate(user)]
fn hold_and_call_back(callback: impl FnOnce()) -> String {
    let held = user.as_str();
    callback();
    format!("{held}/{}", *user)
}

#[ctx::propagate(mut user)]
fn pass_a_writing_callback() -> String {
    ctx::set!(user, format!("{}!", *user));
    hold_and_call_back(|| {
        for i in 0..100 {
            ctx::set!(user, format!("v{i}"));
        }
    })
}

#[test]
fn a_callback_write_keeps_the_value_its_caller_reads() {
    let out = ctx::with!(req("ann"), { pass_a_writing_callback() });
    assert_eq!(out, "ann!/v99");
}

// Two futures of one context polled in turn by `join!`: the reader holds a
// `&str` across its awaits while the writer writes.
#[ctx::propagate(user)]
async fn read_across_awaits() -> String {
    let held = user.as_str();
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    format!("{held}/{}", *user)
}

#[ctx::propagate(mut user)]
async fn write_between_awaits() {
    for i in 0..10 {
        ctx::set!(user, format!("w{i}"));
        tokio::task::yield_now().await;
    }
}

#[ctx::propagate(mut user)]
async fn interleave() -> String {
    ctx::set!(user, format!("{}!", *user));
    let (read, ()) = tokio::join!(
        ctx::bind!(read_across_awaits()),
        ctx::bind!(write_between_awaits())
    );
    ctx::set!(user, "after".to_string());
    format!("{read} {}", *user)
}

#[tokio::test]
async fn interleaved_futures_keep_the_values_they_read() {
    let out = ctx::with!(req("ann"), { interleave().await });
    assert_eq!(out, "ann!/w9 after");
}

// Closures run on two threads at once by an executor ctx does not know:
// one writes, one reads, both while the body waits.
fn run_both(a: impl FnOnce() + Send, b: impl FnOnce() + Send) {
    std::thread::scope(|s| {
        s.spawn(a);
        b();
    });
}

#[ctx::propagate(mut user, mut count)]
fn race_on_an_unknown_executor() -> (u64, String) {
    let barrier = Barrier::new(2);
    let barrier = &barrier;
    run_both(
        move || {
            barrier.wait();
            for i in 0..2_000 {
                ctx::set!(count, i);
                ctx::set!(user, format!("u{i}"));
            }
        },
        move || {
            barrier.wait();
            for _ in 0..2_000 {
                let u = user.as_str();
                assert!(u == "ann" || u.starts_with('u'), "read {u:?}");
            }
        },
    );
    ctx::set!(count, *count + 1);
    (*count, user.clone())
}

#[test]
fn writes_and_reads_on_two_threads_never_see_a_released_value() {
    for _ in 0..5 {
        let (count, user) = ctx::with!(req("ann"), { race_on_an_unknown_executor() });
        assert_eq!((count, user.as_str()), (2_000, "u1999"));
    }
}

// A read pinned in a call's arguments survives the callee's writes.
#[ctx::propagate(mut user)]
fn overwrite_and_echo(seen: &str) -> String {
    for i in 0..100 {
        ctx::set!(user, format!("x{i}"));
    }
    format!("{seen}->{}", *user)
}

#[ctx::propagate(mut user)]
fn pass_a_read_to_a_writer() -> String {
    ctx::set!(user, format!("{}!", *user));
    overwrite_and_echo(&user)
}

#[test]
fn an_argument_read_survives_the_callee_writes() {
    let out = ctx::with!(req("ann"), { pass_a_read_to_a_writer() });
    assert_eq!(out, "ann!->x99");
    assert_eq!(ctx::with!(req("ann"), { user_now() }), "ann");
}

// A parameter named like a key is the parameter, as in plain Rust; so are
// closure parameters and `let`, `match`, `if let` and `for` bindings.
#[ctx::propagate(user)]
fn greet(user: &str) -> String {
    format!("hello {user}")
}

#[ctx::propagate(user)]
fn shadowing() -> Vec<String> {
    let names = ["x", "y"];
    let mut out = vec![
        names
            .iter()
            .map(|user| user.to_string())
            .collect::<String>(),
    ];
    if let Some(user) = names.first() {
        out.push(user.to_string());
    }
    for user in names {
        out.push(user.to_string());
    }
    #[allow(clippy::match_single_binding)]
    out.push(match names[1] {
        user => user.to_string(),
    });
    out.push(user.clone());
    {
        let user = 7;
        out.push(user.to_string());
    }
    #[allow(clippy::useless_format)]
    out.push(format!("{user}"));
    out
}

#[test]
fn locals_named_like_keys_shadow_them() {
    let (g, s) = ctx::with!(req("ann"), { (greet("bob"), shadowing()) });
    assert_eq!(g, "hello bob");
    assert_eq!(s, ["xy", "x", "x", "y", "y", "ann", "7", "ann"]);
}

struct Conn {
    out: Vec<String>,
}

impl Conn {
    async fn write_frame(&mut self, frame: &str) {
        tokio::task::yield_now().await;
        self.out.push(frame.to_string());
    }
}

#[ctx::propagate(user)]
fn make_frame(x: u32) -> String {
    format!("{}:{x}", *user)
}

#[ctx::propagate(user)]
async fn framed(x: u32, suffix: &str) -> String {
    tokio::task::yield_now().await;
    format!("{}{suffix}", make_frame(x))
}

/// Temporaries in an awaited expression live to the end of the statement,
/// as in plain Rust: `dst.write_frame(&make_frame(x)).await` borrows the
/// frame across the `.await`.
#[ctx::propagate(mut user)]
async fn sends_borrowed_temporaries(dst: &mut Conn, x: u32) -> String {
    dst.write_frame(&make_frame(x)).await;
    dst.write_frame(&format!("n={}", dst.out.len())).await;
    let echoed = framed(x, &format!("!{}", *user)).await;
    ctx::set!(user, "bob".to_string());
    dst.write_frame(&make_frame(x + 1)).await;
    echoed
}

#[tokio::test]
async fn awaited_calls_keep_their_temporaries_to_the_end_of_the_statement() {
    let mut conn = Conn { out: Vec::new() };
    // On a spawned task: the body's future must stay `Send`.
    let (out, conn) = tokio::spawn(async move {
        let out = req("ann")
            .scope(sends_borrowed_temporaries(&mut conn, 3))
            .await;
        (out, conn)
    })
    .await
    .unwrap();
    assert_eq!(out, "ann:3!ann");
    assert_eq!(conn.out, ["ann:3", "n=1", "bob:4"]);
}
