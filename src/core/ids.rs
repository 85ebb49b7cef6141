//! The one seeded generator of everything random the emulator hands out: UUIDs, SIDs, codes,
//! request ids. With `--seed N` the same requests in the same order give the same values.
//!
//! It is ChaCha12, the algorithm behind `rand`'s `StdRng` (same seed, same stream), used
//! directly for its position: a state file records it, so ids handed out before a restart are
//! never handed out again after it.

use chacha20::ChaCha12Rng;
use parking_lot::Mutex;
use rand::{RngExt, SeedableRng};

#[derive(Debug)]
pub struct Ids {
    rng: Mutex<ChaCha12Rng>,
    /// The server's own secret, from the seed's second stream (from the OS without one): keys
    /// derived from it sign webhooks, the same every run under `--seed`, without drawing from
    /// the id stream.
    secret: [u8; 32],
}

impl Ids {
    /// Seeded from `seed`, or from the operating system when `None`.
    pub fn new(seed: Option<u64>) -> Ids {
        let rng = match seed {
            Some(seed) => ChaCha12Rng::seed_from_u64(seed),
            None => rand::make_rng::<ChaCha12Rng>(),
        };
        let mut second = ChaCha12Rng::from_seed(rng.get_seed());
        second.set_stream(1);
        Ids { secret: second.random(), rng: Mutex::new(rng) }
    }

    /// A 32-byte secret for `purpose` (a signing key's seed): SHA-256 of the server's secret
    /// and `purpose`.
    pub fn secret(&self, purpose: &str) -> [u8; 32] {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&self.secret);
        ctx.update(purpose.as_bytes());
        ctx.finish().as_ref().try_into().expect("SHA-256 is 32 bytes")
    }

    /// How far the generator has run (in 32-bit words).
    pub fn position(&self) -> u128 {
        self.rng.lock().get_word_pos()
    }

    /// Moves the generator to `position` (only forwards makes sense: see [`Ids::position`]).
    pub fn set_position(&self, position: u128) {
        self.rng.lock().set_word_pos(position);
    }

    /// A random (version 4) UUID in its lowercase hyphenated form.
    pub fn uuid_v4(&self) -> String {
        let bytes: [u8; 16] = self.rng.lock().random();
        uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
    }

    /// `prefix` followed by 32 lowercase hex digits, the shape of a Twilio SID.
    pub fn sid(&self, prefix: &str) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let n: u128 = self.rng.lock().random();
        let mut out = String::with_capacity(prefix.len() + 32);
        out.push_str(prefix);
        for shift in (0..32).rev() {
            out.push(char::from(HEX[(n >> (shift * 4)) as usize & 0xf]));
        }
        out
    }

    /// A string of `len` decimal digits; the first may be zero, as in real OTPs.
    pub fn digits(&self, len: usize) -> String {
        let mut rng = self.rng.lock();
        (0..len).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect()
    }

    /// A number below `bound`, for numeric ids and seeded probabilities.
    pub fn below(&self, bound: u64) -> u64 {
        self.rng.lock().random_range(0..bound.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_sequence() {
        let (a, b) = (Ids::new(Some(7)), Ids::new(Some(7)));
        for _ in 0..5 {
            assert_eq!(a.uuid_v4(), b.uuid_v4());
            assert_eq!(a.digits(6), b.digits(6));
            assert_eq!(a.sid("CA"), b.sid("CA"));
        }
    }

    #[test]
    fn secrets_follow_the_seed_and_leave_the_stream_alone() {
        let (a, b, c) = (Ids::new(Some(7)), Ids::new(Some(7)), Ids::new(Some(8)));
        assert_eq!(a.secret("x"), b.secret("x"));
        assert_ne!(a.secret("x"), a.secret("y"));
        assert_ne!(a.secret("x"), c.secret("x"));
        a.secret("x");
        assert_eq!(a.uuid_v4(), b.uuid_v4(), "deriving a secret draws nothing from the ids");
        assert_ne!(Ids::new(None).secret("x"), Ids::new(None).secret("x"));
    }

    #[test]
    fn the_stream_is_std_rngs() {
        use rand::rngs::StdRng;
        let mut std = StdRng::seed_from_u64(42);
        let ours = Ids::new(Some(42));
        let want: u128 = std.random();
        assert_eq!(ours.sid(""), format!("{want:032x}"));
    }

    #[test]
    fn a_restored_position_continues_the_stream() {
        let a = Ids::new(Some(3));
        a.uuid_v4();
        a.digits(6);
        let at = a.position();
        let next = a.sid("PN");
        let b = Ids::new(Some(3));
        b.set_position(at);
        assert_eq!(b.sid("PN"), next);
    }

    #[test]
    fn values_have_their_documented_shapes() {
        let ids = Ids::new(Some(1));
        let u = ids.uuid_v4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4", "version nibble in {u}");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "variant in {u}");
        let sid = ids.sid("PN");
        assert_eq!(sid.len(), 34);
        assert!(sid[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let code = ids.digits(6);
        assert_eq!(code.len(), 6);
        assert!(code.bytes().all(|b| b.is_ascii_digit()));
    }
}
