pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

pub fn sub(a: i32, b: i32) -> i32 {
    a + b // bug on purpose
}

#[cfg(test)]
mod tests {
    #[test]
    fn adds() {
        assert_eq!(super::add(2, 2), 4);
    }

    #[test]
    fn subtracts() {
        println!("checking 5 - 3");
        assert_eq!(super::sub(5, 3), 2);
    }

    #[test]
    #[ignore]
    fn slow() {}
}
