// A `&V` read from the context cannot be used after a write of the
// context: the write may release the value it points to.
ctx::keys! { pub user: String; }

#[ctx::propagate(mut user)]
fn rename() {
    let before = user.as_str();
    ctx::set!(user, "bob".to_string());
    println!("{before}");
}

fn main() {}
