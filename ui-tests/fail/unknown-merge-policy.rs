ctx::keys! {
    #[merge(sum)]
    pub total: u64;
}

fn main() {}
