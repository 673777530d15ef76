/* Identifiers of the filter language: "<type>.<key>" split at the first dot,
 * bare attribute names, backticked and double-quoted keys, attribute
 * aliases, and which comparators and values each kind of field accepts.
 * Internal to server/search/. */
#ifndef ET_SERVER_SEARCH_SEARCH_IDENT_H
#define ET_SERVER_SEARCH_SEARCH_IDENT_H

#include "search.h"
#include "search_lex.h"

enum ident_use {
    IDENT_FILTER,
    IDENT_ORDER,
};

enum ident_value {
    IV_NUMBER,
    IV_STRING,
};

/* Parses an identifier at toks->tok[*pos], advancing *pos. Resolves type
 * prefixes and attribute aliases for the dialect; refuses unknown types and
 * attributes, and fields that cannot be used for `use`. Returns 0 or -1
 * with *err set. */
int ident_parse(const char *src, const struct token_list *toks, int *pos,
                enum search_dialect dialect, enum ident_use use, struct arena *arena,
                struct search_ident *out, struct search_error *err);

/* Checks that op is allowed for the identifier; op_offset locates the
 * comparator for the message. Returns 0 or -1 with *err set. */
int ident_check_op(const char *src, int op_offset, const struct search_ident *id, enum search_op op,
                   struct search_error *err);

/* What kind of literal the identifier compares against. */
enum ident_value ident_value_kind(const struct search_ident *id);

#endif
