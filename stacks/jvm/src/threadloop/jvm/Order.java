package threadloop.jvm;

import java.util.regex.Pattern;

/**
 * One `/work` request of the contract, read from its query string the way
 * engine/src/wire/contract.rs reads it (no percent-decoding, the last of a
 * repeated parameter wins, unknown parameters ignored), with the same
 * reasons for a 400.
 */
public record Order(int klass, double cpuMs, IoKind io, double ioMs) {

    /** A `/work` request that cannot be read: answered 400 with the message. */
    public static final class BadOrder extends Exception {
        BadOrder(String reason) {
            super(reason, null, false, false);
        }
    }

    /** A plain decimal number (no `NaN`, `Infinity`, hex or type suffix, which Java would accept). */
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    public static Order parse(String query) throws BadOrder {
        String klass = null, cpuMs = null, io = null, ioMs = null;
        for (String pair : (query == null ? "" : query).split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            String value = eq < 0 ? "" : pair.substring(eq + 1);
            switch (key) {
                case "class" -> klass = value;
                case "cpu_ms" -> cpuMs = value;
                case "io" -> io = value;
                case "io_ms" -> ioMs = value;
                default -> { }
            }
        }
        if (klass == null) {
            throw new BadOrder("missing parameter `class`");
        }
        if (io == null) {
            throw new BadOrder("missing parameter `io`");
        }
        // Checked in contract.rs's order, so both give the same first reason.
        int k = classIndex(klass);
        double cpu = ms("cpu_ms", cpuMs);
        IoKind kind = IoKind.parse(io);
        if (kind == null) {
            throw invalid("io", io, "timer, http or postgres");
        }
        return new Order(k, cpu, kind, ms("io_ms", ioMs));
    }

    /** The body of a served order. */
    public String answer() {
        return "ok class=" + klass + "\n";
    }

    private static int classIndex(String v) throws BadOrder {
        if (v.matches("\\+?\\d+")) {
            java.math.BigInteger n = new java.math.BigInteger(v);
            if (n.bitLength() <= 16) {
                return n.intValue();
            }
        }
        throw invalid("class", v, "a class index (0 to 65535)");
    }

    private static double ms(String name, String v) throws BadOrder {
        if (v == null) {
            throw new BadOrder("missing parameter `" + name + "`");
        }
        if (DECIMAL.matcher(v).matches()) {
            double x = Double.parseDouble(v);
            if (Double.isFinite(x) && x >= 0) {
                return x;
            }
        }
        throw invalid(name, v, "a non-negative number of milliseconds");
    }

    private static BadOrder invalid(String name, String value, String expected) {
        return new BadOrder("parameter `" + name + "`: `" + value + "` is not " + expected);
    }
}
