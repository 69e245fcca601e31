#!/usr/bin/env bash
# A real WordPress on loopback for the wordpress plugin's tests (docs/networks/wordpress.md,
# "Testing against a real WordPress"). Installs Debian's wordpress, mariadb-server and
# php-cli when they are missing, starts MariaDB and php's built-in web server on
# 127.0.0.1:$TACT_WORDPRESS_PORT (default 18089), installs WordPress with an administrator
# and an Application Password, and prints one line on stdout:
#
#   http://USER:APP_PASSWORD@127.0.0.1:PORT
#
# which is what the tests read from TACT_TEST_WORDPRESS. By hand:
#
#   sudo .ci/wordpress.sh >/tmp/wp.url && export TACT_TEST_WORDPRESS=$(cat /tmp/wp.url)
#
# (Not $(sudo .ci/wordpress.sh): the servers it leaves running would hold the command
# substitution's pipe open, and the shell would wait for them.)
#   go test -race -count=1 -run WordPress ./plugins/wordpress/ ./cmd/tactd/
#   sudo .ci/wordpress.sh stop
#
# Everything else goes to stderr. It exits 1, having said what it skipped and why, when
# the packages cannot be installed or the server does not come up: the tests then skip.
# Running it again while the server runs prints the same line. It needs root (apt-get,
# /etc/wordpress): run it on a throwaway machine, as CI does.
set -euo pipefail

port=${TACT_WORDPRESS_PORT:-18089}
state=${TACT_WORDPRESS_DIR:-/var/lib/tact-wordpress-test}
wp=/usr/share/wordpress
host=127.0.0.1
started=$SECONDS

say() { echo "wordpress.sh: $*" >&2; }
skip() {
  say "SKIPPED the real WordPress: $*"
  say "the tests against a real WordPress will skip (TACT_TEST_WORDPRESS is not set)"
  exit 1
}

if [[ ${1:-} == stop ]]; then
  [[ -f $state/php.pid ]] && kill "$(cat "$state/php.pid")" 2>/dev/null || true
  rm -f "$state/php.pid"
  say "php server stopped (MariaDB keeps running: service mariadb stop)"
  exit 0
fi

[[ $(id -u) -eq 0 ]] || skip "needs root, to install packages and write /etc/wordpress (run it with sudo)"

# php_get URL [USER:PASS]: the body of a GET, or nothing; php is the one HTTP client we
# are sure to have once the packages are in.
php_get() {
  php -r '
    $h = isset($argv[2]) ? "Authorization: Basic " . base64_encode($argv[2]) . "\r\n" : "";
    $c = stream_context_create(["http" => ["header" => $h, "timeout" => 10, "ignore_errors" => false]]);
    $b = @file_get_contents($argv[1], false, $c);
    if ($b === false) exit(1);
    echo $b;' "$@"
}

