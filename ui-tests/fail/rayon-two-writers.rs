ctx::keys! { pub user: String; }

#[ctx::propagate(mut user)]
fn both() {
    rayon::join(
        || ctx::set!(user, "a".to_string()),
        || ctx::set!(user, "b".to_string()),
    );
}

fn main() {}
