//! Random identifiers (slugs, user and key ids, API keys, batch tokens): nanoid's unbiased
//! alphabet mapping over the runtime's CSPRNG (`crypto.getRandomValues`, through getrandom).
//!
//! nanoid's default source is rand's `thread_rng`, a ChaCha generator seeded from the same
//! CSPRNG: 7 KB of wasm that buys nothing here, and it panics if seeding fails. Here a failure
//! is an error the caller returns, so no token is ever made from bytes that are not random.

use std::sync::atomic::{AtomicBool, Ordering};

/// The runtime gave no random bytes.
#[derive(Debug, thiserror::Error)]
#[error("the runtime's random source failed")]
pub struct RandomUnavailable;

/// Set by [`runtime_bytes`] when the runtime fails it. nanoid's source is a plain `fn` with no
/// error channel, so the failure travels beside it; a worker isolate runs one request at a
/// time on one thread.
static SOURCE_FAILED: AtomicBool = AtomicBool::new(false);

fn runtime_bytes(size: usize) -> Vec<u8> {
    let mut bytes = vec![0; size];
    if getrandom::getrandom(&mut bytes).is_err() {
        SOURCE_FAILED.store(true, Ordering::Relaxed);
    }
    bytes
}

/// `len` characters drawn uniformly from `alphabet`.
pub fn token(len: usize, alphabet: &[char]) -> Result<String, RandomUnavailable> {
    SOURCE_FAILED.store(false, Ordering::Relaxed);
    let token = nanoid::format(runtime_bytes, alphabet, len);
    if SOURCE_FAILED.load(Ordering::Relaxed) {
        return Err(RandomUnavailable);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::ALPHANUMERIC;
    use std::collections::HashSet;

    #[test]
    fn tokens_have_the_length_and_alphabet_asked_for() {
        for len in [1, 7, 24, 40] {
            let t = token(len, &ALPHANUMERIC).unwrap();
            assert_eq!(t.chars().count(), len);
            assert!(t.chars().all(|c| ALPHANUMERIC.contains(&c)), "{t}");
        }
        let hex: Vec<char> = "0123456789abcdef".chars().collect();
        assert!(token(32, &hex).unwrap().chars().all(|c| hex.contains(&c)));
    }

    #[test]
    fn tokens_differ_and_use_the_whole_alphabet() {
        let tokens: HashSet<String> = (0..1000)
            .map(|_| token(12, &ALPHANUMERIC).unwrap())
            .collect();
        assert_eq!(tokens.len(), 1000);
        let seen: HashSet<char> = tokens.iter().flat_map(|t| t.chars()).collect();
        assert_eq!(seen.len(), ALPHANUMERIC.len());
    }
}
