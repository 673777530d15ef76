/* AES-256-GCM sealing of webhook secrets (OpenSSL EVP). A fresh random
 * 96-bit nonce per seal; the webhook id is the additional authenticated
 * data, so a sealed secret copied to another webhook does not open. */
#include "secret_box.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/b64.h"
#include "core/log.h"

#define NONCE_LEN 12
#define TAG_LEN 16
#define KEY_FILE_MAX 4096
#define KEY_FILE_MIN 16
#define PREFIX "v1:"

static unsigned char key[SHA256_DIGEST_LENGTH];
static int have_key;

int secret_box_configure(const char *key_file)
{
    unsigned char buf[KEY_FILE_MAX];
    have_key = 0;
    if (key_file == NULL)
        return 0;
    FILE *f = fopen(key_file, "rb");
    if (f == NULL) {
        log_error("webhooks: cannot read the secret key file %s", key_file);
        return -1;
    }
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < KEY_FILE_MIN) {
        log_error("webhooks: the secret key file %s holds fewer than %d bytes", key_file,
                  KEY_FILE_MIN);
        OPENSSL_cleanse(buf, sizeof buf);
        return -1;
    }
    SHA256(buf, n, key);
    OPENSSL_cleanse(buf, sizeof buf);
    have_key = 1;
    return 0;
}

int secret_box_enabled(void)
{
    return have_key;
}

int secret_box_seal(const char *plain, const char *id, char **out)
{
    size_t len = strlen(plain);
    unsigned char *raw = malloc(NONCE_LEN + len + TAG_LEN);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0, rc = -1;

    *out = NULL;
    if (!have_key || raw == NULL || ctx == NULL || RAND_bytes(raw, NONCE_LEN) != 1)
        goto out;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
        EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)id, (int)strlen(id)) != 1 ||
        EVP_EncryptUpdate(ctx, raw + NONCE_LEN, &n, (const unsigned char *)plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(ctx, raw + NONCE_LEN + n, &fin) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + NONCE_LEN + len) != 1)
        goto out;
    char *text = malloc(strlen(PREFIX) + B64_ENCODED_LEN(NONCE_LEN + len + TAG_LEN) + 1);
    if (text == NULL)
        goto out;
    memcpy(text, PREFIX, strlen(PREFIX));
    b64_encode(text + strlen(PREFIX), raw, NONCE_LEN + len + TAG_LEN);
    *out = text;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    free(raw);
    return rc;
}

int secret_box_open(const char *sealed, const char *id, char **out)
{
    size_t slen = strlen(sealed), rawlen = 0, len = 0;
    unsigned char *raw = NULL;
    char *plain = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    int n = 0, fin = 0, rc = -1;

    *out = NULL;
    if (!have_key || strncmp(sealed, PREFIX, strlen(PREFIX)) != 0)
        return -1;
    sealed += strlen(PREFIX);
    slen -= strlen(PREFIX);
    raw = malloc(B64_DECODED_MAX(slen) + 1);
    if (raw == NULL || b64_decode(sealed, slen, raw, B64_DECODED_MAX(slen) + 1, &rawlen) != 0 ||
        rawlen < NONCE_LEN + TAG_LEN)
        goto out;
    len = rawlen - NONCE_LEN - TAG_LEN;
    plain = malloc(len + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (plain == NULL || ctx == NULL ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)id, (int)strlen(id)) != 1 ||
        EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, raw + NONCE_LEN, (int)len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + NONCE_LEN + len) != 1 ||
        EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &fin) != 1)
        goto out;
    plain[len] = '\0';
    if (strlen(plain) != len)
        goto out; /* a NUL inside: not something seal made */
    *out = plain;
    plain = NULL;
    rc = 0;
out:
    EVP_CIPHER_CTX_free(ctx);
    if (plain != NULL)
        OPENSSL_cleanse(plain, len + 1);
    free(plain);
    free(raw);
    return rc;
}
