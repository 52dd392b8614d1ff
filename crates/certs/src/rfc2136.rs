//! DNS-01 through RFC 2136 dynamic updates, signed with TSIG (RFC 8945,
//! HMAC-SHA256): the way BIND, Knot, PowerDNS and most self-hosted DNS
//! servers accept changes. One UPDATE message adds the TXT record, another
//! deletes exactly that record afterwards. Messages go over TCP.
//!
//! The server's answer is accepted on its response code; its TSIG signature
//! is not verified (a forged "NOERROR" only makes the CA's validation fail,
//! which is then reported).

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zeroize::Zeroizing;

use crate::challenges::{DnsFuture, DnsProvider};
use crate::CertError;

const TYPE_SOA: u16 = 6;
const TYPE_TXT: u16 = 16;
const TYPE_TSIG: u16 = 250;
const CLASS_IN: u16 = 1;
const CLASS_NONE: u16 = 254;
const CLASS_ANY: u16 = 255;
const OPCODE_UPDATE: u16 = 5;
const TSIG_FUDGE_SECONDS: u16 = 300;
const TXT_TTL: u32 = 60;

/// A DNS server that accepts TSIG-signed dynamic updates for a zone.
pub struct Rfc2136 {
    /// `HOST:PORT` of the primary server.
    pub server: String,
    /// The zone the records go in (`example.com`).
    pub zone: String,
    /// The TSIG key's name, as the server knows it.
    pub key_name: String,
    /// The TSIG key's secret (HMAC-SHA256).
    pub key_secret: Zeroizing<Vec<u8>>,
}

impl Rfc2136 {
    /// Reads a TSIG secret written in base64, as `tsig-keygen` prints it.
    pub fn decode_secret(base64_text: &str) -> Result<Zeroizing<Vec<u8>>, CertError> {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(base64_text.trim())
            .map(Zeroizing::new)
            .map_err(|error| CertError::Invalid(format!("the TSIG secret is not base64 ({error})")))
    }

    async fn update(&self, domain: &str, name: &str, value: &str, add: bool) -> Result<(), CertError> {
        let failed = |reason: String| CertError::Challenge { domain: domain.to_owned(), reason };
        let message = self.signed_update(name, value, add, now_seconds()).map_err(failed)?;
        let work = async {
            let mut stream = tokio::net::TcpStream::connect(self.server.as_str())
                .await
                .map_err(|error| failed(format!("cannot reach the DNS server {}: {error}", self.server)))?;
            let length = u16::try_from(message.len()).map_err(|_| failed("update too large".to_owned()))?;
            stream.write_all(&length.to_be_bytes()).await.map_err(|error| failed(error.to_string()))?;
            stream.write_all(&message).await.map_err(|error| failed(error.to_string()))?;
            let mut length = [0u8; 2];
            stream.read_exact(&mut length).await.map_err(|error| {
                failed(format!("the DNS server {} closed the connection: {error}", self.server))
            })?;
            let mut answer = vec![0u8; usize::from(u16::from_be_bytes(length))];
            stream.read_exact(&mut answer).await.map_err(|error| failed(error.to_string()))?;
            Ok::<_, CertError>(answer)
        };
        let answer = tokio::time::timeout(Duration::from_secs(15), work)
            .await
            .map_err(|_| failed(format!("the DNS server {} did not answer within 15 s", self.server)))??;
        if answer.len() < 12 || answer[..2] != message[..2] {
            return Err(failed("the DNS server sent an answer to another message".to_owned()));
        }
        match answer[3] & 0x0f {
            0 => Ok(()),
            code => Err(failed(format!(
                "the DNS server {} refused the update: {} (zone {}, key {})",
                self.server,
                rcode_text(code),
                self.zone,
                self.key_name
            ))),
        }
    }

    /// The UPDATE message for `name` (an FQDN), signed with TSIG at `now`.
    fn signed_update(&self, name: &str, value: &str, add: bool, now: u64) -> Result<Vec<u8>, String> {
        let mut id = [0u8; 2];
        use rsa::rand_core::RngCore;
        rsa::rand_core::OsRng.fill_bytes(&mut id);
        let mut message = Vec::with_capacity(256);
        message.extend_from_slice(&id);
        message.extend_from_slice(&(OPCODE_UPDATE << 11).to_be_bytes());
        for count in [1u16, 0, 1, 0] {
            message.extend_from_slice(&count.to_be_bytes());
        }
        // Zone section: the zone, type SOA, class IN.
        write_name(&mut message, &self.zone)?;
        message.extend_from_slice(&TYPE_SOA.to_be_bytes());
        message.extend_from_slice(&CLASS_IN.to_be_bytes());
        // Update section: add the TXT record (class IN), or delete exactly it (class NONE, TTL 0).
        write_name(&mut message, name)?;
        message.extend_from_slice(&TYPE_TXT.to_be_bytes());
        message.extend_from_slice(&(if add { CLASS_IN } else { CLASS_NONE }).to_be_bytes());
        message.extend_from_slice(&(if add { TXT_TTL } else { 0 }).to_be_bytes());
        let text = value.as_bytes();
        let text_length =
            u8::try_from(text.len()).map_err(|_| "TXT value longer than 255 bytes".to_owned())?;
        message.extend_from_slice(&(u16::from(text_length) + 1).to_be_bytes());
        message.push(text_length);
        message.extend_from_slice(text);

        // TSIG (RFC 8945): MAC over the message, then the TSIG variables.
        let algorithm = "hmac-sha256";
        let mut signed = message.clone();
        write_name(&mut signed, &self.key_name.to_ascii_lowercase())?;
        signed.extend_from_slice(&CLASS_ANY.to_be_bytes());
        signed.extend_from_slice(&0u32.to_be_bytes());
        write_name(&mut signed, algorithm)?;
        signed.extend_from_slice(&now.to_be_bytes()[2..]);
        signed.extend_from_slice(&TSIG_FUDGE_SECONDS.to_be_bytes());
        signed.extend_from_slice(&0u16.to_be_bytes()); // error
        signed.extend_from_slice(&0u16.to_be_bytes()); // other length
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &self.key_secret);
        let mac = ring::hmac::sign(&key, &signed);
        let mac = mac.as_ref();

