//! Certificate files from anywhere: `cert import` and probes feed whatever
//! bytes they get to the PEM/DER reader and the X.509 describer. Neither may
//! panic or hang; every input is either certificates or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(ders) = opsdeck_certs::x509::certificates_in(data, "fuzz") {
        for der in &ders {
            let _ = opsdeck_certs::x509::describe(der);
        }
        let _ = opsdeck_certs::trust::TrustRoots::default().check(&ders, 0);
    }
});
