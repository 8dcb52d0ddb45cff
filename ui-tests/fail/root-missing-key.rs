ctx::keys! { pub user: String; pub tenant: String; }

#[derive(ctx::ContextFields)]
struct Root { user: String }

#[ctx::propagate(user, tenant)]
fn handler() -> String { format!("{}@{}", *user, *tenant) }

fn main() {
    let _ = ctx::with!(Root { user: "ann".into() }, { handler() });
}
