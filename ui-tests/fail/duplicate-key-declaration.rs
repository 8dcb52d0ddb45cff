ctx::keys! {
    pub user: String;
    pub user: u64;
}

fn main() {}
