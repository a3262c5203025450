package threadloop.spring;

import io.r2dbc.spi.ConnectionFactory;
import org.apache.catalina.core.StandardContext;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.tomcat.TomcatContextCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * The one Spring Boot application: auto-configuration (Tomcat or Netty,
 * HikariCP or R2DBC, the HTTP clients, from the properties Main sets), the
 * contract's fixed controller, and the beans the `/work` controllers share.
 * No component scan: Main adds the one `/work` controller of the mode.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(Common.class)
class App {

    /** Spring Boot's JdbcTemplate (on its HikariCP) and R2DBC ConnectionFactory, where the cell has them. */
    @Bean
    Db db(Setup setup, ObjectProvider<JdbcTemplate> jdbc, ObjectProvider<ConnectionFactory> r2dbc) {
        ConnectionFactory cf = r2dbc.getIfAvailable();
        return new Db(setup.options().dbQuery(), jdbc.getIfAvailable(), cf == null ? null : DatabaseClient.create(cf));
    }

    /**
     * Spring Boot's RestClient.Builder (a plain one in a reactive
     * application, which gets none from Boot) on the JDK's HttpClient, and
     * WebClient.Builder (Reactor Netty), each built only where the mode calls it.
     */
    @Bean
    Downstream downstream(Setup setup, ObjectProvider<RestClient.Builder> rest, ObjectProvider<WebClient.Builder> web) {
        Options o = setup.options();
        if (o.downstream() == null) {
            return new Downstream(null, null, null);
        }
        boolean nonBlocking = o.mode() == Options.Mode.MVC_ASYNC
                || (o.mode() == Options.Mode.WEBFLUX && o.client() == Options.Client.ASYNC);
        // The JDK's HttpClient, always: Boot would pick Reactor Netty's
        // (WebClient brings it), whose blocking form refuses to run on an
        // event loop, and WebFlux's mistake is exactly that call.
        RestClient rc = nonBlocking ? null
                : rest.getIfAvailable(RestClient::builder).requestFactory(new JdkClientHttpRequestFactory()).build();
        WebClient wc = nonBlocking ? web.getObject().build() : null;
        return new Downstream(o.downstream(), rc, wc);
    }

    /**
     * SIGTERM ends a cell after its window: Tomcat's context would wait up
     * to its unloadDelay (2 s) for the async requests still in flight
     * (spring-mvc-async's WebClient calls), 2 s of every such cell for
     * nothing measured. Not used on Netty (WebFlux).
     */
    @Bean
    TomcatContextCustomizer stopWithoutUnloadDelay() {
        return context -> ((StandardContext) context).setUnloadDelay(0);
    }

    @Bean(destroyMethod = "")
    Executors executors(Setup setup) {
        return Executors.of(setup.options().pool());
    }
}
