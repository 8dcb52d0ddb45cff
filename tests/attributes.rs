//! Attributes next to `#[ctx::propagate]` mean what they mean without it,
//! in either order.

mod common;
use common::*;

fn span_name() -> Option<&'static str> {
    tracing::Span::current().metadata().map(|m| m.name())
}

#[ctx::propagate(user)]
#[tracing::instrument]
async fn traced_async_below() -> (Option<&'static str>, String) {
    tokio::task::yield_now().await;
    (span_name(), user.clone())
}

#[tracing::instrument]
#[ctx::propagate(user)]
async fn traced_async_above() -> (Option<&'static str>, String) {
    tokio::task::yield_now().await;
    (span_name(), user.clone())
}

#[ctx::propagate(user)]
#[tracing::instrument(skip(secret))]
fn traced_sync_below(n: u32, secret: String) -> (Option<&'static str>, String) {
    let _ = secret;
    (span_name(), format!("{}{n}", *user))
}

#[ctx::propagate(user)]
async fn run_all() -> Vec<(Option<&'static str>, String)> {
    vec![
        traced_async_below().await,
        traced_async_above().await,
        traced_sync_below(7, "s".into()),
    ]
}

#[test]
fn tracing_instrument_wraps_the_body_in_either_order() {
    let _subscriber = tracing::subscriber::set_default(tracing_subscriber::registry());
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let out = rt.block_on(req("ann", 1).scope(run_all()));
    assert_eq!(
        out,
        [
            (Some("traced_async_below"), "ann".to_string()),
            (Some("traced_async_above"), "ann".to_string()),
            (Some("traced_sync_below"), "ann7".to_string()),
        ]
    );
}
