// A test or `main` has no caller to pass the context: enter it with a
// root inside instead.
ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
#[tokio::test]
async fn checks_the_user() {
    assert_eq!(*user, "ann");
}

#[tokio::main]
#[ctx::propagate(user)]
async fn main() {
    println!("{}", *user);
}
