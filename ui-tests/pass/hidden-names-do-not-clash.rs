//! User code may use the names generated code uses internally.
ctx::keys! { pub user: String; }

#[derive(ctx::ContextFields)]
struct Root { user: String }

#[ctx::propagate(user)]
fn f(__cx: u32, __own: u32) -> String {
    let __ctx_fork = __cx + __own;
    format!("{}{}", *user, __ctx_fork)
}

fn main() {
    assert_eq!(ctx::with!(Root { user: "a".into() }, { f(1, 2) }), "a3");
}
