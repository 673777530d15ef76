/* Webhook secrets at rest: sealed with AES-256-GCM under a key derived
 * (SHA-256) from the contents of --webhook-secret-key-file, bound to the
 * webhook's id, when that setting is given; stored as given otherwise
 * (docs/security.md says what each protects against). */
#ifndef ET_SERVER_WEBHOOKS_SECRET_BOX_H
#define ET_SERVER_WEBHOOKS_SECRET_BOX_H

/* Reads the key file (NULL: no key, secrets are stored as given). Returns
 * 0, or -1 (logged) when the file cannot be read or holds fewer than 16
 * bytes. Call once before any thread seals or opens. */
int secret_box_configure(const char *key_file) __attribute__((warn_unused_result));

/* Whether a key is configured. */
int secret_box_enabled(void);

/* Seals plain for the webhook id into a new string (free()): "v1:" and the
 * base64 of nonce, ciphertext and tag. Returns 0, or -1 without a key or
 * on an OpenSSL failure. */
int secret_box_seal(const char *plain, const char *id, char **out)
    __attribute__((warn_unused_result));

/* Opens what secret_box_seal made for the same id into a new string
 * (free()). Returns 0, or -1 (no key, another key, another id, or damaged). */
int secret_box_open(const char *sealed, const char *id, char **out)
    __attribute__((warn_unused_result));

#endif
