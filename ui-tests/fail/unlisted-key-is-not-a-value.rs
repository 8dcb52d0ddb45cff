ctx::keys! { pub user: String; pub tenant: String; }

#[ctx::propagate(user)]
fn handler() -> usize { tenant.len() }

fn main() {}
