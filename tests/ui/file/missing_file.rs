denpa_macros::net!("nets/does_not_exist.nn");

fn main() {}