# Already running (a second call, or by hand): the same answer.
if [[ -f $state/url && -f $state/php.pid ]] && kill -0 "$(cat "$state/php.pid")" 2>/dev/null; then
  url=$(cat "$state/url")
  creds=${url#http://}
  creds=${creds%@*}
  if php_get "http://$host:$port/wp-json/wp/v2/users/me" "$creds" >/dev/null; then
    say "already running on $host:$port"
    echo "$url"
    exit 0
  fi
fi

# 1. Packages.
need=()
[[ -f $wp/wp-settings.php ]] || need+=(wordpress)
command -v php >/dev/null 2>&1 || need+=(php-cli)
php -m 2>/dev/null | grep -qx mysqli || need+=(php-mysql)
command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
if ((${#need[@]})); then
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  t0=$SECONDS
  # wordpress recommends apache2; php's built-in server is all the tests need.
  if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; } 2>&1 | tail -5 >&2; then
    skip "apt-get install ${need[*]} failed"
  fi
  [[ -f $wp/wp-settings.php ]] && command -v php >/dev/null && command -v mariadbd >/dev/null ||
    skip "apt-get did not install ${need[*]}"
  say "packages installed in $((SECONDS - t0))s"
fi
mkdir -p "$state"
chmod 700 "$state"

# 2. MariaDB, through its init script (no systemd in containers), else mysqld_safe.
if ! mariadb-admin ping >/dev/null 2>&1; then
  say "starting MariaDB"
  service mariadb start >&2 2>&1 || (setsid mysqld_safe >"$state/mysqld.log" 2>&1 &)
  for _ in $(seq 1 100); do
    mariadb-admin ping >/dev/null 2>&1 && break
    sleep 0.2
  done
  mariadb-admin ping >/dev/null 2>&1 || skip "MariaDB did not start (see $state/mysqld.log or /var/log/mysql)"
fi
dbpass=$(cat "$state/dbpass" 2>/dev/null || { head -c 18 /dev/urandom | base64 | tr -d '+/=' | tee "$state/dbpass"; })
mariadb -uroot <<SQL || skip "could not create the database"
CREATE DATABASE IF NOT EXISTS tact_wordpress CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'tact_wordpress'@'localhost' IDENTIFIED BY '$dbpass';
ALTER USER 'tact_wordpress'@'localhost' IDENTIFIED BY '$dbpass';
GRANT ALL ON tact_wordpress.* TO 'tact_wordpress'@'localhost';
SQL

# 3. The site's configuration: Debian's wp-config.php reads /etc/wordpress/config-HOST.php.
# WP_ENVIRONMENT_TYPE local lets Application Passwords work over plain http on loopback.
salt() { head -c 32 /dev/urandom | base64 | tr -d "'\\\\"; }
cat >/etc/wordpress/config-$host.php <<PHP
<?php
// Written by tact's .ci/wordpress.sh for tests on loopback: not a site to keep.
define('DB_NAME', 'tact_wordpress');
define('DB_USER', 'tact_wordpress');
define('DB_PASSWORD', '$dbpass');
define('DB_HOST', 'localhost');
define('DB_CHARSET', 'utf8mb4');
define('WP_HOME', 'http://$host:$port');
define('WP_SITEURL', 'http://$host:$port');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
define('AUTH_KEY', '$(salt)');
define('SECURE_AUTH_KEY', '$(salt)');
define('LOGGED_IN_KEY', '$(salt)');
define('NONCE_KEY', '$(salt)');
define('AUTH_SALT', '$(salt)');
define('SECURE_AUTH_SALT', '$(salt)');
define('LOGGED_IN_SALT', '$(salt)');
define('NONCE_SALT', '$(salt)');
PHP
chmod 640 /etc/wordpress/config-$host.php

# 4. Install (wp_install, as the install form does), pretty permalinks so that /wp-json/
# routes, and a fresh Application Password for the administrator.
adminpass=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
creds=$(HTTP_HOST=$host php -d display_errors=stderr -r '
  $_SERVER["HTTP_HOST"] = getenv("HTTP_HOST");
  $_SERVER["REQUEST_URI"] = "/";
  define("WP_INSTALLING", true);
  require "/usr/share/wordpress/wp-load.php";
  require_once ABSPATH . "wp-admin/includes/upgrade.php";
  if (!is_blog_installed()) {
    wp_install("tact test blog", "tact", "tact@example.invalid", false, "", $argv[1]);
  }
  update_option("permalink_structure", "/%postname%/");
  flush_rewrite_rules(false);
  $user = get_user_by("login", "tact");
  foreach (WP_Application_Passwords::get_user_application_passwords($user->ID) as $item) {
    if ($item["name"] === "tact-ci") WP_Application_Passwords::delete_application_password($user->ID, $item["uuid"]);
  }
  $made = WP_Application_Passwords::create_new_application_password($user->ID, ["name" => "tact-ci"]);
  if (is_wp_error($made)) { fwrite(STDERR, $made->get_error_message() . "\n"); exit(1); }
  echo "tact:" . str_replace(" ", "", $made[0]);
' "$adminpass") || skip "the WordPress install failed (the php output is above)"

# 5. php's built-in server. The router sends what is not a file to index.php, as the
# rewrite rules of Apache or nginx would.
cat >"$state/router.php" <<'PHP'
<?php
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path !== '/' && is_file($_SERVER['DOCUMENT_ROOT'] . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
PHP
[[ -f $state/php.pid ]] && kill "$(cat "$state/php.pid")" 2>/dev/null || true
(cd "$wp" && PHP_CLI_SERVER_WORKERS=4 setsid php -S "$host:$port" -t "$wp" "$state/router.php" </dev/null >"$state/php.log" 2>&1 &
  echo $! >"$state/php.pid")
for _ in $(seq 1 100); do
  php_get "http://$host:$port/wp-json/wp/v2/users/me" "$creds" >/dev/null && break
  sleep 0.1
done
php_get "http://$host:$port/wp-json/wp/v2/users/me" "$creds" >/dev/null ||
  skip "WordPress does not answer on $host:$port with the Application Password (see $state/php.log)"

url="http://$creds@$host:$port"
echo "$url" >"$state/url"
chmod 600 "$state/url"
say "WordPress $(php -r 'include "/usr/share/wordpress/wp-includes/version.php"; echo $wp_version;') on http://$host:$port, ready in $((SECONDS - started))s"
echo "$url"
