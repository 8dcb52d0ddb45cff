//! Propagated calls written inside macro arguments get the context as
//! anywhere else: the branches of `join!`/`try_join!` and the futures of
//! `select!` are bound like `ctx::bind!`, and `select!`'s preconditions
//! and handlers are rewritten as ordinary code, with no edit at the call.

ctx::keys! {
    pub user: String;
    pub hits: u32;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: String,
    hits: u32,
}

#[ctx::propagate(user)]
async fn who(i: u32) -> String {
    tokio::task::yield_now().await;
    format!("{}{i}", *user)
}

#[ctx::propagate(mut hits)]
async fn hit() -> Result<u32, String> {
    let v = *hits + 1;
    ctx::set!(hits, v);
    Ok(v)
}

#[ctx::propagate(user, mut hits)]
async fn branches() -> (String, String, u32, u32) {
    let later = who(2);
    let (a, b) = tokio::join!(who(1), later);
    let (h,) = tokio::try_join!(hit()).unwrap();
    (a, b, h, *hits)
}

#[test]
fn join_branches_are_bound_to_the_context() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let req = Req {
        user: "ann".into(),
        hits: 1,
    };
    let out = rt.block_on(req.scope(branches()));
    assert_eq!(out, ("ann1".into(), "ann2".into(), 2, 2));
}

#[ctx::propagate(user)]
async fn ready_now(i: u32) -> String {
    format!("{}{i}", *user)
}

#[ctx::propagate(user, mut hits)]
async fn first_of(rx: &mut tokio::sync::mpsc::Receiver<u32>, ready: bool) -> String {
    tokio::select! {
        biased;
        s = ready_now(7), if ready && *hits > 0 => {
            ctx::set!(hits, *hits + 10);
            format!("{s}/{}", *hits)
        }
        Some(user) = rx.recv() => format!("msg {user} for {}", *hits),
        else => format!("none for {}", *user),
    }
}

#[ctx::propagate(user, mut hits)]
async fn shutdown_loop(mut rx: tokio::sync::mpsc::Receiver<u32>) -> Vec<String> {
    let mut seen = Vec::new();
    seen.push(first_of(&mut rx, true).await);
    seen.push(first_of(&mut rx, false).await);
    // The sender is gone and the channel empty: every branch is disabled.
    seen.push(first_of(&mut rx, false).await);
    seen.push(format!("hits {}", *hits));
    seen
}

#[test]
fn select_branches_get_the_context_and_handlers_may_write() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    rt.block_on(tx.send(5)).unwrap();
    drop(tx);
    let req = Req {
        user: "bob".into(),
        hits: 1,
    };
    let out = rt.block_on(req.scope(shutdown_loop(rx)));
    assert_eq!(out, ["bob7/11", "msg 5 for 11", "none for bob", "hits 11"]);
}

#[ctx::propagate(user)]
fn tag(n: usize) -> String {
    format!("{}{n}", *user)
}

#[ctx::propagate(user)]
fn expression_macros() -> (Vec<String>, String, String, bool, bool) {
    let repeated = vec![tag(1); 2];
    // A named argument called like a key is the macro's own name.
    let named = format!("{user}-{n}", user = 5, n = tag(2));
    let inline = format!("{user}!");
    let guarded = matches!(Some(3), Some(n) if user.len() == n);
    // The pattern's binding shadows the key in the guard.
    let shadowed = matches!(Some(1), Some(user) if user == 1);
    (repeated, named, inline, guarded, shadowed)
}

#[test]
fn vec_repeat_named_format_arguments_and_matches_guards() {
    let req = Req {
        user: "ann".into(),
        hits: 0,
    };
    let out = ctx::with!(req, { expression_macros() });
    assert_eq!(
        out,
        (
            vec!["ann1".to_string(), "ann1".to_string()],
            "5-ann2".to_string(),
            "ann!".to_string(),
            true,
            true
        )
    );
}

// The arguments of `tracing` event and span macros: field values, `?`/`%`
// expressions and format arguments may call propagated functions and read
// keys; a bare key keeps its name as the field's.
#[path = "common/captured.rs"]
mod captured;
use captured::Captured;

#[ctx::propagate(user, mut hits)]
fn logs() -> (u32, String) {
    tracing::info!(target: "svc", tagged = %tag(1), ?user, len = user.len(), "seen {} {}", tag(2), *hits);
    let span = tracing::info_span!("req", who = %tag(3));
    let _entered = span.enter();
    ctx::set!(hits, *hits + 1);
    tracing::warn!(%user, "after {}", *hits);
    // An inline `{user}` beside a call, in a function that may write.
    let line = format!("{user}:{}", tag(4));
    (*hits, line)
}

#[test]
fn tracing_macro_arguments_get_the_context() {
    let out = Captured::default();
    let subscriber = out.subscriber();
    let req = Req {
        user: "ann".into(),
        hits: 4,
    };
    let hits = tracing::subscriber::with_default(subscriber, || ctx::with!(req, { logs() }));
    assert_eq!(hits, (5, "ann:ann4".to_string()));
    let text = out.text();
    assert!(
        text.contains(r#"svc: seen ann2 4 tagged=ann1 user="ann" len=3"#),
        "{text}"
    );
    assert!(text.contains("req{who=ann3}"), "{text}");
    assert!(text.contains("after 5 user=ann"), "{text}");
}

// A future handed to `timeout` or `Box::pin` is bound to the context where
// it is written, as by `ctx::bind!`.
#[ctx::propagate(user, mut hits)]
async fn count_up(n: u32) -> String {
    tokio::task::yield_now().await;
    ctx::set!(hits, *hits + n);
    format!("{}:{}", *user, *hits)
}

#[ctx::propagate(user, mut hits)]
fn boxed_count(n: u32) -> std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>> {
    Box::pin(count_up(n))
}

#[ctx::propagate(user, mut hits)]
async fn futures_handed_on() -> (String, String, u32) {
    let timed = tokio::time::timeout(std::time::Duration::from_secs(5), count_up(1))
        .await
        .unwrap();
    let boxed = boxed_count(10).await;
    (timed, boxed, *hits)
}

#[test]
fn futures_handed_to_timeout_and_box_pin_carry_the_context() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let req = Req {
        user: "cy".into(),
        hits: 0,
    };
    let out = rt.block_on(req.scope(futures_handed_on()));
    assert_eq!(out, ("cy:1".into(), "cy:11".into(), 11));
}
