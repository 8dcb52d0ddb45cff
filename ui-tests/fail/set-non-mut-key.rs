ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
fn login() { ctx::set!(user, "ann".to_string()); }

fn main() {}