        let mut rdata = Vec::with_capacity(64 + mac.len());
        write_name(&mut rdata, algorithm)?;
        rdata.extend_from_slice(&now.to_be_bytes()[2..]);
        rdata.extend_from_slice(&TSIG_FUDGE_SECONDS.to_be_bytes());
        rdata.extend_from_slice(&(mac.len() as u16).to_be_bytes());
        rdata.extend_from_slice(mac);
        rdata.extend_from_slice(&id);
        rdata.extend_from_slice(&0u16.to_be_bytes());
        rdata.extend_from_slice(&0u16.to_be_bytes());
        write_name(&mut message, &self.key_name.to_ascii_lowercase())?;
        message.extend_from_slice(&TYPE_TSIG.to_be_bytes());
        message.extend_from_slice(&CLASS_ANY.to_be_bytes());
        message.extend_from_slice(&0u32.to_be_bytes());
        message.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        message.extend_from_slice(&rdata);
        // One additional record now: the TSIG.
        message[10..12].copy_from_slice(&1u16.to_be_bytes());
        Ok(message)
    }
}

impl DnsProvider for Rfc2136 {
    fn set_txt<'a>(&'a self, domain: &'a str, name: &'a str, value: &'a str) -> DnsFuture<'a> {
        Box::pin(self.update(domain, name, value, true))
    }

    fn remove_txt<'a>(&'a self, domain: &'a str, name: &'a str, value: &'a str) -> DnsFuture<'a> {
        Box::pin(self.update(domain, name, value, false))
    }

    fn describe(&self) -> String {
        format!("RFC 2136 at {} for zone {} with key {}", self.server, self.zone, self.key_name)
    }
}

fn now_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

/// Writes `name` in DNS wire format (uncompressed labels, root last).
fn write_name(out: &mut Vec<u8>, name: &str) -> Result<(), String> {
    for label in name.trim_end_matches('.').split('.').filter(|label| !label.is_empty()) {
        let length = u8::try_from(label.len()).ok().filter(|length| *length <= 63);
        let length = length.ok_or_else(|| format!("{name:?} has a label longer than 63 characters"))?;
        out.push(length);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    Ok(())
}

fn rcode_text(code: u8) -> String {
    match code {
        1 => "FORMERR (the server could not read the update)".to_owned(),
        2 => "SERVFAIL".to_owned(),
        3 => "NXDOMAIN".to_owned(),
        4 => "NOTIMP (the server does not do dynamic updates)".to_owned(),
        5 => "REFUSED (the key may not update this zone: check allow-update / update-policy)".to_owned(),
        9 => "NOTAUTH (the TSIG key or its secret is wrong, the clock is off, or the server is not authoritative)"
            .to_owned(),
        10 => "NOTZONE (the name is not inside the zone)".to_owned(),
        other => format!("response code {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_written_as_length_prefixed_labels() {
        let mut out = Vec::new();
        write_name(&mut out, "_acme-challenge.example.com.").unwrap();
        assert_eq!(out, b"\x0f_acme-challenge\x07example\x03com\x00");
        assert!(write_name(&mut Vec::new(), &format!("{}.com", "a".repeat(64))).is_err());
    }

    #[test]
    fn an_update_has_one_zone_one_update_and_a_tsig_record() {
        let provider = Rfc2136 {
            server: "127.0.0.1:53".to_owned(),
            zone: "example.com".to_owned(),
            key_name: "opsdeck".to_owned(),
            key_secret: Zeroizing::new(vec![7; 32]),
        };
        let message =
            provider.signed_update("_acme-challenge.example.com.", "token", true, 1_700_000_000).unwrap();
        assert_eq!(u16::from_be_bytes([message[2], message[3]]) >> 11, OPCODE_UPDATE);
        assert_eq!(&message[4..12], &[0, 1, 0, 0, 0, 1, 0, 1]);
        // The TSIG MAC (32 bytes) sits before the original id and two zero fields.
        let tail = &message[message.len() - 6..];
        assert_eq!(&tail[..2], &message[..2]);
    }
}
