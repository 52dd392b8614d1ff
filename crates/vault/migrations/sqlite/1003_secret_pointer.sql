-- Which version of a secret is current, and under which name, authenticated:
-- an HMAC under the vault's data key of (vault, secret, name, current
-- version). Swapping two names or pointing a secret back at an old version
-- in the database is then found when the value is read.
ALTER TABLE secrets ADD COLUMN pointer_mac BLOB;
