/* Run ids from libuuid's random (v4) uuids, and MLflow-style run names. */
#include "ids.h"

#include <stdio.h>
#include <string.h>
#include <uuid/uuid.h>

static const char *const adjectives[] = {
    "able",   "bold",  "brave", "bright", "calm", "clever", "crisp", "eager", "fair",  "fast",
    "gentle", "glad",  "grand", "keen",   "kind", "lively", "lucid", "merry", "neat",  "nimble",
    "placid", "proud", "quick", "quiet",  "rare", "sharp",  "shy",   "sleek", "smart", "steady",
    "sunny",  "swift", "tidy",  "vivid",  "warm", "wise",   "witty", "zesty"};

static const char *const nouns[] = {"ant",  "bat",  "bear", "bee",  "carp", "cat",  "colt", "crab",
                                    "crow", "deer", "dove", "duck", "elk",  "fox",  "frog", "goat",
                                    "hare", "hawk", "jay",  "koi",  "lamb", "lark", "lynx", "mole",
                                    "moth", "newt", "owl",  "ram",  "seal", "slug", "swan", "toad",
                                    "vole", "wasp", "wolf", "wren", "yak"};

void ids_new_run_id(char out[33])
{
    uuid_t u;
    char text[37];
    size_t n = 0;

    uuid_generate_random(u);
    uuid_unparse_lower(u, text);
    for (size_t i = 0; text[i]; i++)
        if (text[i] != '-')
            out[n++] = text[i];
    out[n] = '\0';
}

void ids_random_run_name(char *out, size_t len)
{
    uuid_t u;

    uuid_generate_random(u); /* a cheap source of random bytes already linked in */
    size_t a = u[0] % (sizeof adjectives / sizeof adjectives[0]);
    size_t b = u[1] % (sizeof nouns / sizeof nouns[0]);
    unsigned n = ((unsigned)u[2] << 8 | u[3]) % 1000;
    snprintf(out, len, "%s-%s-%u", adjectives[a], nouns[b], n);
}

void ids_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}
