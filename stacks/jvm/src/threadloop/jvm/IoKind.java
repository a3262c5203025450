package threadloop.jvm;

/** The kinds of I/O a `/work` request asks for (the contract's `io`). */
public enum IoKind {
    TIMER, POSTGRES, HTTP;

    /** The kind a query's `io` names, or null. */
    public static IoKind parse(String s) {
        for (IoKind k : values()) {
            if (k.flag().equals(s)) {
                return k;
            }
        }
        return null;
    }

    /** Its name in the contract and on the command line. */
    public String flag() {
        return name().toLowerCase();
    }
}
