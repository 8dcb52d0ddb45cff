ctx::keys! {
    #[trace(level = "debug")] pub user: String;
}

fn main() {}
