ctx::keys! {
    #[baggage(receive)]
    pub tenant: String;
}

fn main() {}
