//! The secrets in links (calendar feeds, invitation links, password resets, address
//! confirmations): random bytes from the operating system's generator, in hex, and stored
//! only as their BLAKE2s-256 hash. They are long and random, so a fast unsalted hash is
//! enough: a copy of the database does not give anyone a working link.

/// `bytes` random bytes from the OS's generator, in hex (twice as many characters).
pub fn new_hex(bytes: usize) -> String {
    use rand_core::RngCore;
    let mut buf = vec![0u8; bytes];
    rand_core::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// How a secret is stored and looked up: BLAKE2s-256 in hex (64 characters).
pub fn hash(secret: &str) -> String {
    use blake2::{Blake2s256, Digest};
    Blake2s256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_are_random_hex_and_stored_as_a_fixed_length_hash() {
        let (a, b) = (super::new_hex(32), super::new_hex(32));
        assert_eq!((a.len(), super::new_hex(24).len()), (64, 48));
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(super::hash(&a).len(), 64);
        assert_ne!(super::hash(&a), a);
        assert_eq!(super::hash(&a), super::hash(&a));
    }
}
