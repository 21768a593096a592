//! Token codec: decoding anything never panics; what decodes as pinned re-encodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin::codec::{decode, token, Decoded, Key};

fuzz_target!(|data: &[u8]| {
    let key = Key::from_secret(b"fuzzing-secret-0123456789");
    for key in [None, Some(&key)] {
        if let Decoded::Pinned { sid, value } = decode(data, key) {
            assert!(plugin::codec::is_valid_value(value));
            // Re-encoding the raw sid gives the same token when the sid needs no decoding.
            if !sid.contains(&b'%') {
                let mut again = sid.to_vec();
                again.extend(token(sid, value, key).expect("a pinned value is encodable"));
                assert_eq!(decode(&again, key), Decoded::Pinned { sid, value });
            }
        }
    }
});
