// In a function with `mut` keys, any call may change the context: a `&V`
// cannot be held across one. Clone the value to keep it.
ctx::keys! { pub user: String; }

#[ctx::propagate(mut user)]
fn log_in() {}

#[ctx::propagate(mut user)]
fn handler() {
    let before = &*user;
    log_in();
    println!("{before}");
}

fn main() {}
