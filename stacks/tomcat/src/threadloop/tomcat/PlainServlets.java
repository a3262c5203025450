package threadloop.tomcat;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/** The contract's fixed answers: `/health` and, for every other path, 404. */
final class PlainServlets {
    private PlainServlets() {
    }

    /** `GET /health`: 200 `ok`, once the connector takes requests. */
    static final class Health extends HttpServlet {
        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            Replies.text(resp, 200, "ok\n");
        }
    }

    /** Tomcat's default servlet mapping (`/`): anything not mapped is a 404, whatever the method. */
    static final class NotFound extends HttpServlet {
        @Override
        protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
            Replies.text(resp, 404, "not found\n");
        }
    }
}
