ctx::keys! { pub user: String; }

fn main() {
    ctx::set!(user, "ann".to_string());
}
