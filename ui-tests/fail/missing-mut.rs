ctx::keys! { pub user: String; }

#[ctx::propagate(mut user)]
fn login() { ctx::set!(user, "ann".to_string()); }

#[ctx::propagate(user)]
fn handler() { login() }

fn main() {}
