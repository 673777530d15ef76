/* Unit tests for the webhook URL rules (server/webhooks/webhook_url.c):
 * which addresses count as public, the scheme allow-list, and the pin
 * that makes the connection go to the address checked. IP literals only:
 * no DNS needed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <string.h>

#include "webhooks/webhook_url.h"

static int v4_public(const char *text)
{
    unsigned char a[4];
    assert_int_equal(inet_pton(AF_INET, text, a), 1);
    return webhook_ip_is_public(a, 4);
}

static int v6_public(const char *text)
{
    unsigned char a[16];
    assert_int_equal(inet_pton(AF_INET6, text, a), 1);
    return webhook_ip_is_public(a, 16);
}

static void public_addresses(void **state)
{
    (void)state;
    const char *v4_private[] = {
        "0.0.0.0",     "10.0.0.1",        "100.64.0.1", "100.127.255.255", "127.0.0.1",
        "127.255.0.9", "169.254.169.254", "172.16.0.1", "172.31.255.255",  "192.0.0.8",
        "192.0.2.1",   "192.168.1.1",     "198.18.0.1", "198.51.100.7",    "203.0.113.5",
        "224.0.0.1",   "239.1.1.1",       "240.0.0.1",  "255.255.255.255"};
    for (size_t i = 0; i < sizeof v4_private / sizeof v4_private[0]; i++)
        assert_false(v4_public(v4_private[i]));
    const char *v4_ok[] = {"1.1.1.1",    "8.8.8.8",     "93.184.216.34", "100.63.255.255",
                           "172.32.0.1", "100.128.0.1", "11.0.0.1",      "223.255.255.254"};
    for (size_t i = 0; i < sizeof v4_ok / sizeof v4_ok[0]; i++)
        assert_true(v4_public(v4_ok[i]));
    const char *v6_private[] = {
        "::",      "::1",         "fc00::1",          "fd12:3456::1",    "fe80::1",
        "ff02::1", "2001:db8::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "64:ff9b::a00:1",
        "100::1",  "::127.0.0.1"};
    for (size_t i = 0; i < sizeof v6_private / sizeof v6_private[0]; i++)
        assert_false(v6_public(v6_private[i]));
    assert_true(v6_public("2606:4700:4700::1111"));
    assert_true(v6_public("::ffff:8.8.8.8"));
    unsigned char odd[5] = {0};
    assert_false(webhook_ip_is_public(odd, 5));
}

static void schemes_and_pins(void **state)
{
    (void)state;
    char why[512], pin[600];

    webhook_url_configure("https", 0);
    assert_int_equal(webhook_url_check("http://8.8.8.8/", why, sizeof why, pin, sizeof pin), -1);
    assert_non_null(strstr(why, "scheme 'http'"));
    assert_int_equal(webhook_url_check("HTTPS://8.8.8.8/x", why, sizeof why, pin, sizeof pin), 0);
    assert_string_equal(pin, "8.8.8.8:443:8.8.8.8");
    assert_int_equal(webhook_url_check("https://127.0.0.1:8443/", why, sizeof why, pin, sizeof pin),
                     -1);
    assert_non_null(strstr(why, "non-public"));
    assert_string_equal(pin, "");
    assert_int_equal(webhook_url_check("", why, sizeof why, pin, sizeof pin), -1);
    assert_int_equal(webhook_url_check("  ", why, sizeof why, pin, sizeof pin), -1);
    assert_int_equal(webhook_url_check("no scheme", why, sizeof why, pin, sizeof pin), -1);
    assert_int_equal(webhook_url_check("https://", why, sizeof why, pin, sizeof pin), -1);

    webhook_url_configure("http, https", 1);
    assert_int_equal(webhook_url_check("http://127.0.0.1:9/", why, sizeof why, pin, sizeof pin), 0);
    assert_string_equal(pin, "127.0.0.1:9:127.0.0.1");
    assert_int_equal(webhook_url_check("https://[::1]:8443/", why, sizeof why, pin, sizeof pin), 0);
    assert_string_equal(pin, "[::1]:8443:[::1]");
    assert_int_equal(webhook_url_check("ftp://127.0.0.1/", why, sizeof why, pin, sizeof pin), -1);
    webhook_url_configure("https", 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(public_addresses),
        cmocka_unit_test(schemes_and_pins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
