ctx::keys! { pub user: String; pub request_id: u64; }

#[ctx::propagate(user, request_id)]
fn audit() -> String { format!("{}#{}", *user, *request_id) }

#[ctx::propagate(user)]
fn handler() -> String { audit() }

fn main() {}
