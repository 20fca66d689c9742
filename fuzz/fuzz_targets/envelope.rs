//! Fuzzes `tungnha_hostile::envelope` (see its doc for what must hold).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tungnha_hostile::envelope(data));
