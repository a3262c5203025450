package threadloop.spring;

import threadloop.jvm.IoKind;

/** A failed I/O whose message is the 500's reason (the kinds: threadloop.jvm.IoKind). */
final class Io {
    private Io() {
    }

    /** A failed I/O: the reason names the kind (`postgres: …`, `http: …`). */
    static final class Failure extends RuntimeException {
        Failure(String reason) {
            super(reason, null, false, false);
        }

        /** The exception's class and message, following the cause chain while there is no message, on one line. */
        static Failure of(IoKind kind, Throwable e) {
            if (e instanceof Failure f) {
                return f;
            }
            Throwable t = e;
            while ((t instanceof java.util.concurrent.CompletionException
                    || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
                t = t.getCause();
            }
            if (t instanceof Failure f) {
                return f;
            }
            StringBuilder m = new StringBuilder(t.getClass().getSimpleName());
            while (t.getMessage() == null && t.getCause() != null) {
                t = t.getCause();
                m.append(": ").append(t.getClass().getSimpleName());
            }
            if (t.getMessage() != null) {
                m.append(": ").append(t.getMessage());
            }
            return new Failure(kind.flag() + ": " + String.join(" ", m.toString().trim().split("\\s+")));
        }
    }

    static Failure noDatabase() {
        return new Failure("postgres: no database: start the stack with --db-pool or --db-query and THREADLOOP_PG_HOST");
    }

    static Failure noDownstream() {
        return new Failure("http: no downstream: start the stack with --downstream HOST:PORT");
    }

    static long nanos(double ms) {
        return Math.round(ms * 1e6);
    }
}
