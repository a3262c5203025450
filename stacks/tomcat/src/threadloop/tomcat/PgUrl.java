package threadloop.tomcat;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * THREADLOOP_PG_URL, as libpq keywords (`host=… port=… user=… password=…
 * dbname=…`, values optionally single-quoted with `\` escapes) or a
 * `postgres://user:password@host:port/dbname?k=v` URL, turned into what
 * pgjdbc takes: a `jdbc:postgresql://host:port/dbname` URL and properties
 * (user, password and the few settings that have a pgjdbc twin; others are
 * ignored). The credentials stay in the properties, never in a message.
 */
record PgUrl(String jdbcUrl, Properties props, String endpoint) {

    static PgUrl parse(String conninfo) {
        Map<String, String> kv = isUrl(conninfo) ? fromUrl(conninfo.trim()) : fromKeywords(conninfo);
        String host = kv.getOrDefault("host", kv.getOrDefault("hostaddr", "localhost"));
        if (host.startsWith("/")) {
            throw new IllegalArgumentException("pgjdbc cannot reach a Unix socket (" + host + "): give a TCP host");
        }
        String port = kv.getOrDefault("port", "5432");
        String user = kv.getOrDefault("user", System.getProperty("user.name"));
        String db = kv.getOrDefault("dbname", user);
        String hostPart = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        String endpoint = hostPart + ":" + port;
        Properties p = new Properties();
        p.setProperty("user", user);
        if (kv.containsKey("password")) {
            p.setProperty("password", kv.get("password"));
        }
        // The runner filters the server's statistics by this name (engine/src/db/mod.rs).
        p.setProperty("ApplicationName", kv.getOrDefault("application_name", "threadloop-cell"));
        copy(kv, "sslmode", p, "sslmode");
        copy(kv, "connect_timeout", p, "connectTimeout");
        copy(kv, "options", p, "options");
        return new PgUrl("jdbc:postgresql://" + endpoint + "/" + db, p, endpoint);
    }

    static boolean isUrl(String s) {
        String t = s.trim();
        return t.startsWith("postgres://") || t.startsWith("postgresql://");
    }

    private static void copy(Map<String, String> kv, String from, Properties p, String to) {
        if (kv.containsKey(from)) {
            p.setProperty(to, kv.get(from));
        }
    }

    private static Map<String, String> fromUrl(String s) {
        URI u = URI.create(s);
        Map<String, String> kv = new LinkedHashMap<>();
        if (u.getRawUserInfo() != null) {
            String[] up = u.getRawUserInfo().split(":", 2);
            kv.put("user", decode(up[0]));
            if (up.length == 2) {
                kv.put("password", decode(up[1]));
            }
        }
        if (u.getHost() != null) {
            String h = u.getHost();
            kv.put("host", h.startsWith("[") ? h.substring(1, h.length() - 1) : h);
        }
        if (u.getPort() >= 0) {
            kv.put("port", Integer.toString(u.getPort()));
        }
        String path = u.getRawPath();
        if (path != null && path.length() > 1) {
            kv.put("dbname", decode(path.substring(1)));
        }
        if (u.getRawQuery() != null) {
            for (String pair : u.getRawQuery().split("&")) {
                int eq = pair.indexOf('=');
                if (eq > 0) {
                    kv.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
                }
            }
        }
        return kv;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** libpq's keyword form: `k=v` pairs, blanks between, `'…'` quoting with `\` escapes. */
    private static Map<String, String> fromKeywords(String s) {
        Map<String, String> kv = new LinkedHashMap<>();
        int i = 0, n = s.length();
        while (true) {
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= n) {
                return kv;
            }
            int start = i;
            while (i < n && s.charAt(i) != '=' && !Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            String key = s.substring(start, i);
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            if (i >= n || s.charAt(i) != '=') {
                throw new IllegalArgumentException("THREADLOOP_PG_URL: keyword `" + key + "` has no `=`");
            }
            i++;
            while (i < n && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
            StringBuilder v = new StringBuilder();
            if (i < n && s.charAt(i) == '\'') {
                i++;
                while (i < n && s.charAt(i) != '\'') {
                    if (s.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    v.append(s.charAt(i++));
                }
                if (i >= n) {
                    throw new IllegalArgumentException("THREADLOOP_PG_URL: unterminated quote after `" + key + "=`");
                }
                i++;
            } else {
                while (i < n && !Character.isWhitespace(s.charAt(i))) {
                    if (s.charAt(i) == '\\' && i + 1 < n) {
                        i++;
                    }
                    v.append(s.charAt(i++));
                }
            }
            kv.put(key, v.toString());
        }
    }
}
