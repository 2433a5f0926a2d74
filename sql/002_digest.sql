-- HTTP Digest (RFC 7616): HA1 = H(user ":" realm ":" password) for MD5 and
-- SHA-256, kept beside the scrypt hash.  Set whenever a password is set;
-- NULL for a user whose password was set before this migration (Digest then
-- refuses that user until the password is set again; Basic still works).
ALTER TABLE users ADD COLUMN ha1_md5 BLOB;
ALTER TABLE users ADD COLUMN ha1_sha256 BLOB;
