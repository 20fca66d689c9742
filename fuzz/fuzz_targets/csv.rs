//! Fuzzes `tungnha_hostile::csv` (see its doc for what must hold).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tungnha_hostile::csv(data));
