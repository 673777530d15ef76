#!/usr/bin/env bash
# Only server/core/reply.c picks an HTTP status (STYLE.md: "only reply.c
# picks status codes"). Everywhere else in server/ a reply is made with a
# named helper (reply_text, reply_not_modified, reply_unavailable, ...) or an
# error code of core/errors.def, so statuses and error bodies live in one
# place. Flags, outside reply.c (comments ignored, string contents ignored
# except for status lines):
#   - a 3-digit status literal (100-599) among the arguments of a function
#     whose name contains "reply", before its first string argument (later
#     ones are printf arguments), or of MHD_queue_response;
#   - a status literal assigned to a .status or ->status field;
#   - libmicrohttpd's status constants (MHD_HTTP_OK, MHD_HTTP_NOT_FOUND, ...);
#   - a hand-written status line ("HTTP/1.1 414 ...") in a string.
# Usage: scripts/check/statuses.sh <build-dir> (the build dir is not needed).
set -euo pipefail
cd "$(dirname "$0")/../.."

mapfile -t files < <(git ls-files 'server/*.c' 'server/*.h' | grep -v '^server/core/reply\.c$')

perl -e '
use strict;
use warnings;
my $bad = 0;
sub line_of { my ($text, $pos) = @_; return 1 + (substr($text, 0, $pos) =~ tr/\n//); }
sub report { my ($f, $l, $what) = @_; print "$f:$l: $what\n"; $bad = 1; }
for my $f (@ARGV) {
    open(my $fh, "<", $f) or die "$f: $!";
    local $/;
    my $src = <$fh>;
    close $fh;
    # comments -> blanks (newlines kept, so positions map to lines); strings
    # kept in $code_s, emptied in $code
    my ($code_s, $code) = ("", "");
    while ($src =~ m{\G(?:("(?:\\.|[^"\\\n])*")|(\x27(?:\\.|[^\x27\\\n])*\x27)|(/\*.*?\*/)|(//[^\n]*)|([^"\x27/]+|/))}gsc) {
        if (defined $1) { $code_s .= $1; $code .= "\"" . (" " x (length($1) - 2)) . "\""; }
        elsif (defined $2) { $code_s .= $2; $code .= $2; }
        elsif (defined $3 || defined $4) { (my $c = $+) =~ s/[^\n]/ /g; $code_s .= $c; $code .= $c; }
        else { $code_s .= $5; $code .= $5; }
    }
    while ($code_s =~ m{"[^"\n]*HTTP/1\.[01] [1-5][0-9][0-9]\b}g) {
        report($f, line_of($code_s, $-[0]), "hand-written HTTP status line");
    }
    while ($code =~ m{\bMHD_HTTP_(?!HEADER_|METHOD_|VERSION|POST_ENCODING)[A-Z0-9_]+}g) {
        report($f, line_of($code, $-[0]), "libmicrohttpd status constant $&");
    }
    while ($code =~ m{(?:->|\.)\s*status\s*=(?!=)[^;]*?\b[1-5][0-9][0-9]\b}g) {
        report($f, line_of($code, $-[0]), "status literal assigned");
    }
    while ($code =~ m{\b(\w*reply\w*|MHD_queue_response)\s*\(}g) {
        my ($name, $start, $pos, $depth) = ($1, $-[0], $+[0], 1);
        my @args = ("");
        while ($pos < length($code) && $depth > 0) {
            my $ch = substr($code, $pos++, 1);
            if ($ch eq "(") { $depth++; }
            elsif ($ch eq ")") { $depth--; last if $depth == 0; }
            elsif ($ch eq "," && $depth == 1) { push @args, ""; next; }
            $args[-1] .= $ch;
        }
        for my $a (@args) {
            last if $a =~ /^\s*"/;   # the format string: what follows is data
            (my $top = $a) =~ s/\w+\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)/f()/g;
            if ($top =~ /\b[1-5][0-9][0-9]\b/) {
                report($f, line_of($code, $start), "HTTP status literal passed to $name()");
                last;
            }
        }
    }
}
if ($bad) {
    print "statuses: only server/core/reply.c may pick an HTTP status; use a reply_* helper or an errors.def row\n";
    exit 1;
}
' "${files[@]}"
echo "statuses: ok (${#files[@]} files)"
