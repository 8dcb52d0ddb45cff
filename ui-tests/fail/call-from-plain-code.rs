ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
fn handler() -> usize { user.len() }

fn main() {
    let _ = handler();
}
